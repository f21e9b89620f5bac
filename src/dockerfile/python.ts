/**
 * Recognising Python in a Dockerfile: commands that install packages, stages that hold an
 * environment, paths that are one. Heuristics over text, so each errs towards "not Python":
 * a missed environment costs savings, a false one runs the prune over files that are not Python.
 */

/** Commands that install Python packages with a Python tool: files the prune can shrink. */
const TOOL_INSTALLS: readonly RegExp[] = [
  /\bpip(?:3(?:\.\d+)?)?\s+(?:-\S+\s+)*install\b/,
  /\bpython(?:3(?:\.\d+)?)?\s+(?:-\S+\s+)*-m\s+pip\s+(?:-\S+\s+)*install\b/,
  /\buv\s+(?:pip\s+(?:install|sync)|sync|add)\b/,
  /\bpoetry\s+(?:install|add)\b/,
  /\bpipenv\s+(?:install|sync)\b/,
  /\bpdm\s+(?:install|sync|add)\b/,
  /\bpip-sync\b/,
  /\b(?:conda|mamba|micromamba)\s+(?:install|create|update|env\s+(?:create|update))\b/,
];

/**
 * The OS package manager installing Python modules (into /usr/lib/python3*): a sign that a stage
 * holds Python, but its files are the distribution's, which the prune leaves alone.
 */
const OS_PACKAGE_INSTALLS: readonly RegExp[] = [
  /\bapt(?:-get)?\s+(?:-\S+\s+)*install\b[^;&|]*\bpython3?(?:[.\d]*-|\s|$)/,
  /\bapk\s+add\b[^;&|]*\bpy3-/,
  /\b(?:dnf|yum|microdnf)\s+(?:-\S+\s+)*install\b[^;&|]*\bpython3/,
];

/** Commands that create an environment without (yet) installing into it. */
const ENVIRONMENT_CREATIONS: readonly RegExp[] = [
  /\bpython(?:3(?:\.\d+)?)?\s+-m\s+(?:venv|virtualenv)\b/,
  /\bvirtualenv\b/,
  /\buv\s+venv\b/,
];

/** Copied paths that can only be a Python environment or part of one. */
const ENVIRONMENT_PATH =
  /(?:^|\/)(?:site-packages|dist-packages|\.?venv)(?:\/|$)|^\/usr\/local\/lib\/python/;

export function installsPythonPackages(command: string): boolean {
  return installsWithPythonTool(command) || OS_PACKAGE_INSTALLS.some((p) => p.test(command));
}

/** Installs with pip, uv, poetry, pdm, conda and the like: what a same-run prune is for. */
export function installsWithPythonTool(command: string): boolean {
  return TOOL_INSTALLS.some((pattern) => pattern.test(command));
}

export function createsPythonEnvironment(command: string): boolean {
  return (
    installsPythonPackages(command) ||
    ENVIRONMENT_CREATIONS.some((pattern) => pattern.test(command))
  );
}

export function isPythonEnvironmentPath(path: string): boolean {
  return ENVIRONMENT_PATH.test(path);
}

export function isPythonImage(image: string): boolean {
  return /python/i.test(image);
}

/** Where Python images keep the interpreter and its packages. */
const PYTHON_HOMES = ['/usr/local/lib/python3', '/usr/lib/python3', '/opt/conda'];

/** True when copying `root` takes one of those trees along (`/usr/local`, `/`, ...). */
export function containsPythonHome(root: string): boolean {
  const prefix = root.endsWith('/') ? root : `${root}/`;
  return PYTHON_HOMES.some((home) => home.startsWith(prefix));
}
