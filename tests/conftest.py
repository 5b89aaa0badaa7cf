"""Shared fixtures: a loopback news site, a real SQLite archive, and real crawls."""
from __future__ import annotations

import json
import select
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from redline.cli import cli
from redline.fakesite import FakeSite, Story, load_stories, published_now  # noqa: F401  (used by tests)

FAST = {"DOWNLOAD_DELAY": "0", "AUTOTHROTTLE_ENABLED": "False", "CONCURRENT_REQUESTS_PER_DOMAIN": "8",
        "RETRY_TIMES": "1", "DOWNLOAD_TIMEOUT": "10", "REDLINE_EXTRACT_WORKERS": "2"}


@pytest.fixture
def site() -> Iterator[FakeSite]:
    """A fake news site on 127.0.0.1 serving the five fixture stories."""
    fake = FakeSite().start()
    for story in load_stories():
        fake.add(story)
    yield fake
    fake.stop()


@pytest.fixture
def stories(site: FakeSite) -> list[Story]:
    return [route.story for route in site.routes.values() if route.story]


@pytest.fixture
def urls(site: FakeSite, stories: list[Story]) -> list[str]:
    return [site.url(s.slug) for s in stories]


@pytest.fixture
def db(tmp_path: Path) -> str:
    """Path of a fresh SQLite archive file."""
    return str(tmp_path / "archive.db")


def run_redline(db: str, *args: str, timeout: float = 180,
                env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the real ``redline`` command in a child process, as a user would (``env``: its whole environment)."""
    return subprocess.run([sys.executable, "-m", "redline", "--db", db, *args], capture_output=True, text=True,
                          timeout=timeout, check=False, env=env)


def crawl(db: str, *urls: str, settings: dict[str, str] | None = None, exit_code: int = 0) -> dict[str, Any]:
    """One real crawl pass in a subprocess; returns its JSON summary (``exit_code`` 1: no URL was fetched)."""
    args = ["crawl", "--json"]
    for name, value in {**FAST, **(settings or {})}.items():
        args += ["-s", f"{name}={value}"]
    done = run_redline(db, *args, "--", *urls)
    assert done.returncode == exit_code, done.stderr
    return json.loads(done.stdout)


def invoke(db: str, *args: str) -> Result:
    """Run a view command in-process with click's CliRunner."""
    return CliRunner().invoke(cli, ["--db", db, *args], catch_exceptions=False)


def invoke_json(db: str, *args: str) -> Any:
    result = invoke(db, *args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def downgrade(path: str, revision: str) -> None:
    """Take a SQLite archive back to an older schema revision with the migrations' own downgrades,
    to test what an upgrade from that revision does."""
    migrate(f"sqlite:///{path}", "downgrade", revision)


def upgrade(path: str, revision: str) -> None:
    """Bring a SQLite archive up to ``revision`` only (opening it would bring it to the head)."""
    migrate(f"sqlite:///{path}", "upgrade", revision)


def migrate(url: str, direction: str, revision: str) -> None:
    """Alembic on a plain engine of the archive at ``url`` (SQLite's table rebuilds need foreign keys off)."""
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import create_engine

    from archive.schema import db
    from archive.schema.db import MIGRATIONS

    db._current.clear()  # this process may have found the file at head: it must look again
    engine = create_engine(url)
    with engine.begin() as conn:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["connection"] = conn
        getattr(command, direction)(config, revision)
    engine.dispose()


def start_serve(db: str, *args: str) -> tuple[subprocess.Popen[str], str]:
    """A real ``redline serve`` process on a free port and the first line it printed (within 60 s)."""
    proc = subprocess.Popen([sys.executable, "-m", "redline", "--db", db, "serve", "--port", "0", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], 60)
    line = proc.stdout.readline() if ready else ""
    if not line:
        proc.kill()
        pytest.fail(f"redline serve did not start: {proc.communicate()[1]}")
    return proc, line
