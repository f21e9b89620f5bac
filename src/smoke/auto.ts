/**
 * `smoke-test: auto`: with no configuration, import every top-level module that the image's
 * installed distributions declare, in the image's own Python, and fail if any import fails.
 * Slimming breaks images by deleting files an import needs; importing everything is the cheapest
 * test that notices, and it needs nothing from the user.
 */
import type { SmokeCommand } from './command.js';

/** What a report shows for the auto command (the program itself is ~4 KB of Python). */
export const AUTO_SMOKE_DISPLAY = [
  'python',
  '-c',
  '<slimpy auto smoke test: import the top-level modules of every installed distribution>',
];

/** The start of the failure message when the image has no Python to import with. */
export const NO_PYTHON_MESSAGE = 'no Python in the image';

/**
 * The import check, run as `python -c`. Output: one line per module, `ok <name> <ms>ms` or
 * `FAIL <name>: <ExceptionType>: <message>`, then a `slimpy:` summary line; exit 1 if any failed.
 * Python 3.8+ (importlib.metadata); no third-party imports.
 */
export const AUTO_SMOKE_PROGRAM = String.raw`
import sys
if sys.version_info < (3, 8):
    print("FAIL python: the auto smoke test needs Python 3.8+ (importlib.metadata), found " + sys.version.split()[0])
    sys.exit(1)
import faulthandler, importlib, importlib.util, json, os, re, time
from importlib import metadata

# A crash inside an extension module still names the module being imported.
faulthandler.enable()

# Tooling present in every environment, or names whose import runs scripts: not the app's code.
SKIP_MODULES = {"pip", "setuptools", "pkg_resources", "wheel", "distutils", "tests", "test",
                "testing", "docs", "doc", "examples", "example", "benchmarks", "scripts",
                "setup", "conftest"}
SKIP_DISTS = {"pip", "setuptools", "wheel", "distribute"}
# Debian's and Ubuntu's apt-owned Python packages: the OS's, not what the image installed.
OS_OWNED = re.compile(r"^/usr/lib/python3(\.\d+)?/dist-packages(/|$)")
MODULE_FILE = re.compile(r"^([A-Za-z_]\w*)\.py$|^([A-Za-z_]\w*)(?:\.[\w-]+)?\.(?:so|pyd)$")
PACKAGE_INIT = re.compile(r"^__init__(\.[\w-]+)?\.(py|pyc|so|pyd)$")


def dist_name(dist):
    return re.sub(r"[-_.]+", "-", dist.metadata["Name"] or "unnamed").lower()


def recorded_modules(dist):
    """Top-level modules from RECORD: x.py, x.cpython-311-....so, and the shallowest regular
    package of each file (a namespace directory alone proves nothing)."""
    paths = [str(p).replace("\\", "/") for p in (dist.files or [])]
    packages = {p.rsplit("/", 1)[0] for p in paths if "/" in p and PACKAGE_INIT.match(p.rsplit("/", 1)[1])}
    found = set()
    for path in paths:
        parts = path.split("/")
        head = parts[0]
        if head in ("", "..", "__pycache__") or head.endswith((".dist-info", ".egg-info", ".data")):
            continue
        if len(parts) == 1:
            match = MODULE_FILE.match(head)
            if match:
                found.add(match.group(1) or match.group(2))
            continue
        for depth in range(1, len(parts)):
            if "/".join(parts[:depth]) in packages:
                found.add(".".join(parts[:depth]))
                break
    return found


def declared_modules(dist):
    text = dist.read_text("top_level.txt") or ""
    return [line.strip().replace("/", ".") for line in text.splitlines() if line.strip()]


def modules_of(dist):
    recorded = recorded_modules(dist)
    declared = declared_modules(dist)
    if not declared:
        return recorded
    names = set()
    for name in declared:
        inside = {r for r in recorded if r == name or r.startswith(name + ".")}
        # top_level.txt names a namespace package's root: import its regular packages instead.
        names |= inside if inside and name not in inside else {name}
    return names


def importable(module):
    parts = module.split(".")
    return parts[0] not in SKIP_MODULES and all(p.isidentifier() and not p.startswith("_") for p in parts)


def location(dist):
    try:
        return str(dist.locate_file(""))
    except Exception:
        return ""


def collect():
    modules, seen, os_owned = {}, set(), 0
    for dist in metadata.distributions():
        name = dist_name(dist)
        if name in seen or name in SKIP_DISTS:
            continue
        seen.add(name)
        if OS_OWNED.match(location(dist)):
            os_owned += 1
            continue
        for module in modules_of(dist):
            if importable(module):
                modules.setdefault(module, name)
    return modules, os_owned


def missing_dependency(module, error):
    """The top-level module an import needed that no installed distribution provides (an
    optional dependency, like duckdb's adbc_driver_duckdb wanting adbc_driver_manager), or None
    when the failure is the module's own (a file of its own package is gone)."""
    if not isinstance(error, ModuleNotFoundError) or not error.name:
        return None
    top = error.name.split(".")[0]
    if top == module.split(".")[0]:
        return None
    try:
        return top if importlib.util.find_spec(top) is None else None
    except Exception:
        return None


def parse_args(argv):
    """--allow-missing=a,b: strict mode for the slimmed image, where only the modules the
    original image skipped may be skipped again. Without it (the original image), any module
    whose optional dependency is not installed is skipped."""
    for arg in argv:
        if arg.startswith("--allow-missing="):
            return {m for m in arg.split("=", 1)[1].split(",") if m}
    return None


def option(argv, name, default):
    for arg in argv:
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    return default


def run_probes(argv):
    """--probes=[{"name","code"}]: statements that fail when a package exception did not keep
    what the package reads at run time (an import of a lazily loaded submodule, a header). One
    that fails in the original image too is skipped there, and may fail again in the slimmed one
    (--allow-failing-probes=a,b); any other failure fails the test. Returns the failed names."""
    probes = json.loads(option(argv, "--probes", "[]"))
    allowed = option(argv, "--allow-failing-probes", None)
    allowed = None if allowed is None else {p for p in allowed.split(",") if p}
    failed, skipped = [], []
    for probe in probes:
        name = probe["name"]
        start = time.perf_counter()
        try:
            exec(compile(probe["code"], "<slimpy probe %s>" % name, "exec"), {"__name__": "__slimpy_probe__"})
        except BaseException as error:
            message = " ".join(str(error).split())[:300]
            if allowed is None or name in allowed:
                print("skip probe %s: %s: %s" % (name, type(error).__name__, message), flush=True)
                skipped.append(name)
            else:
                print("FAIL probe %s: %s: %s" % (name, type(error).__name__, message), flush=True)
                failed.append(name)
        else:
            print("ok probe %s %dms" % (name, round((time.perf_counter() - start) * 1000)), flush=True)
    if skipped:
        print("slimpy: skipped %d probes that fail in this image: %s" % (len(skipped), ",".join(skipped)))
    if failed:
        print("slimpy: %d of %d probes failed: %s" % (len(failed), len(probes), ", ".join(failed)))
    return failed


def main():
    allowed = parse_args(sys.argv[1:])
    modules, os_owned = collect()
    if os_owned:
        print("skip %d distributions owned by the OS package manager (/usr/lib/python3/dist-packages)" % os_owned)
    if not modules:
        print("slimpy: no installed distribution declares an importable module; nothing to import")
        return 1 if run_probes(sys.argv[1:]) else 0
    failed, skipped = [], []
    began = time.perf_counter()
    for module in sorted(modules):
        start = time.perf_counter()
        try:
            importlib.import_module(module)
        except BaseException as error:  # an import that calls sys.exit() fails too
            missing = missing_dependency(module, error)
            if missing and (allowed is None or module in allowed):
                print("skip %s: needs %s, which is not installed" % (module, missing), flush=True)
                skipped.append(module)
                continue
            message = " ".join(str(error).split())[:300]
            print("FAIL %s: %s: %s" % (module, type(error).__name__, message), flush=True)
            failed.append(module)
        else:
            print("ok %s %dms" % (module, round((time.perf_counter() - start) * 1000)), flush=True)
    total = round((time.perf_counter() - began) * 1000)
    if skipped:
        print("slimpy: skipped %d modules whose optional dependencies are not installed: %s"
              % (len(skipped), ",".join(skipped)))
    if failed:
        print("slimpy: %d of %d modules failed to import: %s" % (len(failed), len(modules), ", ".join(failed)))
    if run_probes(sys.argv[1:]) or failed:
        return 1
    imported = len(modules) - len(skipped)
    dists = len({modules[m] for m in modules if m not in skipped})
    print("slimpy: imported %d modules from %d distributions in %dms" % (imported, dists, total))
    return 0


code = main()
sys.stdout.flush()
sys.stderr.flush()
# Skip interpreter shutdown: a thread or atexit hook an import started must not keep it alive.
os._exit(code)
`;

