"""`pgping [conninfo]`: one connection attempt through libpq; prints what libpq said.

Exits 0 when libpq answered, whether or not a server did (with no server the attempt fails in
libpq with "connection refused", which proves the library was loaded and called); exits 1 when
the library could not be called at all.
"""
import sys

from pgping import library_version, ping


def main() -> int:
    conninfo = sys.argv[1] if len(sys.argv) > 1 else "host=127.0.0.1 port=5432 connect_timeout=3"
    ok, message = ping(conninfo)
    print(f"libpq {library_version()}: {'connected' if ok else 'no connection'}: {message.strip()}")
    return 0 if ok or "refused" in message or "could not connect" in message else 1


if __name__ == "__main__":
    sys.exit(main())
