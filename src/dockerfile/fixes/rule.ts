/**
 * The shape every fix rule has. A fix rule rewrites the user's own instructions so that what the
 * findings measured on the original image leaves the image: it is a pure function from the
 * Dockerfile (parsed, with its stages), the findings and the facts measured on the original image
 * to text edits, notes and what it left alone. Rules are registered in one table (index.ts).
 */
import type { Run } from 'dockerfile-ast';
import type { FixFacts, FixRule, LayerFacts } from '../../model/fixes.js';
import type { Finding } from '../../model/report.js';
import type { PlanContext } from '../context.js';
import type { TextEdit } from '../rewrite.js';

/** Everything a rule plans from; the same object for every rule. */
export interface FixInput {
  /** The parsed Dockerfile, its stages, the built stage's chain, the options (see context.ts). */
  context: PlanContext;
  /** What the findings measured on the original image, each with its Dockerfile line. */
  findings: readonly Finding[];
  /** Per-layer facts of the original image (src/measure/fix-facts.ts). */
  facts: FixFacts;
  /**
   * 1-based lines of the RUNs the prune is appended to (same-run strategy): a command a rule
   * appends there goes after the prune, joined with `&&`.
   */
  prunedRuns: ReadonlySet<number>;
  /** True when the prune runs somewhere: in a derived stage or in an installing RUN. */
  prunes: boolean;
}

/** A command to run at the end of a RUN, inside its layer. */
export interface RunAppend {
  run: Run;
  command: string;
  /**
   * Where it goes among the commands several rules append to one RUN: `prune` commands first,
   * then `purge` (package removals, whose package-manager runs rewrite caches), then `cleanup`.
   */
  order: 'prune' | 'purge' | 'cleanup';
  /** The report's sentence for it, kept only when the command could be appended. */
  note: string;
  /** What the RUN is not given when it cannot be appended to: `leaves apt package lists in the image`. */
  what: string;
  /** Edits that go with the command, and only with it (the prune script's mount on the RUN). */
  with?: TextEdit[];
}

/** What one rule plans. Offsets of `edits` index the original Dockerfile text. */
export interface FixRulePlan {
  edits: TextEdit[];
  /** Commands for the end of RUNs; the framework joins those of one RUN into one edit. */
  appends: RunAppend[];
  /** Words for the prune script wherever it runs (e.g. `--dedupe`). */
  scriptArgs: string[];
  /**
   * True when the rule's `edits` run the prune script (its file must then be in the build); a
   * `prune` append sets it by itself once appended.
   */
  runsPruneScript: boolean;
  /** One sentence per change, for the report. */
  notes: string[];
  /** What the rule could have done but did not, and why. */
  skipped: string[];
  /**
   * 1-based lines (original Dockerfile) of the instructions whose bytes the rule removes through
   * `edits`; the lines of `appends` are added by the framework once they are appended.
   */
  lines: number[];
  /** RUNs the rule's edits merge into another RUN: what is appended to `from` goes to `to`. */
  moves?: Array<{ from: Run; to: Run }>;
  /** How many stages the rule's edits add to the Dockerfile. */
  stagesAdded?: number;
}

export type FixPlanner = (input: FixInput) => FixRulePlan;

/** A rule's outcome as the plan reports it. */
export interface FixOutcome {
  rule: FixRule;
  lines: number[];
}

export function emptyFixPlan(): FixRulePlan {
  return {
    edits: [],
    appends: [],
    scriptArgs: [],
    runsPruneScript: false,
    notes: [],
    skipped: [],
    lines: [],
  };
}

/** The facts of the layer an instruction at `line` made, when the layer was mapped to it. */
export function layerAt(facts: FixFacts, line: number): LayerFacts | undefined {
  return facts.layers.find((layer) => layer.line === line);
}
