"""What the shipped files of an image need at runtime from its OS packages.

slimpy runs this with the image's own Python, in a throwaway container of the image (no network,
nothing added to the image), before it takes build-only packages (compilers, headers) out of a
stage. It prints one JSON object on stdout.

  needs [ROOT ...]   every ELF file no package owns (what pip, make or COPY put there) is read
                     for DT_NEEDED, DT_RPATH and DT_RUNPATH; each needed library is found as the
                     loader would find it (RPATH, LD_LIBRARY_PATH, RUNPATH with $ORIGIN, then
                     ld.so.cache and the default directories; musl's path file on musl) and
                     mapped to the package that owns it (dpkg -S, apk info --who-owns, rpm -qf).
                     Package-owned ELF files are skipped: their packages declare what they need.
                     Each ROOT (a path the stage added) is answered with how many files under it
                     packages own and how many they do not, and its owner and mode.
  packages           the installed packages only.
  simulate K.. -- P..  (dpkg) marks K manual, then simulates `apt-get purge --auto-remove P`:
                     the packages that would leave. The container is thrown away afterwards.

Written for any Python 3 from 3.6 on (RHEL 8's platform Python), standard library only.
"""
import json
import os
import stat
import struct
import subprocess
import sys

SKIP_DIRS = {"/proc", "/sys", "/dev"}
APK_DATABASE = "/lib/apk/db/installed"
EXAMPLES = 3
PT_LOAD, PT_DYNAMIC = 1, 2
DT_NULL, DT_NEEDED, DT_STRTAB, DT_RPATH, DT_RUNPATH = 0, 1, 5, 15, 29


def run(argv):
    """stdout of a command; empty when it is missing or fails (unowned paths make dpkg -S fail)."""
    try:
        done = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    except OSError:
        return ""
    return done.stdout.decode("utf-8", "replace")


def which(name):
    for directory in os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin").split(":"):
        candidate = os.path.join(directory or ".", name)
        if os.access(candidate, os.X_OK) and not os.path.isdir(candidate):
            return candidate
    return None


# --------------------------------------------------------------------------------------------
# Package managers: installed names, owned paths, owners of given paths.


def manager():
    if os.path.exists("/var/lib/dpkg/status") and which("dpkg-query"):
        return "dpkg"
    if os.path.exists(APK_DATABASE):
        return "apk"
    if which("rpm"):
        return "rpm"
    return None


def installed(kind):
    if kind == "dpkg":
        out = run(["dpkg-query", "-W", "-f", "${db:Status-Abbrev} ${Package}\n"])
        return sorted({line.split()[1] for line in out.splitlines() if line.startswith("ii ")})
    if kind == "apk":
        return sorted({name for name, _ in apk_database()})
    if kind == "rpm":
        return sorted(set(run(["rpm", "-qa", "--qf", "%{NAME}\n"]).split()))
    return []


def requested(kind):
    """The packages asked for by name; None when the package manager cannot tell offline."""
    if kind == "dpkg":
        out = run(["apt-mark", "showmanual"])
        return sorted(set(out.split())) if out else None
    if kind == "apk":
        try:
            with open("/etc/apk/world") as world:
                return sorted({apk_word(word) for word in world.read().split()})
        except OSError:
            return None
    if kind == "rpm":
        out = run(["dnf", "repoquery", "--userinstalled", "--cacheonly", "--quiet", "--qf", "%{name}\n"])
        return sorted(set(out.split())) or None
    return None


def apk_word(word):
    """A world entry or dependency (`libpq>=16`, `so:libc.musl-x86_64.so.1`) without its constraint."""
    for mark in ("<", ">", "=", "~"):
        word = word.split(mark, 1)[0]
    return word


def virtuals(kind, database=APK_DATABASE):
    """apk virtual packages (`apk add --virtual .build-deps …`) and the names they depend on."""
    if kind != "apk":
        return []
    found, current = [], None
    with open(database, encoding="utf-8", errors="replace") as db:
        for line in db:
            key, _, value = line.rstrip("\n").partition(":")
            if key == "P":
                current = {"name": value, "depends": []} if value.startswith(".") else None
                if current:
                    found.append(current)
            elif key == "D" and current is not None:
                current["depends"] = sorted({apk_word(word) for word in value.split()})
    return found


def apk_database(database=APK_DATABASE):
    """(package, path) pairs from apk's database: P: names a package, F: a folder, R: a file in it."""
    package, folder = None, ""
    with open(database, encoding="utf-8", errors="replace") as db:
        for line in db:
            key, _, value = line.rstrip("\n").partition(":")
            if key == "P":
                package = value
                yield package, None
            elif key == "F":
                folder = value
            elif key == "R" and package:
                yield package, "/" + folder + "/" + value


