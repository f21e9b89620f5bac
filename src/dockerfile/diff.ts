/** The slimmed Dockerfile as a patch the user can read in the report and apply with `git apply`. */
import { createTwoFilesPatch, FILE_HEADERS_ONLY } from 'diff';

/**
 * A unified diff from `before` to `after` with git's `a/` and `b/` prefixes; empty when nothing
 * changed. `path` is the Dockerfile's path relative to the repository root.
 */
export function unifiedDiff(before: string, after: string, path: string): string {
  if (before === after) return '';
  const file = path.replaceAll('\\', '/').replace(/^(?:\.\/)+/, '');
  const patch = createTwoFilesPatch(`a/${file}`, `b/${file}`, before, after, undefined, undefined, {
    headerOptions: FILE_HEADERS_ONLY,
  });
  return `diff --git a/${file} b/${file}\n${patch}`;
}

/** A `git apply`-able diff that creates an executable file. */
export function newFileDiff(file: string, content: string): string {
  const lines = content.endsWith('\n') ? content.slice(0, -1).split('\n') : content.split('\n');
  return [
    `diff --git a/${file} b/${file}`,
    'new file mode 100755',
    '--- /dev/null',
    `+++ b/${file}`,
    `@@ -0,0 +1,${lines.length} @@`,
    ...lines.map((line) => `+${line}`),
    ...(content.endsWith('\n') ? [] : ['\\ No newline at end of file']),
    '',
  ].join('\n');
}
