/**
 * The file-access tracer (docs/trace.md): a Python program that slimpy puts into the smoke-test
 * container of the original image and runs with the image's own interpreter. It runs the smoke
 * command under ptrace with a seccomp filter that stops the command only on open, openat,
 * openat2, execve and execveat, follows every fork, vfork, clone and exec, and writes what the
 * command opened, executed or had mapped by the kernel (the program and its dynamic loader) to a
 * result file. Standard library only (ctypes); Python 3.4+; Linux 5.3+ (PTRACE_GET_SYSCALL_INFO).
 */

/** Where the tracer's files go in the smoke container (a directory no image uses). */
export const TRACER_DIR = '/.slimpy-trace';
export const TRACER_PATH = `${TRACER_DIR}/trace.py`;
export const TRACER_SPEC_PATH = `${TRACER_DIR}/spec.json`;
export const TRACER_RESULT_PATH = `${TRACER_DIR}/result.json`;

/** What the tracer is given. */
export interface TracerSpec {
  /** Argvs tried in order; the next only when the previous one's program does not exist. */
  attempts: string[][];
  /** Where it writes its result. */
  out: string;
  /** Environments whose distributions (name, version, RECORD) it lists after the command. */
  environments: string[];
}

/** How the image's interpreter runs the tracer: isolated, no site (no `.pth` side effects), no bytecode written. */
export function tracerArgv(python: string): string[] {
  return [python, '-I', '-S', '-B', TRACER_PATH, TRACER_SPEC_PATH];
}

