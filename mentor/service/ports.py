"""Is a port free to serve on? ``make run`` asks before starting the service, so a
busy port is one line at once instead of an error after the start-up's work.

Run as a script (``python mentor/service/ports.py HOST PORT``: it imports
nothing of the service, so it answers in well under a second); it exits 1
with one line on standard error when the port cannot be used.
"""

from __future__ import annotations

import errno
import socket
import sys

from mentor.errors import MentorError


def check_port(host: str, port: int) -> None:
    """Raise :class:`~mentor.errors.MentorError` (one line) unless a server can
    listen on ``host:port`` now (bound as uvicorn binds, then released)."""
    if not 0 < port < 65536:
        raise MentorError(f"PORT={port}: a port is a number from 1 to 65535")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as error:
        raise MentorError(f"HOST={host}: not an address to listen on ({error.strerror})") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(address)
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise MentorError(
                    f"port {port} on {host} is already in use (another server?): stop it, "
                    f"or choose another port: make run PORT={port + 1}"
                ) from None
            raise MentorError(
                f"cannot listen on {host}:{port}: {error.strerror or error}"
            ) from None


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: ports.py HOST PORT", file=sys.stderr)
        return 2
    if not argv[1].isdigit():
        print(f"mentor: PORT={argv[1]}: a port is a number from 1 to 65535", file=sys.stderr)
        return 1
    try:
        check_port(argv[0], int(argv[1]))
    except MentorError as error:
        print(f"mentor: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
