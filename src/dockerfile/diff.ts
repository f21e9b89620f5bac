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
