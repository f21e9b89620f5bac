#!/usr/bin/env python3
"""A package index on loopback for builds that run with network host: serves DIR's wheels as a
directory listing (pip's --find-links reads it) with a Cache-Control header, so pip stores what it
downloads in its HTTP cache, as it does from PyPI (python -m http.server sends none, and pip then
caches nothing).

    python3 scripts/wheel-index.py DIR [PORT]

Prints the index URL (http://127.0.0.1:PORT/) on the first line of stdout, then serves until
killed. PORT 0 (the default) takes a free port.
"""
import functools
import http.server
import sys


class CachingHandler(http.server.SimpleHTTPRequestHandler):
    def end_headers(self):
        self.send_header("Cache-Control", "max-age=86400")
        super().end_headers()

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass


def main() -> None:
    root = sys.argv[1]
    port = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    handler = functools.partial(CachingHandler, directory=root)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    print(f"http://127.0.0.1:{server.server_address[1]}/", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
