#!/bin/sh
# Runs inside the bench's trace image (the original image plus strace, see lower-bound.ts):
#   sh trace-smoke.sh SMOKE-COMMAND
# runs the smoke command under strace, following every process it starts, and prints one line
# `@@slimpy-bench-trace@@ {json}`: the command's exit status, the end of its output, and the real
# path of every file it opened (open, openat, openat2) or executed (execve, execveat) successfully.
# strace -y prints the path the kernel resolved for each opened descriptor (symlinks followed);
# executed names are resolved with realpath. Failed calls (the import system's probing) are left
# out by -e status=successful.
set -u
work=$(mktemp -d)
strace -f -ff -qq -y -e trace=open,openat,openat2,execve,execveat -e status=successful \
  -o "$work/trace" /bin/sh -c "$1" >"$work/output" 2>&1
status=$?
exec python3 - "$work" "$status" <<'EOF'
import json, os, re, sys

work, status = sys.argv[1], int(sys.argv[2])
opened = re.compile(r'= \d+<(/.*)>$')
executed = re.compile(r'^execve(?:at)?\((?:\d+<[^>]*>, )?"((?:[^"\\]|\\.)*)"')
paths = set()
for name in os.listdir(work):
    if not name.startswith('trace.'):
        continue
    with open(os.path.join(work, name), errors='surrogateescape') as trace:
        for line in trace:
            line = line.rstrip('\n')
            match = opened.search(line)
            if match:
                paths.add(match.group(1))
                continue
            match = executed.match(line)
            if match:
                name_given = match.group(1).replace('\\"', '"').replace('\\\\', '\\')
                paths.add(os.path.realpath(name_given))
with open(os.path.join(work, 'output'), errors='replace') as output:
    tail = output.read()[-4000:]
result = {'status': status, 'output': tail, 'paths': sorted(paths)}
print('@@slimpy-bench-trace@@ ' + json.dumps(result))
EOF
