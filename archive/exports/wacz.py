"""Package a WARC, its page list and extra files as a WACZ with py-wacz, reproducibly.

py-wacz (``wacz create``) builds the package: the CDXJ index, ``pages/pages.jsonl``,
``datapackage.json`` with the sha256 of every file, and ``datapackage-digest.json``. Three things
it takes from the clock are pinned so that the same inputs give the same bytes: the ZIP entries'
times and the datapackage's ``created`` (both set to ``when``, a time from the archive, in UTC), and
the WARC entry's time (its file's mtime, which py-wacz reads as local time: set so that it reads
``when`` in UTC too, so the bytes do not depend on the time zone). Extra files are added through py-wacz's
own datapackage step, so they are hashed and listed like every other file; each must sit exactly
one folder deep (``citation/x.md``), which is what ``wacz validate`` checks paths against. No main
page is named (``--url``/``--ts``): py-wacz would then replace the given page entry with one whose
id is random.
py-wacz prints progress to stdout; it is captured and shown only if packaging fails.
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import time
import zipfile
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from unittest import mock

from archive.errors import ArchiveError


class PackageError(ArchiveError):
    """py-wacz could not build the package."""


def write_wacz(out: Path, warc: Path, pages_jsonl: Path, extras: Mapping[str, bytes], *, when: datetime,
               title: str) -> None:
    """Write ``out`` (replaced atomically) from a WARC, a json-pages-1.0 file and extra files."""
    import wacz.main as wacz_main
    import wacz.waczindexer as wacz_indexer

    fixed = when.astimezone(UTC).timetuple()[:6]
    created = when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    base_indexer = wacz_indexer.WACZIndexer

    class Indexer(base_indexer):  # type: ignore[misc, valid-type]
        def generate_datapackage(self, res, wacz):  # type: ignore[no-untyped-def]
            for name, data in extras.items():
                info = zipfile.ZipInfo(name, fixed)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                wacz.writestr(info, data)
            package = json.loads(super().generate_datapackage(res, wacz))
            package["created"] = created
            return json.dumps(package, indent=2)

    stamp = time.mktime((*fixed, 0, 0, -1))  # py-wacz reads this back as local time: the same ZIP time anywhere
    os.chmod(warc, 0o644)
    os.utime(warc, (stamp, stamp))
    tmp = out.with_name(f".{out.name}.tmp")
    args = ["create", str(warc), "-o", str(tmp), "-p", str(pages_jsonl), "--title", title]
    printed = io.StringIO()
    try:
        with (mock.patch.object(wacz_main, "now", lambda: fixed), mock.patch.object(wacz_indexer, "now", lambda: fixed),
              mock.patch.object(wacz_main, "WACZIndexer", Indexer), contextlib.redirect_stdout(printed)):
            code = wacz_main.main(args)
        if code != 0:
            raise PackageError(f"py-wacz could not package {out}: {_last_line(printed.getvalue())}")
        os.replace(tmp, out)
    except (OSError, ValueError) as exc:
        raise PackageError(f"cannot write {out}: {getattr(exc, 'strerror', None) or exc}") from exc
    finally:
        tmp.unlink(missing_ok=True)


def _last_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "no reason given"