/**
 * Finds the interpreter the way the app would: the first `python3`, else `python`, on the image's
 * PATH (a venv put first on PATH with ENV wins). python3 first, because a bare `python` may still
 * be Python 2 on old images.
 */
const FIND_PYTHON = [
  'program=$1; shift',
  'for p in python3 python; do',
  '  if command -v "$p" >/dev/null 2>&1; then exec "$p" -c "$program" "$@"; fi',
  'done',
  `echo "slimpy: ${NO_PYTHON_MESSAGE}: neither python3 nor python is on PATH ($PATH)" >&2`,
  'exit 127',
].join('\n');

export interface AutoSmokeOptions {
  /**
   * For the slimmed image: the modules the original image skipped because an optional
   * dependency is not installed. Given (even empty), only these may be skipped and any other
   * missing module fails; omitted (the original image), every such module is skipped.
   */
  allowMissing?: string[];
  /** Statements run after the imports (package exceptions' probes, src/slim/kept.ts). */
  probes?: SmokeProbe[];
  /**
   * For the slimmed image: the probes that failed in the original one and may fail again.
   * Given (even empty), any other failing probe fails the test; omitted, failing probes are
   * skipped.
   */
  allowFailingProbes?: string[];
}

/** A Python statement that fails when files a package reads at run time are gone. */
export interface SmokeProbe {
  name: string;
  code: string;
}