def owned_paths(kind):
    """Every path a package owns. dpkg's file lists are what `dpkg -S` searches."""
    paths = set()
    if kind == "dpkg":
        info = "/var/lib/dpkg/info"
        for name in os.listdir(info):
            if name.endswith(".list"):
                with open(os.path.join(info, name), encoding="utf-8", errors="replace") as listing:
                    paths.update(line.rstrip("\n") for line in listing)
    elif kind == "apk":
        paths.update(path for _, path in apk_database() if path)
    elif kind == "rpm":
        paths.update(run(["rpm", "-qal"]).splitlines())
    return paths


def aliases(path, resolve=False):
    """The names a file may be listed under: as found, with its directory resolved (or, for a
    library the loader opens, resolved whole), and across the /usr merge."""
    names = [path, os.path.join(os.path.realpath(os.path.dirname(path)), os.path.basename(path))]
    if resolve:
        names.append(os.path.realpath(path))
    for name in list(names):
        for merged in ("/lib", "/lib64", "/bin", "/sbin"):
            if name.startswith(merged + "/"):
                names.append("/usr" + name)
            elif name.startswith("/usr" + merged + "/"):
                names.append(name[len("/usr"):])
    unique = []
    for name in names:
        if name not in unique:
            unique.append(name)
    return unique


def is_owned(path, owned):
    return any(name in owned for name in aliases(path))


def owners(kind, paths):
    """path -> owning package, asked of the package manager itself."""
    wanted = {}
    for path in paths:
        for name in aliases(path, resolve=True):
            wanted.setdefault(name, path)
    found = {}
    if kind == "dpkg":
        # `libpq5:amd64: /usr/lib/x86_64-linux-gnu/libpq.so.5`; diversions print other lines.
        for line in run(["dpkg", "-S"] + sorted(wanted)).splitlines():
            head, sep, path = line.partition(": ")
            if sep and path in wanted and not head.startswith("diversion"):
                found.setdefault(wanted[path], head.split(",")[0].strip().split(":")[0])
    elif kind == "apk":
        # `/usr/lib/libpq.so.5 is owned by libpq-16.3-r0`
        for line in run(["apk", "info", "--who-owns"] + sorted(wanted)).splitlines():
            path, sep, owner = line.partition(" is owned by ")
            if sep and path in wanted:
                found.setdefault(wanted[path], apk_name(owner.strip()))
    elif kind == "rpm":
        for path in sorted(wanted):
            name = run(["rpm", "-qf", "--qf", "%{NAME}\n", path]).strip()
            if name and " " not in name:
                found.setdefault(wanted[path], name)
    return found


def apk_name(owner):
    """`libpq-16.3-r0` -> `libpq`: apk prints name-version-release."""
    parts = owner.split("-")
    for cut in range(len(parts) - 1, 0, -1):
        if parts[cut][:1].isdigit():
            return "-".join(parts[:cut])
    return owner


# --------------------------------------------------------------------------------------------
# ELF: the dynamic section, read the way the loader reads it (program headers, not sections).


class Elf(object):
    def __init__(self, path, cls, machine, needed, rpath, runpath):
        self.path, self.cls, self.machine = path, cls, machine
        self.needed, self.rpath, self.runpath = needed, rpath, runpath


def read_elf(path):
    try:
        with open(path, "rb") as f:
            ident = f.read(64)
            if len(ident) < 52 or ident[:4] != b"\x7fELF":
                return None
            cls, endian = ident[4], "<" if ident[5] == 1 else ">"
            if cls == 2:
                machine, phoff, phentsize, phnum = struct.unpack_from(endian + "H", ident, 18) + \
                    struct.unpack_from(endian + "Q", ident, 32) + struct.unpack_from(endian + "HH", ident, 54)
            else:
                machine, phoff, phentsize, phnum = struct.unpack_from(endian + "H", ident, 18) + \
                    struct.unpack_from(endian + "I", ident, 28) + struct.unpack_from(endian + "HH", ident, 42)
            segments = program_headers(f, endian, cls, phoff, phentsize, phnum)
            return dynamic_section(f, path, endian, cls, machine, segments)
    except (OSError, struct.error, ValueError):
        return None


def program_headers(f, endian, cls, phoff, phentsize, phnum):
    segments = []
    f.seek(phoff)
    table = f.read(phentsize * phnum)
    for i in range(phnum):
        at = i * phentsize
        if cls == 2:
            kind, _, offset, vaddr, _, filesz = struct.unpack_from(endian + "IIQQQQ", table, at)
        else:
            kind, offset, vaddr, _, filesz = struct.unpack_from(endian + "IIIII", table, at)
        segments.append((kind, offset, vaddr, filesz))
    return segments


