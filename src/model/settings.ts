/** The settings of one run, already validated (src/inputs.ts parses them). */
import type { PruneCategory } from './categories.js';
import type { FixRule } from './fixes.js';

export type Mode = 'slim' | 'measure';
export type BudgetMetric = 'uncompressed' | 'compressed';
/**
 * When the action comments: `auto` on pull_request events, `always`, `never`, or `artifact`: the
 * comment and the PR number go into a workflow artifact that a `workflow_run` workflow posts
 * (`mode: post-comment`), for pull requests from forks, whose token cannot comment.
 */
export type CommentMode = 'auto' | 'always' | 'never' | 'artifact';
export type Growth = { kind: 'percent'; value: number } | { kind: 'bytes'; value: number };

/** The settings of one run: what the pipeline needs, already validated. */
export interface Settings {
  /** The repository checkout; paths in the patch and report are relative to it. */
  workspace: string;
  context: string;
  file: string;
  /**
   * An image already in the engine (name or id) to take as the original instead of building the
   * Dockerfile: measure mode builds nothing, slim mode builds only the slimmed variant.
   */
  image?: string;
  target?: string;
  buildArgs: Record<string, string>;
  network: string;
  mode: Mode;
  smokeTest: string;
  smokeTimeoutMs: number;
  strip: boolean;
  prune: PruneCategory[];
  /** Fix rules applied to the user's own instructions (src/model/fixes.ts). */
  fix: FixRule[];
  keep: string[];
  /** Distributions (normalised names) whose files `unused` never removes. */
  keepPackages: string[];
  strict: boolean;
  budget?: number;
  budgetMetric: BudgetMetric;
  maxGrowth?: Growth;
  /** Where slimpy writes the slimmed Dockerfile, the patch and the report. */
  outputDir: string;
  /** Directory of the per-layer compressed-size cache. */
  cacheDir: string;
  tag?: string;
  /** The image's identity across runs: the history key and the sticky comment's marker. */
  commentKey: string;
  /** When the action comments on the pull request. */
  comment: CommentMode;
  /**
   * The login whose comments are slimpy's (with the marker); default: the token's own identity
   * (see src/report/comment-author.ts).
   */
  commentAuthor?: string;
  /** Compute compressed sizes (always when the budget metric is compressed). */
  compressed: boolean;
  /** Labels every object this run creates (cleanup finds them by it). */
  runId: string;
}
