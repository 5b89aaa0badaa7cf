"""Every view command README shows, text and ``--json``, run on one archive: their outputs, to compare
two trees byte for byte (a refactoring that changes no behaviour must print the same).

    python -m bench.outputs --db redline-demo.db > new.txt
    python -m bench.outputs --db redline-demo.db --tree ../old-checkout > old.txt && diff old.txt new.txt

``--tree`` runs another checkout's ``redline`` (its directory first on ``PYTHONPATH``) on the same
archive, copied to a temporary file per command, so the commands that write (migrations, exports) see
the same archive each time. Exports are shown as the sha256 of each file they write.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def commands(db: Path) -> list[list[str]]:
    """The fixed list, with the demo archive's own article URLs and IDs filled in."""
    with sqlite3.connect(db) as conn:
        urls = [row[0] for row in conn.execute("SELECT key FROM articles ORDER BY id")]
    url = urls[0]
    fixed = [["list"], ["list", "--changed-since", "3650d"], ["runs"], ["due"], ["schedule", "list"],
             ["alert", "list"], ["alert", "log"], ["ignore", "list"], ["verify"]]
    per_url = [["log", "{u}"], ["log", "{u}", "--all"], ["log", "{u}", "--stealth"], ["log", "{u}", "--events"],
               ["show", "{u}"], ["show", "{u}", "--version", "1"], ["diff", "{u}"],
               ["diff", "{u}", "--format", "unified"], ["diff", "{u}", "--with-noise", "--context"],
               ["verify", "--article", "{u}"]]
    out = [*fixed, *[[a.replace("{u}", u) for a in cmd] for u in urls for cmd in per_url]]
    out += [[*cmd, "--json"] for cmd in out if cmd[0] not in ("diff",) or "--format" not in cmd]
    out += [["export", "{out}", "--format", fmt] for fmt in ("txt", "md", "jsonl", "warc")]
    out += [["log", url.upper()]]  # a bad input: the same one-line error
    return out


def run(tree: Path, db: Path, argv: list[str]) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "archive.db"
        shutil.copy(db, copy)
        out_dir = Path(tmp) / "out"
        argv = [a.replace("{out}", str(out_dir)) for a in argv]
        env = {**os.environ, "PYTHONPATH": str(tree), "NO_COLOR": "1", "COLUMNS": "120", "TZ": "UTC"}
        done = subprocess.run([sys.executable, "-m", "redline", "--db", str(copy), *argv], cwd=tmp, env=env,
                              capture_output=True, text=True, check=False)
        text = done.stdout.replace(str(copy), "ARCHIVE").replace(tmp, "TMP")
        err = done.stderr.replace(str(copy), "ARCHIVE").replace(tmp, "TMP")
        files = sorted(p for p in out_dir.rglob("*") if p.is_file()) if out_dir.exists() else []
        hashes = "".join(f"  {p.relative_to(out_dir)} {hashlib.sha256(p.read_bytes()).hexdigest()}\n" for p in files)
        return f"$ redline {' '.join(argv).replace(tmp, 'TMP')}\nexit {done.returncode}\n{text}{err}{hashes}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True, help="the archive (e.g. the demo's redline-demo.db)")
    parser.add_argument("--tree", type=Path, default=ROOT, help="the checkout whose redline runs")
    args = parser.parse_args()
    for argv in commands(args.db):
        sys.stdout.write(run(args.tree.resolve(), args.db.resolve(), argv))


if __name__ == "__main__":
    main()
