/** Paths as the user's repository names them, and the image's identity derived from them. */
import * as path from 'node:path';

/**
 * A path relative to the workspace (the repository checkout), POSIX-separated; a path outside the
 * workspace stays absolute rather than climbing out with `..`.
 */
export function workspacePath(workspace: string, file: string): string {
  const relative = path.relative(workspace, path.resolve(file));
  if (relative === '' || relative.startsWith('..') || path.isAbsolute(relative))
    return path.resolve(file);
  return relative.split(path.sep).join('/');
}

/**
 * The image's identity across runs and comments: the Dockerfile's workspace path, `#target` when a
 * target is set. The `comment-key` input replaces it.
 */
export function defaultCommentKey(workspace: string, file: string, target?: string): string {
  return `${workspacePath(workspace, file)}${target ? `#${target}` : ''}`;
}