def dynamic_section(f, path, endian, cls, machine, segments):
    dynamic = [s for s in segments if s[0] == PT_DYNAMIC]
    if not dynamic:
        return Elf(path, cls, machine, [], [], [])
    _, offset, _, size = dynamic[0]
    f.seek(offset)
    data = f.read(size)
    pair = endian + ("qQ" if cls == 2 else "iI")
    step = struct.calcsize(pair)
    entries = []
    for at in range(0, len(data) - step + 1, step):
        tag, value = struct.unpack_from(pair, data, at)
        if tag == DT_NULL:
            break
        entries.append((tag, value))
    strtab = [value for tag, value in entries if tag == DT_STRTAB]
    table = file_offset(segments, strtab[0]) if strtab else None
    if table is None:
        return Elf(path, cls, machine, [], [], [])

    def text(tag):
        return [read_string(f, table + value) for t, value in entries if t == tag]

    return Elf(path, cls, machine, text(DT_NEEDED), split_paths(text(DT_RPATH)), split_paths(text(DT_RUNPATH)))


def file_offset(segments, vaddr):
    for kind, offset, start, filesz in segments:
        if kind == PT_LOAD and start <= vaddr < start + filesz:
            return vaddr - start + offset
    return None


def read_string(f, offset):
    f.seek(offset)
    chunk = f.read(4096)
    return chunk.split(b"\0", 1)[0].decode("utf-8", "replace")


def split_paths(values):
    return [part for value in values for part in value.split(":") if part]


# --------------------------------------------------------------------------------------------
# The loader's search.


def multiarch_dirs(machine):
    triplet = {62: "x86_64-linux-gnu", 183: "aarch64-linux-gnu", 3: "i386-linux-gnu",
               40: "arm-linux-gnueabihf", 21: "powerpc64le-linux-gnu", 22: "s390x-linux-gnu"}.get(machine)
    return ["/lib/" + triplet, "/usr/lib/" + triplet] if triplet else []


def read_ld_cache():
    """soname -> paths, from glibc's ld.so.cache (the new format, which every glibc since 2.32 writes)."""
    try:
        with open("/etc/ld.so.cache", "rb") as f:
            data = f.read()
    except OSError:
        return {}
    start = data.find(b"glibc-ld.so.cache1.1")
    if start < 0:
        return {}
    nlibs = struct.unpack_from("<I", data, start + 20)[0]
    cache = {}
    for i in range(nlibs):
        _, key, value = struct.unpack_from("<iII", data, start + 48 + 24 * i)
        name = data[start + key:data.index(b"\0", start + key)].decode("utf-8", "replace")
        target = data[start + value:data.index(b"\0", start + value)].decode("utf-8", "replace")
        cache.setdefault(name, []).append(target)
    return cache


def musl_dirs():
    for name in os.listdir("/etc") if os.path.isdir("/etc") else []:
        if name.startswith("ld-musl-") and name.endswith(".path"):
            with open(os.path.join("/etc", name)) as f:
                return [d for line in f for d in line.replace(":", "\n").split() if d]
    return ["/lib", "/usr/local/lib", "/usr/lib"]


class Loader(object):
    def __init__(self):
        self.musl = any(n.startswith("ld-musl-") for n in os.listdir("/lib")) if os.path.isdir("/lib") else False
        self.cache = {} if self.musl else read_ld_cache()
        self.env = split_paths([os.environ.get("LD_LIBRARY_PATH", "")])
        self.headers = {}

    def kind(self):
        return "musl" if self.musl else ("glibc" if self.cache else "unknown")

    def compatible(self, path, elf):
        if path not in self.headers:
            found = read_elf(path) if os.path.isfile(path) else None
            self.headers[path] = (found.cls, found.machine) if found else None
        return self.headers[path] == (elf.cls, elf.machine)

    def origin_dirs(self, paths, elf):
        out = []
        for origin in {os.path.dirname(elf.path), os.path.dirname(os.path.realpath(elf.path))}:
            for directory in paths:
                out.append(directory.replace("${ORIGIN}", origin).replace("$ORIGIN", origin))
        return out

    def search_order(self, elf):
        """(how, directory) in the order the loader tries them."""
        steps = []
        if self.musl:
            steps += [("env", d) for d in self.env]
            steps += [("runpath", d) for d in self.origin_dirs(elf.rpath + elf.runpath, elf)]
            return steps + [("default", d) for d in musl_dirs()]
        if not elf.runpath:
            steps += [("rpath", d) for d in self.origin_dirs(elf.rpath, elf)]
        steps += [("env", d) for d in self.env]
        return steps + [("runpath", d) for d in self.origin_dirs(elf.runpath, elf)]

    def resolve(self, soname, elf):
        if "/" in soname:
            return (soname, "path") if self.compatible(soname, elf) else (None, None)
        for how, directory in self.search_order(elf):
            candidate = os.path.join(directory, soname)
            if self.compatible(candidate, elf):
                return candidate, how
        for candidate in self.cache.get(soname, []):
            if self.compatible(candidate, elf):
                return candidate, "cache"
        if not self.musl:
            for directory in multiarch_dirs(elf.machine) + ["/lib64", "/usr/lib64", "/lib", "/usr/lib"]:
                candidate = os.path.join(directory, soname)
                if self.compatible(candidate, elf):
                    return candidate, "default"
        return None, None


