/**
 * What a slim run leaves for the user: the slimmed Dockerfile and a patch that makes it
 * permanent, the way a team would commit it. The patch builds with the builder the original
 * Dockerfile needs (a COPY brings the script in; RUN --mount only where the Dockerfile already
 * needs BuildKit), carries the prune script generated for the chosen rules alone
 * (src/slim/committed-script.ts), and names its files relative to the repository.
 *
 * Fix rules go into the patch as the build planned them, for the builder the original needs: on
 * the classic builder the rules that need BuildKit (`install-inputs`' RUN --mount) stay findings,
 * and the RUNs that prune fewer rules (`earlier-layers`) or link duplicates (`duplicates`) say so
 * to the committed script. A variant that goes further than the committed script can say
 * (`unused`, with its trace's list) gets the Dockerfile and the prune script its build used.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { buildKitOnlyUses } from '../dockerfile/buildkit-only.js';
import { newFileDiff, unifiedDiff } from '../dockerfile/diff.js';
import { planSlim, type FixOptions, type SlimPlan } from '../dockerfile/plan.js';
import { ignoredByDockerignore, parseDockerignore } from '../engine/context.js';
import type { ReportFiles } from '../model/report.js';
import type { Settings } from '../model/settings.js';
import { committedPruneScript } from '../slim/committed-script.js';
import { PRUNE_SCRIPT_PATH, pruneScriptArgs, type ScriptSettings } from '../slim/script.js';

export interface SlimmedFiles {
  files: Required<Pick<ReportFiles, 'dockerfile' | 'patch'>>;
  patch: string;
}

/** What the slimmed build ran: its plan, its prune script's text, the fix rules it planned. */
export interface BuiltRewrite {
  plan: SlimPlan;
  scriptText: string;
  fixes?: FixOptions;
}

export async function writeSlimmedFiles(
  settings: Settings,
  dockerfileText: string,
  script: ScriptSettings,
  built?: BuiltRewrite,
): Promise<SlimmedFiles> {
  const asBuilt = built !== undefined && needsBuiltRewrite(script);
  const fixes = built?.plan.fixes.length ? built.fixes : undefined;
  const plan = asBuilt ? built.plan : committedPlan(settings, dockerfileText, script, fixes);
  const patch =
    plan.strategy === 'none'
      ? ''
      : asBuilt
        ? await builtPatch(settings, dockerfileText, built)
        : await slimPatch(settings, dockerfileText, plan, script);
  const files = {
    dockerfile: path.join(settings.outputDir, `${path.basename(settings.file)}.slimpy`),
    patch: path.join(settings.outputDir, 'slimpy.patch'),
  };
  await mkdir(settings.outputDir, { recursive: true });
  await writeFile(files.dockerfile, plan.text);
  await writeFile(files.patch, patch);
  return { files, patch };
}

/**
 * The rewrite as committed: the rules are in the generated script, so it takes only roots (and,
 * with fix rules, the rules by name, which a RUN of `earlier-layers` narrows); the script comes in
 * by COPY unless the Dockerfile needs BuildKit anyway (the classic builder refuses RUN --mount).
 */
export function committedPlan(
  settings: Settings,
  dockerfileText: string,
  script: ScriptSettings,
  fixes?: FixOptions,
): SlimPlan {
  return planSlim(dockerfileText, {
    target: settings.target,
    buildArgs: settings.buildArgs,
    buildKit: buildKitOnlyUses(dockerfileText).length > 0,
    scriptPath: PRUNE_SCRIPT_PATH,
    // The keep globs are written into the committed script; it takes no --keep.
    scriptArgs: fixes ? pruneScriptArgs({ ...script, keep: [] }) : [],
    ...(fixes ? { fixes } : {}),
  });
}

/** The committed rewrite: the plan for the committed script, and that script. */
function slimPatch(
  settings: Settings,
  dockerfileText: string,
  plan: SlimPlan,
  script: ScriptSettings,
): Promise<string> {
  const text = committedPruneScript({
    ...script,
    shipsWholeFilesystem: plan.sameRun.length > 0,
    dedupe: plan.fixes.some((outcome) => outcome.rule === 'duplicates'),
  });
  return patchOf(settings, dockerfileText, plan.text, text);
}

/** `unused` (the trace's list of files) is more than the committed script says. */
function needsBuiltRewrite(script: ScriptSettings): boolean {
  return script.prune.includes('unused');
}

/** The Dockerfile and the prune script as the slimmed build used them. */
function builtPatch(
  settings: Settings,
  dockerfileText: string,
  built: BuiltRewrite,
): Promise<string> {
  const script = built.plan.usesPruneScript ? built.scriptText : undefined;
  return patchOf(settings, dockerfileText, built.plan.text, script);
}

/** The Dockerfile's diff, the script as a new file, a `.dockerignore` exception: from the root. */
async function patchOf(
  settings: Settings,
  dockerfileText: string,
  slimmedText: string,
  script: string | undefined,
): Promise<string> {
  const root = repositoryRoot(settings);
  const relative = (file: string): string => path.relative(root, file).split(path.sep).join('/');
  const scriptFile = path.join(settings.context, PRUNE_SCRIPT_PATH);
  return [
    unifiedDiff(dockerfileText, slimmedText, relative(settings.file)),
    script === undefined ? '' : newFileDiff(relative(scriptFile), script),
    await dockerignoreDiff(settings.context, relative),
  ].join('');
}

/**
 * Where `git apply` runs: the git repository holding the Dockerfile; without one, the workspace
 * when it holds both the Dockerfile and the context, else the closest directory that does.
 */
export function repositoryRoot(settings: Pick<Settings, 'workspace' | 'file' | 'context'>): string {
  for (let dir = path.dirname(path.resolve(settings.file)); ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, '.git'))) return dir;
    if (path.dirname(dir) === dir) break;
  }
  const inside = (dir: string, file: string): boolean => !path.relative(dir, file).startsWith('..');
  const both = [path.resolve(settings.file), path.resolve(settings.context)];
  if (both.every((file) => inside(path.resolve(settings.workspace), file)))
    return path.resolve(settings.workspace);
  let common = path.dirname(both[0] ?? '/');
  while (!both.every((file) => inside(common, file))) common = path.dirname(common);
  return common;
}

/** A `.dockerignore` that leaves the script out of the context gets an exception for it. */
async function dockerignoreDiff(
  context: string,
  relative: (file: string) => string,
): Promise<string> {
  const file = path.join(context, '.dockerignore');
  const text = await readFile(file, 'utf8').catch(() => undefined);
  if (text === undefined || !ignoredByDockerignore(parseDockerignore(text), PRUNE_SCRIPT_PATH))
    return '';
  const updated = `${text}${text === '' || text.endsWith('\n') ? '' : '\n'}# slimpy's prune script is part of the build\n!${PRUNE_SCRIPT_PATH}\n`;
  return unifiedDiff(text, updated, relative(file));
}
