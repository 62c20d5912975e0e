"""Helpers for testing the service: a real server in a subprocess, a fresh
PostgreSQL database, and a workspace set up in one call."""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

#: A fixed operator token for tests.
OPERATOR = "mo_" + "t" * 43


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def postgres_database(admin_url: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database on the server of ``admin_url``, dropped
    afterwards; yields its URL."""
    url = make_url(admin_url)
    name = f"mentor_test_{secrets.token_hex(6)}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield url.set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


class ServerProcess:
    """``python -m mentor.service`` (that is, ``mentor serve``) in a subprocess.

    Parameters
    ----------
    data_dir
        The server's data folder.
    db_url
        Its database (default SQLite in ``data_dir``).
    workers
        Server processes (``mentor serve --workers``).
    """

    def __init__(self, data_dir: Path, db_url: str | None = None, workers: int = 1) -> None:
        self.data_dir = Path(data_dir)
        self.db_url = db_url
        self.workers = workers
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        self.log = self.data_dir / "server.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> ServerProcess:
        """Start the server and wait until ``/healthz`` answers."""
        import httpx

        command = [sys.executable, "-m", "mentor.service", "--port", str(self.port)]
        command += ["--data-dir", str(self.data_dir), "--log-level", "warning"]
        if self.db_url:
            command += ["--db", self.db_url]
        if self.workers != 1:
            command += ["--workers", str(self.workers)]
        env = {**os.environ, "MENTOR_OPERATOR_TOKEN": OPERATOR}
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(command, env=env, stdout=log, stderr=log)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited: {self.log.read_text()[-2000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.url + "/healthz", timeout=2).status_code == 200:
                    return self
            time.sleep(0.1)
        self.kill()
        raise RuntimeError(f"the server did not start: {self.log.read_text()[-2000:]}")

    def kill(self) -> None:
        """SIGKILL: no shutdown, no flush, as in a crash."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it does not stop within 10 s."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def setup_workspace(client: Any, name: str = "school") -> str:
    """Create a workspace with the test operator token; returns its admin key.
    ``client`` is an httpx-like client (``post`` returning a response)."""
    response = client.post(
        "/v1/workspaces", json={"name": name}, headers={"Authorization": f"Bearer {OPERATOR}"}
    )
    if response.status_code != 201:
        raise RuntimeError(f"could not create a workspace: {response.text}")
    return response.json()["admin_key"]["key"]


def bearer(token: str) -> dict[str, str]:
    """The Authorization header for a token."""
    return {"Authorization": f"Bearer {token}"}