# --------------------------------------------------------------------------------------------
# The walk.


def unowned_files(owned):
    """Regular files no package owns, walking the whole filesystem without following links."""
    stack = ["/"]
    while stack:
        directory = stack.pop()
        try:
            entries = list(os.scandir(directory))
        except OSError:
            continue
        for entry in entries:
            path = entry.path if directory != "/" else "/" + entry.name
            try:
                if entry.is_dir(follow_symlinks=False):
                    if path not in SKIP_DIRS:
                        stack.append(path)
                elif entry.is_file(follow_symlinks=False):
                    if not is_owned(path, owned):
                        yield path
            except OSError:
                continue


def needs(kind, roots):
    owned = owned_paths(kind)
    loader = Loader()
    libraries, missing, scanned = {}, {}, 0
    for path in unowned_files(owned):
        elf = read_elf(path)
        if elf is None or not elf.needed:
            continue
        scanned += 1
        for soname in elf.needed:
            library, how = loader.resolve(soname, elf)
            if library is None:
                record = missing.setdefault(soname, {"soname": soname, "by": [], "count": 0})
            else:
                record = libraries.setdefault(library, {"soname": soname, "library": library, "via": how,
                                                        "owned": is_owned(library, owned),
                                                        "by": [], "count": 0})
            record["count"] += 1
            if len(record["by"]) < EXAMPLES:
                record["by"].append(path)
    found = owners(kind, [path for path, record in libraries.items() if record["owned"]])
    for path, record in libraries.items():
        if found.get(path):
            record["package"] = found[path]
        del record["owned"]
    return {
        "manager": kind,
        "loader": loader.kind(),
        "installed": installed(kind),
        "requested": requested(kind),
        "virtuals": virtuals(kind),
        "scanned": scanned,
        "needs": sorted(libraries.values(), key=lambda r: r["library"]),
        "missing": sorted(missing.values(), key=lambda r: r["soname"]),
        "roots": [describe_root(root, owned) for root in roots],
    }


def describe_root(root, owned):
    """How much of a path the stage added belongs to packages, and the owner, mode and link target
    a copy of it must keep."""
    record = {"path": root, "owned": 0, "unowned": 0}
    try:
        info = os.lstat(root)
    except OSError:
        record["type"] = "missing"
        return record
    record.update(uid=info.st_uid, gid=info.st_gid, mode=stat.S_IMODE(info.st_mode))
    if stat.S_ISLNK(info.st_mode):
        record.update(type="symlink", target=os.readlink(root))
    record["type"] = record.get("type") or ("dir" if stat.S_ISDIR(info.st_mode) else "file")
    paths = [root]
    if record["type"] == "dir":
        paths = [os.path.join(top, name) for top, dirs, files in os.walk(root) for name in files]
        paths += [os.path.join(top, name) for top, dirs, files in os.walk(root) for name in dirs
                  if os.path.islink(os.path.join(top, name))]
    for path in paths:
        record["owned" if is_owned(path, owned) or is_alternative(path) else "unowned"] += 1
    return record


def is_alternative(path):
    """update-alternatives' links (`/usr/bin/cc -> /etc/alternatives/cc`): package state, which a
    reinstall recreates, though no package lists them."""
    return os.path.islink(path) and os.readlink(path).startswith("/etc/alternatives/")


def simulate(keep, purge):
    if keep:
        run(["apt-mark", "manual"] + keep)
    out = run(["apt-get", "-s", "purge", "--auto-remove"] + purge)
    leaving = [line.split()[1] for line in out.splitlines() if line.startswith(("Purg ", "Remv "))]
    return {"manager": "dpkg", "leaving": sorted(set(leaving))}


def main(argv):
    kind = manager()
    mode = argv[0] if argv else "needs"
    if mode == "packages":
        result = {"manager": kind, "installed": installed(kind)}
    elif mode == "simulate":
        cut = argv.index("--") if "--" in argv else len(argv)
        result = simulate(argv[1:cut], argv[cut + 1:])
    else:
        result = needs(kind, argv[1:])
    sys.stdout.write(json.dumps(result, sort_keys=True) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