/**
 * The auto smoke command: through /bin/sh to find the interpreter; in an image without a shell
 * (distroless), `python3` and then `python` exec'd directly from the image's PATH.
 */
export function autoSmokeCommand(options: AutoSmokeOptions = {}): SmokeCommand {
  const args = options.allowMissing ? [`--allow-missing=${options.allowMissing.join(',')}`] : [];
  if (options.probes?.length) args.push(`--probes=${JSON.stringify(options.probes)}`);
  if (options.allowFailingProbes) {
    args.push(`--allow-failing-probes=${options.allowFailingProbes.join(',')}`);
  }
  return {
    display: AUTO_SMOKE_DISPLAY,
    attempts: [
      ['/bin/sh', '-c', FIND_PYTHON, 'slimpy-smoke', AUTO_SMOKE_PROGRAM, ...args],
      ['python3', '-c', AUTO_SMOKE_PROGRAM, ...args],
      ['python', '-c', AUTO_SMOKE_PROGRAM, ...args],
    ],
    unstartable: `${NO_PYTHON_MESSAGE}: it has none of /bin/sh, python3 or python to run the auto smoke test`,
  };
}

const SKIPPED_SUMMARY =
  /^slimpy: skipped \d+ modules whose optional dependencies are not installed: (\S+)$/m;

/** The modules an auto run skipped for a missing optional dependency, from its summary line. */
export function skippedOptionalModules(output: string): string[] {
  const list = SKIPPED_SUMMARY.exec(output)?.[1];
  return list ? list.split(',').filter(Boolean) : [];
}

const SKIPPED_PROBES = /^slimpy: skipped \d+ probes that fail in this image: (\S+)$/m;

/** The probes an auto run skipped because they failed, from its summary line. */
export function skippedProbes(output: string): string[] {
  const list = SKIPPED_PROBES.exec(output)?.[1];
  return list ? list.split(',').filter(Boolean) : [];
}
