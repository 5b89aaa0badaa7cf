"""``redline serve``'s promises checked without a browser: the engine the command really hands its app
refuses writes, and the real server process escapes hostile text and sends its security headers on
every answer. (tests/test_web.py checks the pages in Chromium; this module runs where there is none.)"""
from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from archive import queries
from archive.capture import Capture, Extracted
from archive.schema import tables as t
from archive.schema.db import open_engine
from archive.store.facade import Archive
from tests.conftest import invoke, start_serve
from tests.test_web import get

URL = "https://news.example/world/talks"
HOSTILE = '<script>window.__pwned=1</script> Talks "collapse" <img src=x onerror=alert(1)>'
BODY = ("Negotiators met for the third round of talks in the capital on Wednesday evening. The delegations "
        "discussed border crossings, trade quotas, fishing rights and the release of detained sailors.\n\n"
        "Officials on both sides said a joint statement would follow once the ministers had agreed on it.")


def record_two_versions(db_url: str) -> None:
    """An article with a plain and then a hostile headline, recorded as a crawl would record them."""
    engine = open_engine(db_url, writer=True, must_exist=False)
    archive, t0 = Archive(engine), datetime(2024, 12, 5, 9, tzinfo=UTC)
    try:
        for n, title in enumerate(["Talks resume", HOSTILE], 1):
            fetch = Capture(URL, t0 + timedelta(hours=n), final_url=URL, status=200, body=f"<p>{n}</p>".encode())
            archive.record(fetch, Extracted(BODY, title=title, extractor="test"))
    finally:
        engine.dispose()


def served_app(db: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The app the real ``redline serve`` command builds and hands to uvicorn, caught at uvicorn's
    door (the one edge replaced: nothing listens)."""
    import uvicorn

    caught: list[Any] = []

    def catch(server: uvicorn.Server, sockets: list[Any]) -> None:
        caught.append(server.config.app)
        for sock in sockets:
            sock.close()

    monkeypatch.setattr(uvicorn.Server, "run", catch)
    result = invoke(db, "serve", "--port", "0")
    assert result.exit_code == 0, result.output
    [app] = caught
    return app


def write_is_refused(app: Any) -> str:
    """Try to delete every event through the engine the app reads with; the database's refusal."""
    with pytest.raises(DBAPIError) as refused, app.state.engine.begin() as conn:
        conn.execute(text("DELETE FROM versions"))
    return str(refused.value.orig)


def versions_count(db_url: str) -> int:
    engine = open_engine(db_url)
    try:
        with engine.connect() as conn:
            return conn.scalar(select(func.count()).select_from(t.versions))
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def archive_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    db = str(tmp_path_factory.mktemp("serve") / "archive.db")
    record_two_versions(f"sqlite:///{db}")
    return db


def test_the_engine_serve_hands_its_app_refuses_writes(archive_db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    app = served_app(archive_db, monkeypatch)
    try:
        assert "attempt to write a readonly database" in write_is_refused(app)
    finally:
        app.state.engine.dispose()
    assert versions_count(f"sqlite:///{archive_db}") == 2


@pytest.fixture(scope="module")
def server(archive_db: str) -> Iterator[str]:
    proc, line = start_serve(archive_db)
    try:
        yield re.search(r"http://\S+/", line).group(0).rstrip("/")
    finally:
        proc.terminate()
        proc.wait(30)


def _article_id(db: str) -> str:
    engine = open_engine(f"sqlite:///{db}")
    try:
        return queries.short_id(engine, queries.article(engine, URL))
    finally:
        engine.dispose()


def test_hostile_text_is_escaped_on_every_page(server: str, archive_db: str) -> None:
    aid = _article_id(archive_db)
    for path in ("/", "/articles", f"/a/{aid}", f"/a/{aid}/v/2", f"/a/{aid}/diff/1/2"):
        status, _, body = get(server + path)
        page = body.decode()
        assert status == 200, path
        assert "<script>" not in page and "<img src=x" not in page, path
        assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in page, path


def test_every_answer_carries_the_security_headers(server: str) -> None:
    for path, expected in (("/", 200), ("/a/ffffffffff", 404), ("/a/x/v/notanumber", 404), ("/api/list", 200),
                           ("/feed.atom", 200)):
        status, headers, body = get(server + path)
        assert status == expected, path
        assert headers["Content-Security-Policy"].startswith("default-src 'none';"), path
        assert "script-src" not in headers["Content-Security-Policy"], path
        assert headers["X-Content-Type-Options"] == "nosniff" and headers["Referrer-Policy"] == "no-referrer", path
        assert b"Traceback" not in body, path
