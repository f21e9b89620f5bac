/** What the `toolchain` rule's two rewrites take and give (plan.ts chooses between them). */
import type { Instruction, Run } from 'dockerfile-ast';
import type { ToolchainFacts } from '../../model/toolchain.js';
import type { PlanContext } from '../context.js';
import type { InstallTool } from '../package-commands.js';
import type { TextEdit } from '../rewrite.js';

export interface ToolchainInput {
  context: PlanContext;
  facts: ToolchainFacts;
  /** 1-based lines of the instructions whose layers the findings say hold the toolchain. */
  toolchainLines: readonly number[];
  /** Bytes of the layer the instruction at a line made, when measured. */
  layerBytes: (line: number) => number | undefined;
  /** 1-based lines of the RUNs the prune is appended to. */
  prunedRuns: ReadonlySet<number>;
}

/** An install of OS packages in the stage being shipped. */
export interface InstallRun {
  run: Run;
  tool: InstallTool;
  /** The stage's instructions, FROM first, and the install's position among them. */
  instructions: readonly Instruction[];
  position: number;
}

export interface ToolchainRewrite {
  way: 'same-lifetime' | 'builder-stage';
  edits: TextEdit[];
  /** Same lifetime: the purge, for the end of this RUN, after the prune and the other cleanups. */
  append?: { run: Run; command: string };
  /** Same lifetime: the install RUN now runs inside `to`; what is appended to it goes there. */
  moved?: { from: Run; to: Run };
  notes: string[];
  /** 1-based lines of the instructions whose bytes the rewrite removes. */
  lines: number[];
}

/** A rewrite, or why this way does not fit the stage. */
export type RewriteAttempt = ToolchainRewrite | { reason: string };