export const TRACER_PROGRAM = String.raw`
"""slimpy's file-access tracer: python3 -I -S -B trace.py SPEC.json (see tracer.ts)."""
import json
import os
import signal
import struct
import sys
import time

PTRACE_TRACEME, PTRACE_CONT = 0, 7
PTRACE_SETOPTIONS, PTRACE_GET_SYSCALL_INFO = 0x4200, 0x420E
# TRACEFORK | TRACEVFORK | TRACECLONE | TRACEEXEC | TRACESECCOMP | EXITKILL
OPTIONS = 0x2 | 0x4 | 0x8 | 0x10 | 0x80 | 0x100000
EVENT_EXEC, EVENT_SECCOMP = 4, 7
WALL = 0x40000000
PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 38, 22, 2
RET_ALLOW, RET_TRACE = 0x7FFF0000, 0x7FF00000
AT_FDCWD, AT_EMPTY_PATH = 0xFFFFFF9C, 0x1000
OPEN, OPENAT, OPENAT2, EXECVE, EXECVEAT = 1, 2, 3, 4, 5
# The ABIs a container on this machine can run: audit arch and {system call number: kind}.
SYSCALLS = {
    "x86_64": [
        (0xC000003E, {2: OPEN, 257: OPENAT, 437: OPENAT2, 59: EXECVE, 322: EXECVEAT}),
        (0x40000003, {5: OPEN, 295: OPENAT, 437: OPENAT2, 11: EXECVE, 358: EXECVEAT}),
    ],
    "aarch64": [(0xC00000B7, {56: OPENAT, 437: OPENAT2, 221: EXECVE, 281: EXECVEAT})],
}
SKIPPED = ("/proc/", "/sys/", "/dev/")
INFO_SIZE = 88
SECCOMP_INFO_SIZE = 84


class Unavailable(Exception):
    """Tracing cannot start here; the command has not run."""


def write_result(path, result):
    temporary = path + ".tmp"
    with open(temporary, "w") as out:
        json.dump(result, out)
    os.rename(temporary, path)


def filter_program(machine):
    """The seccomp filter: RET_TRACE with the call's kind as data for the traced calls, else ALLOW."""
    blocks = SYSCALLS.get(machine)
    if not blocks:
        raise Unavailable("the tracer knows no system call numbers for %s" % machine)
    code = []
    for arch, calls in blocks:
        body = [(0x20, 0, 0, 0)]  # A = seccomp_data.nr
        for number, kind in sorted(calls.items()):
            body += [(0x15, 0, 1, number), (0x06, 0, 0, RET_TRACE | kind)]
        body.append((0x06, 0, 0, RET_ALLOW))
        code += [(0x20, 0, 0, 4), (0x15, 0, len(body), arch)] + body  # another arch: next block
    code.append((0x06, 0, 0, RET_ALLOW))
    return b"".join(struct.pack("HBBI", *insn) for insn in code), len(code)


class Tracer(object):
    def __init__(self, ctypes):
        self.ctypes = ctypes
        self.libc = ctypes.CDLL(None, use_errno=True)
        self.libc.ptrace.restype = ctypes.c_long
        self.libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
        self.libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_void_p, ctypes.c_ulong, ctypes.c_ulong]
        self.info = ctypes.create_string_buffer(INFO_SIZE)
        self.info_size = ctypes.c_void_p(INFO_SIZE)
        self.paths = set()
        self.memory = {}
        self.stops = 0
        self.processes = 0

    def ptrace(self, request, pid, addr, data):
        return self.libc.ptrace(request, pid, addr, data)

    def error(self, what):
        number = self.ctypes.get_errno()
        return "%s failed: %s" % (what, os.strerror(number))

    def child(self, argv, report):
        """In the forked child: be traced, wait for the tracer, install the filter, exec."""
        step = "ptrace(PTRACE_TRACEME)"
        try:
            if self.ptrace(PTRACE_TRACEME, 0, None, None) != 0:
                raise OSError(self.ctypes.get_errno(), self.error(step))
            os.kill(os.getpid(), signal.SIGSTOP)
            step = "seccomp"
            program, length = filter_program(os.uname()[4])
            instructions = self.ctypes.create_string_buffer(program)
            fprog = struct.pack("HxxxxxxQ", length, self.ctypes.addressof(instructions))
            header = self.ctypes.create_string_buffer(fprog)
            if self.libc.prctl(PR_SET_NO_NEW_PRIVS, 1, None, 0, 0) != 0 or \
                    self.libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, header, 0, 0) != 0:
                raise OSError(self.ctypes.get_errno(), self.error("installing the seccomp filter"))
            step = "exec"
            # Python ignores these; the command gets the defaults any other parent would give it.
            for name in ("SIGPIPE", "SIGXFSZ"):
                if hasattr(signal, name):
                    signal.signal(getattr(signal, name), signal.SIG_DFL)
            os.execvp(argv[0], argv)
        except BaseException as error:
            number = getattr(error, "errno", None) or 0
            os.write(report, ("%s %d %s" % (step, number, error)).encode("utf-8", "replace"))
        finally:
            os._exit(127)

    def start(self, argv):
        """Forks the traced child; returns its pid and the pipe it reports failures on."""
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(read_end)
            self.child(argv, write_end)
        os.close(write_end)
        _, status = os.waitpid(pid, WALL)
        if not os.WIFSTOPPED(status):
            raise Unavailable("the traced child did not start: %s" % child_report(read_end))
        if self.ptrace(PTRACE_SETOPTIONS, pid, None, OPTIONS) != 0:
            message = self.error("ptrace(PTRACE_SETOPTIONS)")
            os.kill(pid, signal.SIGKILL)
            raise Unavailable(message)
        if self.ptrace(PTRACE_GET_SYSCALL_INFO, pid, self.info_size, self.info) < 0:
            os.kill(pid, signal.SIGKILL)
            raise Unavailable("the kernel has no PTRACE_GET_SYSCALL_INFO (Linux 5.3 or later is needed)")
        self.ptrace(PTRACE_CONT, pid, None, None)
        return pid, read_end

    def run(self, pid):
        """Serves every traced process's stops until the first one exits; returns its wait status."""
        seen = set([pid])
        self.processes += 1
        while True:
            try:
                stopped, status = os.waitpid(-1, WALL)
            except ChildProcessError:
                return None
            if not os.WIFSTOPPED(status):
                self.forget(stopped)
                if stopped == pid:
                    return status
                continue
            number = os.WSTOPSIG(status)
            event = (status >> 16) & 0xFF
            deliver = 0
            if number == signal.SIGTRAP and event == EVENT_SECCOMP:
                self.stops += 1
                self.on_syscall(stopped)
            elif number == signal.SIGTRAP and event == EVENT_EXEC:
                self.on_exec(stopped)
            elif number == signal.SIGTRAP and event:
                pass  # fork, vfork, clone: the new process reports its own first stop
            elif number == signal.SIGSTOP and stopped not in seen:
                self.processes += 1  # a new process or thread, stopped before its first step
            else:
                deliver = number
            seen.add(stopped)
            self.ptrace(PTRACE_CONT, stopped, None, deliver)

    def on_syscall(self, tid):
        if self.ptrace(PTRACE_GET_SYSCALL_INFO, tid, self.info_size, self.info) < SECCOMP_INFO_SIZE:
            return
        raw = self.info.raw
        args = struct.unpack_from("6Q", raw, 32)
        kind = struct.unpack_from("I", raw, 80)[0]
        if kind in (OPEN, EXECVE):
            dirfd, address = AT_FDCWD, args[0]
        else:
            dirfd, address = args[0] & 0xFFFFFFFF, args[1]
        path = self.read_string(tid, address)
        if path is None:
            return
        if not path.startswith(b"/"):
            if path == b"" and kind == EXECVEAT and args[4] & AT_EMPTY_PATH:
                path = self.link(tid, "fd/%d" % dirfd)
            else:
                base = self.link(tid, "cwd" if dirfd == AT_FDCWD else "fd/%d" % dirfd)
                path = base + b"/" + path if base else None
        if path:
            self.paths.add(path)

    def on_exec(self, tid):
        """The kernel loaded the program and its dynamic loader without an open: read the maps."""
        self.forget(tid)
        try:
            with open("/proc/%d/maps" % tid, "rb") as maps:
                for line in maps:
                    fields = line.split(None, 5)
                    if len(fields) == 6 and fields[5].startswith(b"/"):
                        self.paths.add(fields[5].rstrip(b"\n"))
        except OSError:
            pass
        exe = self.link(tid, "exe")
        if exe:
            self.paths.add(exe)

    def link(self, tid, name):
        try:
            return os.readlink(("/proc/%d/%s" % (tid, name)).encode())
        except OSError:
            return None

    def read_string(self, tid, address):
        """A NUL-terminated string from the tracee, read page by page (a path is < 4096 bytes)."""
        descriptor = self.memory.get(tid)
        if descriptor is None:
            try:
                descriptor = os.open("/proc/%d/mem" % tid, os.O_RDONLY)
            except OSError:
                return None
            self.memory[tid] = descriptor
        pieces = []
        for _ in range(3):
            try:
                data = os.pread(descriptor, 4096 - address % 4096, address)
            except OSError:
                return None
            end = data.find(b"\0")
            if end >= 0:
                pieces.append(data[:end])
                return b"".join(pieces)
            if not data:
                return None
            pieces.append(data)
            address += len(data)
        return None

    def forget(self, tid):
        descriptor = self.memory.pop(tid, None)
        if descriptor is not None:
            os.close(descriptor)

    def resolved_paths(self):
        """Each path as the command named it (normalised) and with its symlinks resolved."""
        result = set()
        for raw in self.paths:
            path = os.fsdecode(raw)
            if path.startswith(SKIPPED):
                continue
            result.add(os.path.normpath(path))
            real = os.path.realpath(path)
            if not real.startswith(SKIPPED):
                result.add(real)
        return sorted(result)


def child_report(read_end):
    try:
        return os.read(read_end, 4096).decode("utf-8", "replace")
    finally:
        os.close(read_end)


def metadata_fields(path):
    fields = {"name": "", "version": ""}
    try:
        with open(path, encoding="utf-8", errors="replace") as text:
            for line in text:
                if not line.strip():
                    break
                key, _, value = line.partition(":")
                key = key.strip().lower()
                if key in fields and not fields[key]:
                    fields[key] = value.strip()
    except OSError:
        pass
    return fields


def record_files(path):
    """The paths a RECORD lists inside its environment, relative to it."""
    import csv
    files = []
    try:
        with open(path, encoding="utf-8", errors="surrogateescape", newline="") as record:
            for row in csv.reader(record):
                if row and row[0]:
                    relative = os.path.normpath(row[0])
                    if not relative.startswith(("..", "/")):
                        files.append(relative)
    except (OSError, ValueError):
        pass
    return files


def distributions(environments):
    """Every *.dist-info directly in the environments: name, version and RECORD files."""
    found = []
    for env in environments:
        try:
            names = sorted(os.listdir(env))
        except OSError:
            continue
        for name in names:
            if name.endswith(".dist-info"):
                info = os.path.join(env, name)
                entry = {"env": env, "dir": name, "files": record_files(os.path.join(info, "RECORD"))}
                entry.update(metadata_fields(os.path.join(info, "METADATA")))
                found.append(entry)
    return found


def exit_code(status):
    if status is None:
        return 127
    if os.WIFEXITED(status):
        return os.WEXITSTATUS(status)
    return 128 + os.WTERMSIG(status)


def trace(spec, out, began):
    if sys.version_info < (3, 4):
        raise Unavailable("the tracer needs Python 3.4 or later, the image has %s" % sys.version.split()[0])
    try:
        import ctypes
        tracer = Tracer(ctypes)
    except Exception as error:
        raise Unavailable("the image's Python cannot load ctypes: %s" % error)
    for index, argv in enumerate(spec["attempts"]):
        pid, read_end = tracer.start(argv)
        write_result(out, {"status": "started", "attempt": index})
        status = tracer.run(pid)
        report = child_report(read_end)
        if report.startswith("exec 2 "):  # ENOENT: not in this image; the next attempt may be
            continue
        if report and not report.startswith("exec "):
            raise Unavailable("the traced child failed before its exec: " + report)
        code = exit_code(status)
        write_result(out, {
            "status": "traced",
            "attempt": index,
            "exitCode": code,
            "paths": tracer.resolved_paths(),
            "stops": tracer.stops,
            "processes": tracer.processes,
            "distributions": distributions(spec.get("environments", [])),
            "elapsedMs": int((time.time() - began) * 1000),
        })
        return code
    write_result(out, {"status": "missing"})
    return 127


def main():
    began = time.time()
    with open(sys.argv[1]) as text:
        spec = json.load(text)
    try:
        return trace(spec, spec["out"], began)
    except Unavailable as error:
        write_result(spec["out"], {"status": "unavailable", "reason": str(error)})
        return 125


if __name__ == "__main__":
    sys.exit(main())
`;
