"""Files an export writes: plain, safe names that stay inside the export folder, written atomically.

Shared by every export format (:mod:`archive.exports.dispatch`, :mod:`archive.exports.warc`).
"""
from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import IO

from archive.errors import ExportError

NAME_MAX = 255
RESERVED = {"CON", "PRN", "AUX", "NUL", "CLOCK$", "CONIN$", "CONOUT$",
            *(f"{p}{n}" for p in ("COM", "LPT") for n in "0123456789")}


def safe_component(name: str) -> str:
    """A single path component that is safe on POSIX and Windows, at most 255 bytes.

    >>> [safe_component(n) for n in ("..", "a/b", "con", "Com1.txt", "x\\x00y", "")]
    ['_', 'a_b', '_con', '_Com1.txt', 'x_y', '_']
    """
    name = re.sub(r'[\x00-\x1f\x7f/\\:*?"<>|]', "_", name).rstrip(" .") or "_"
    if name in (".", "..") or name.startswith(".") or name.split(".")[0].upper().rstrip(" ") in RESERVED:
        name = "_" + name
    while len(name.encode("utf-8")) > NAME_MAX:
        name = name[:-1]
    return name


def inside(root: Path, relative: PurePosixPath) -> Path:
    """``root / relative``, refusing anything that is not a plain relative path of safe components."""
    parts = relative.parts
    if relative.is_absolute() or any(p in ("", ".", "..") or safe_component(p) != p for p in parts):
        raise ExportError(f"refusing unsafe export path {str(relative)!r}")
    return root.joinpath(*parts)


@contextlib.contextmanager
def atomic_file(path: Path) -> Iterator[IO[bytes]]:
    """Write ``path`` through a temporary file in its directory: fsync, then ``os.replace``.

    On any error the temporary file is removed; OSError becomes a one-line ExportError.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".redline-", suffix=".tmp")
    except OSError as exc:
        raise ExportError(f"cannot write {path}: {exc.strerror or exc}") from exc
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise ExportError(f"cannot write {path}: {exc.strerror or exc}") from exc
        raise


def write_atomic(path: Path, data: bytes) -> bool:
    """Write bytes atomically unless the file already holds exactly them; True when written."""
    with contextlib.suppress(OSError):
        if path.is_file() and path.stat().st_size == len(data) and path.read_bytes() == data:
            return False
    with atomic_file(path) as fh:
        fh.write(data)
    return True
