"""Package a WARC, its page list and extra files as a WACZ with py-wacz, reproducibly.

py-wacz's own command (``wacz create``, run as a child process through its public entry point) builds
the package: the CDXJ index, ``pages/pages.jsonl``, ``datapackage.json`` with the sha256 of every file,
and ``datapackage-digest.json``. Its three readings of the clock are then replaced so that the same
inputs give the same bytes: the package is copied entry by entry with every ZIP entry's time set to
``when`` (a time from the archive, in UTC), and ``datapackage.json``'s ``created`` set to ``when``. The
extra files (each exactly one folder deep, ``citation/x.md``, which is what ``wacz validate`` checks
paths against) are added in that copy before ``datapackage.json`` and listed in it with their sha256
and size the way py-wacz lists every file, and ``datapackage-digest.json`` is computed again over the
new ``datapackage.json``. Nothing of py-wacz is patched, so packaging is safe in any thread. No main
page is named (``--url``/``--ts``): py-wacz would then replace the given page entry with one whose id
is random. py-wacz's progress output is captured and shown only if packaging fails.
"""
from __future__ import annotations

import copy
import hashlib
import json
import os
import subprocess
import sys
import zipfile
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

from archive.errors import ArchiveError

DATAPACKAGE, DIGEST = "datapackage.json", "datapackage-digest.json"
_RUN_PY_WACZ = "import sys, wacz.main; sys.exit(wacz.main.main(sys.argv[1:]))"


class PackageError(ArchiveError):
    """py-wacz could not build the package."""


def write_wacz(out: Path, warc: Path, pages_jsonl: Path, extras: Mapping[str, bytes], *, when: datetime,
               title: str) -> None:
    """Write ``out`` (replaced atomically) from a WARC, a json-pages-1.0 file and extra files."""
    fixed = when.astimezone(UTC).timetuple()[:6]
    built, tmp = out.with_name(f".{out.name}.wacz-create"), out.with_name(f".{out.name}.tmp")
    try:
        done = subprocess.run([sys.executable, "-c", _RUN_PY_WACZ, "create", str(warc), "-o", str(built),
                               "-p", str(pages_jsonl), "--title", title],
                              capture_output=True, text=True, check=False, env={**os.environ, "TZ": "UTC"})
        if done.returncode != 0:
            raise PackageError(f"py-wacz could not package {out}: {_last_line(done.stdout + done.stderr)}")
        with zipfile.ZipFile(built) as source, zipfile.ZipFile(tmp, "w") as target:
            _copy_fixed(source, target, extras, fixed, when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
        os.replace(tmp, out)
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        raise PackageError(f"cannot write {out}: {getattr(exc, 'strerror', None) or exc}") from exc
    finally:
        built.unlink(missing_ok=True)
        tmp.unlink(missing_ok=True)


def _copy_fixed(source: zipfile.ZipFile, target: zipfile.ZipFile, extras: Mapping[str, bytes],
                fixed: tuple[int, ...], created: str) -> None:
    """Copy py-wacz's package with every entry at ``fixed``, the extras before its datapackage, and the
    datapackage (``created``, the extras' resources) and its digest made again."""
    infos = {info.filename: info for info in source.infolist()}
    for info in source.infolist():
        if info.filename not in (DATAPACKAGE, DIGEST):
            _write(target, info, source.read(info), fixed)
    package = json.loads(source.read(DATAPACKAGE))
    for name, data in extras.items():
        extra = zipfile.ZipInfo(name, fixed)
        extra.compress_type, extra.external_attr = zipfile.ZIP_DEFLATED, 0o644 << 16
        target.writestr(extra, data)
        package["resources"].append({"name": os.path.basename(name).lower(), "path": name,
                                     "hash": "sha256:" + hashlib.sha256(data).hexdigest(), "bytes": len(data)})
    package["created"] = created
    datapackage = json.dumps(package, indent=2).encode("utf-8")
    _write(target, infos[DATAPACKAGE], datapackage, fixed)
    digest = json.loads(source.read(DIGEST))
    digest["hash"] = "sha256:" + hashlib.sha256(datapackage).hexdigest()
    _write(target, infos[DIGEST], json.dumps(digest, indent=2).encode("utf-8"), fixed)


def _write(target: zipfile.ZipFile, info: zipfile.ZipInfo, data: bytes, fixed: tuple[int, ...]) -> None:
    entry = copy.copy(info)
    entry.date_time = fixed  # type: ignore[assignment]
    target.writestr(entry, data)


def _last_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "no reason given"
