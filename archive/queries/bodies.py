"""Reading raw bodies: the one way to get a capture's bytes back, whole or from its delta chain.

A body row is either a keyframe (compressed whole) or a delta against ``base_sha256``
(:mod:`archive.text.textpack`). Every reader (``verify``, WARC export, ``reextract``, ``renoise``,
the writer's next delta, ``repack``) goes through :class:`BodyReader`, which walks back to the
nearest keyframe (or a body it has just decoded), then decodes forward. It never trusts a stored
digest: callers that vouch for bytes (``verify``) hash what it returns.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Any, Protocol

from sqlalchemy import select

from archive.errors import ArchiveError
from archive.schema import tables as t
from archive.text.textpack import BODY_KEY_EVERY, decompress_body

B = t.bodies


class Executes(Protocol):
    """A Connection or an ORM Session: anything that runs a Core select."""

    def execute(self, statement: Any, /) -> Any: ...


class BodyReader:
    """Decodes bodies on one Connection or Session, keeping the last few it decoded.

    Keeping ``keep`` bodies means reading an article's captures in order decodes each delta once.
    """

    def __init__(self, db: Executes, keep: int = 8) -> None:
        self.db = db
        self.keep = keep
        self._decoded: OrderedDict[str, bytes] = OrderedDict()

    def read(self, sha: str) -> bytes:
        """The full bytes of body ``sha``; ArchiveError when it, or a body it was stored against, is missing."""
        if sha in self._decoded:
            self._decoded.move_to_end(sha)
            return self._decoded[sha]
        chain: list[tuple[str, bytes]] = []  # (sha, stored data), newest first
        at: str | None = sha
        while at is not None and at not in self._decoded:
            if len(chain) > BODY_KEY_EVERY * 4:  # far past any depth the writer makes: a loop in damaged rows
                raise ArchiveError(f"raw body {sha}: its delta chain does not end in a keyframe")
            row = self.db.execute(select(B.c.data, B.c.base_sha256).where(B.c.sha256 == at)).first()
            if row is None:
                raise ArchiveError(f"raw body {at} is missing from the archive (needed to read {sha})")
            chain.append((at, row.data))
            at = row.base_sha256
        base = self._decoded[at] if at is not None else None
        for name, data in reversed(chain):
            base = decompress_body(data, base)
            self._remember(name, base)
        assert base is not None
        return base

    def known(self, sha: str, body: bytes) -> None:
        """Keep bytes the caller already holds under their sha256 (the writer, for a body it just stored)."""
        self._remember(sha, body)

    def _remember(self, sha: str, body: bytes) -> None:
        self._decoded[sha] = body
        self._decoded.move_to_end(sha)
        while len(self._decoded) > self.keep:
            self._decoded.popitem(last=False)


def read_body(db: Executes, sha: str) -> bytes:
    """The full bytes of one stored body (see :class:`BodyReader` to read many)."""
    return BodyReader(db).read(sha)
