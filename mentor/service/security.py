"""Tokens and who is calling.

Three kinds of bearer token, told apart by their prefix:

- ``mo_...`` the operator token: creates workspaces, nothing else. It is not
  in the database: it comes from ``MENTOR_OPERATOR_TOKEN`` or from the file
  ``operator-token`` in the data directory (made on first start, mode 0600).
- ``mk_...`` a workspace key. Its role is ``admin`` (manages the workspace's
  courses, learners, keys, events and exports) or ``grader`` (for an app that
  grades answers on its side: posts outcomes and reads learners' practice,
  nothing else).
- ``ml_...`` a learner token: that learner's own practice (the attempts it is
  issued and answers, next items, state, export of their events), nothing
  else. It cannot post outcomes: the server grades its answers.

Tokens are 32 random bytes (256 bits, :func:`secrets.token_urlsafe`); the
database keeps only their SHA-256. A slow password hash (bcrypt, argon2) is
made for secrets people choose, which are guessable; a 256-bit random token
cannot be guessed, so recovering it from its SHA-256 means a preimage attack,
and a fast hash lets every request find its key by an indexed lookup of the
hash instead of trying a slow hash against every key. A stolen copy of the
database therefore gives no usable token. Looking up by hash also leaves no
timing side channel on the token itself.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

OPERATOR_PREFIX = "mo_"
ADMIN_PREFIX = "mk_"
LEARNER_PREFIX = "ml_"
#: How many characters of a token are kept in clear, to tell keys apart in listings.
SHOWN = 10


def new_token(prefix: str) -> str:
    """A fresh random token with the given kind prefix."""
    return prefix + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """The SHA-256 of a token, in hex: what the database keeps."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Principal:
    """Who is calling: the operator, a workspace admin, a workspace grader, or one
    learner."""

    kind: Literal["operator", "admin", "grader", "learner"]
    workspace_id: int | None = None
    key_id: int | None = None
    learner_id: int | None = None
    learner: str | None = None

    @property
    def scope(self) -> str:
        """What an Idempotency-Key is scoped to: the workspace's admins share one scope,
        its graders another, each learner has their own."""
        if self.kind in ("admin", "grader"):
            return self.kind
        return f"learner:{self.learner_id}"


class OperatorToken:
    """The operator's token, compared in constant time."""

    def __init__(self, token: str) -> None:
        if not token.startswith(OPERATOR_PREFIX) or len(token) < len(OPERATOR_PREFIX) + 32:
            raise ValueError(
                f"the operator token must start with {OPERATOR_PREFIX!r} and have at least "
                "32 more characters"
            )
        self._hash = token_hash(token)

    def matches(self, token: str) -> bool:
        return hmac.compare_digest(self._hash, token_hash(token))

    @classmethod
    def load(cls, data_dir: Path, token: str | None = None) -> tuple[OperatorToken, Path | None]:
        """The operator token: ``token`` if given, else ``MENTOR_OPERATOR_TOKEN``, else
        the file ``operator-token`` in ``data_dir`` (created, mode 0600, if missing).
        Returns the token and the file it came from (None when not from a file)."""
        token = token or os.environ.get("MENTOR_OPERATOR_TOKEN") or None
        if token:
            return cls(token.strip()), None
        path = data_dir / "operator-token"
        if not path.exists():
            data_dir.mkdir(parents=True, exist_ok=True)
            # Written whole under a temporary name, then linked into place: the link
            # fails if another process got there first, and then both use its token.
            tmp = data_dir / f".operator-token.{secrets.token_hex(6)}.tmp"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as handle:
                    handle.write(new_token(OPERATOR_PREFIX) + "\n")
                    handle.flush()
                    os.fsync(handle.fileno())
                try:
                    os.link(tmp, path)
                except FileExistsError:
                    pass
            finally:
                tmp.unlink(missing_ok=True)
        return cls(path.read_text(encoding="utf-8").strip()), path
