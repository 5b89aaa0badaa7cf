"""Long histories in the store: flip-flops found by state fingerprint, and delta chains read back whole."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select, update

from archive.capture import Capture, Extracted
from archive.queries.reading import read_text
from archive.schema import models as m
from archive.schema.db import open_engine
from archive.store.facade import Archive
from archive.text.textpack import FULL_EVERY

URL = "https://news.example/world/talks"
T0 = datetime(2024, 12, 5, 9, 0, tzinfo=UTC)


def _text(n: int) -> str:
    return (f"Negotiators met for round {n} of the talks in the capital on Wednesday evening. The delegations "
            "discussed border crossings, trade quotas, fishing rights and the release of detained sailors.\n\n"
            "Officials on both sides said a joint statement would follow once the ministers had agreed on it.")


def _record(archive: Archive, n: int, text: str, title: str = "Talks resume") -> tuple[str, int | None]:
    fetch = Capture(URL, T0 + timedelta(hours=n), final_url=URL, status=200, body=f"<p>{n}</p>".encode(),
                  content_type="text/html")
    outcome = archive.record(fetch, Extracted(text, title=title, byline="Staff", extractor="test"))
    return outcome.kind, outcome.version


def _reverts(archive: Archive) -> dict[int, int | None]:
    with archive.sessions() as session:
        rows = session.execute(select(m.Version.number, m.Version.reverts_to))
        return {number: reverts for number, reverts in rows}


def test_flip_flops_found_by_fingerprint_and_for_versions_stored_without_one(tmp_path: Path) -> None:
    archive = Archive(open_engine(f"sqlite:///{tmp_path / 'a.db'}", writer=True))
    try:
        assert _record(archive, 1, _text(1), "Talks resume") == ("new-article", 1)
        assert _record(archive, 2, _text(1), "Talks collapse") == ("new-version", 2)
        assert _record(archive, 3, _text(1), "Talks resume") == ("new-version", 3)
        with archive.sessions.begin() as session:  # as if versions 1-3 predate fingerprints
            assert None not in session.scalars(select(m.Version.state_sha256)).all()
            session.execute(update(m.Version).values(state_sha256=None))
        assert _record(archive, 4, _text(1), "Talks collapse") == ("new-version", 4)
        assert _record(archive, 5, _text(5), "Talks collapse") == ("new-version", 5)
        assert _record(archive, 6, _text(1), "Talks collapse") == ("new-version", 6)
        assert _reverts(archive) == {1: None, 2: None, 3: 1, 4: 2, 5: None, 6: 4}
    finally:
        archive.engine.dispose()


def test_every_version_of_a_long_history_reads_back(tmp_path: Path) -> None:
    archive = Archive(open_engine(f"sqlite:///{tmp_path / 'a.db'}", writer=True))
    count = FULL_EVERY + 3
    try:
        for n in range(1, count + 1):
            assert _record(archive, n, _text(n))[1] == n
        with archive.sessions() as session:
            rows = session.scalars(select(m.Version).order_by(m.Version.number)).all()
            assert [read_text(session, v) for v in rows] == [_text(n) for n in range(1, count + 1)]
            assert [v.number for v in rows if v.text_base is None] == [1, FULL_EVERY + 1]
    finally:
        archive.engine.dispose()
