/** Applies a patch with `git apply` in a scratch repository, as a user applies slimpy's patch. */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** Writes `files` (path -> text) into a new repository under `scratch`, applies `patch`, returns the files after. */
export function gitApplyAll(
  scratch: string,
  files: Record<string, string>,
  patch: string,
): Record<string, string> {
  const dir = mkdtempSync(join(scratch, 'repo-'));
  execFileSync('git', ['init', '-q', dir]);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  writeFileSync(join(dir, 'slim.patch'), patch);
  const git = ['-C', dir, '-c', 'core.autocrlf=false', 'apply', '--whitespace=nowarn'];
  execFileSync('git', [...git, '--check', 'slim.patch']);
  execFileSync('git', [...git, 'slim.patch']);
  return Object.fromEntries(
    Object.keys(files).map((path) => [path, readFileSync(join(dir, path), 'utf8')]),
  );
}

/** The same for one file. */
export function gitApply(scratch: string, before: string, patch: string, path: string): string {
  return gitApplyAll(scratch, { [path]: before }, patch)[path] ?? '';
}
