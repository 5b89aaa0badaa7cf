"""Reading raw bodies: the one way to get a capture's bytes back, whole or from its delta chain.

A body row is either a keyframe (compressed whole) or a delta against ``base_sha256``
(:mod:`archive.text.textpack`). Every reader (``verify``, WARC export, ``reextract``, ``renoise``,
the writer's next delta, ``repack``) goes through :class:`BodyReader`, which reads the chain back to the
nearest keyframe (or a body it has just decoded) in one query, then decodes forward. It never trusts a stored
digest: callers that vouch for bytes (``verify``) hash what it returns.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Any, Protocol

from sqlalchemy import Select, bindparam, literal, select

from archive.errors import ArchiveError
from archive.schema import tables as t
from archive.text.textpack import BODY_KEY_EVERY, decompress_body, decompress_chain

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
        """The full bytes of body ``sha``; ArchiveError when it, or a body it was stored against, is missing.

        One query: the body and the bodies it is stored against, back to a keyframe or to a body this
        reader holds (the previous capture, when an article's captures are read in order).
        """
        if sha in self._decoded:
            self._decoded.move_to_end(sha)
            return self._decoded[sha]
        chain: list[bytes] = []  # stored data, newest first
        base = None
        for data, base in self.db.execute(_CHAIN, {"sha": sha, "known": list(self._decoded)}):
            chain.append(data)
        if not chain or (base is not None and base not in self._decoded):
            raise ArchiveError(f"raw body {sha} cannot be read: it, or a body it is stored against, is missing "
                               "(or its chain does not end in a keyframe)")
        if base is None:  # down to a keyframe: zstd decodes the whole chain in one call
            return self._remember(sha, decompress_chain(chain[::-1]))
        body = self._decoded[base]
        for data in reversed(chain):
            body = decompress_body(data, body)
        return self._remember(sha, body)

    def known(self, sha: str, body: bytes) -> None:
        """Keep bytes the caller already holds under their sha256 (the writer, for a body it just stored)."""
        self._remember(sha, body)

    def _remember(self, sha: str, body: bytes) -> bytes:
        self._decoded[sha] = body
        self._decoded.move_to_end(sha)
        while len(self._decoded) > self.keep:
            self._decoded.popitem(last=False)
        return body


def _chain() -> Select[Any]:
    """Body ``:sha`` and the bodies it is stored against, newest first, down to a keyframe or to one of
    ``:known``, in one query (a recursive CTE); bounded, so a loop in damaged rows ends."""
    start = select(B.c.data, B.c.base_sha256, literal(0).label("n")).where(B.c.sha256 == bindparam("sha"))
    chain = start.cte("chain", recursive=True)
    older = B.alias("older")
    chain = chain.union_all(select(older.c.data, older.c.base_sha256, chain.c.n + 1)
                            .where(older.c.sha256 == chain.c.base_sha256,
                                   chain.c.base_sha256.not_in(bindparam("known", expanding=True)),
                                   chain.c.n < 4 * BODY_KEY_EVERY))
    return select(chain.c.data, chain.c.base_sha256).order_by(chain.c.n)


_CHAIN = _chain()


def read_body(db: Executes, sha: str) -> bytes:
    """The full bytes of one stored body (see :class:`BodyReader` to read many)."""
    return BodyReader(db).read(sha)
