/** What a slim run leaves for the user: the slimmed Dockerfile and a patch to make it permanent. */
import { mkdir, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { newFileDiff, unifiedDiff } from '../dockerfile/diff.js';
import type { SlimPlan } from '../dockerfile/plan.js';
import type { ReportFiles } from '../model/report.js';
import type { Settings } from '../model/settings.js';
import { workspacePath } from '../model/workspace.js';
import { loadPruneScript, PRUNE_SCRIPT_PATH } from '../slim/script.js';

export interface SlimmedFiles {
  files: Required<Pick<ReportFiles, 'dockerfile' | 'patch'>>;
  patch: string;
}

export async function writeSlimmedFiles(
  settings: Settings,
  dockerfileText: string,
  plan: SlimPlan,
  /** The prune script the build used (with its trace); default the plain one. */
  script: string = loadPruneScript(),
): Promise<SlimmedFiles> {
  const patch = plan.edits.length === 0 ? '' : slimPatch(settings, dockerfileText, plan, script);
  const files = {
    dockerfile: path.join(settings.outputDir, `${path.basename(settings.file)}.slimpy`),
    patch: path.join(settings.outputDir, 'slimpy.patch'),
  };
  await mkdir(settings.outputDir, { recursive: true });
  await writeFile(files.dockerfile, plan.text);
  await writeFile(files.patch, patch);
  return { files, patch };
}

/** `script`: the prune script the build used (with its trace), which the patch adds. */
function slimPatch(
  settings: Settings,
  dockerfileText: string,
  plan: SlimPlan,
  script: string,
): string {
  const dockerfileRel = workspacePath(settings.workspace, settings.file);
  const scriptRel = workspacePath(
    settings.workspace,
    path.join(settings.context, PRUNE_SCRIPT_PATH),
  );
  const scriptDiff = plan.usesPruneScript ? newFileDiff(scriptRel, script) : '';
  return unifiedDiff(dockerfileText, plan.text, dockerfileRel) + scriptDiff;
}
