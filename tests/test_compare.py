"""What counts as a change, at the store (``archive.store.compare``): text is compared after NFKC, and a
change is declared only when the page's declared modification time moved. Recorded through
``Archive.record`` as a crawl records them, read back with the CLI's JSON."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from archive.capture import Capture, Extracted
from archive.schema.db import open_engine
from archive.store.facade import Archive
from tests.conftest import invoke_json

URL = "https://news.example/world/talks"
BODY = ("Negotiators met for the third round of talks in the capital on Wednesday evening. The delegations "
        "discussed border crossings, trade quotas, fishing rights and the release of detained sailors.\n\n"
        "Officials on both sides said a joint statement would follow once the ministers had agreed on it.")


@pytest.fixture
def record(tmp_path: Path) -> Iterator[tuple[str, Any]]:
    """The archive's path, and a function recording the next capture of URL."""
    db = str(tmp_path / "archive.db")
    engine = open_engine(f"sqlite:///{db}", writer=True, must_exist=False)
    archive, t0, n = Archive(engine), datetime(2024, 12, 5, 9, tzinfo=UTC), [0]

    def capture(text: str, updated: str | None = None) -> str:
        n[0] += 1
        fetch = Capture(URL, t0 + timedelta(hours=n[0]), final_url=URL, status=200, body=f"<p>{n[0]}</p>".encode())
        return archive.record(fetch, Extracted(text, title="Talks resume", updated=updated, extractor="test")).kind

    yield db, capture
    engine.dispose()


def test_text_is_compared_after_nfkc(record: tuple[str, Any]) -> None:
    db, capture = record
    assert capture(BODY.replace("fishing", "\ufb01shing").replace("third", "ｔｈｉｒｄ")) == "new-article"
    assert capture(BODY) == "unchanged"  # the ligature and fullwidth letters are the same text under NFKC
    assert capture(BODY.replace("fishing", "fisheries")) == "new-version"
    assert [v["version"] for v in invoke_json(db, "log", URL)] == [1, 2]


def test_an_edit_under_an_unmoved_stamp_is_stealth_not_declared(record: tuple[str, Any]) -> None:
    db, capture = record
    capture(BODY, updated="2024-12-05T08:00:00Z")
    capture(BODY.replace("Wednesday", "Thursday"), updated="2024-12-05T08:00:00Z")
    capture(BODY.replace("Wednesday", "Friday"), updated="2024-12-05T12:00:00Z")
    stealth, declared = (v["change"] for v in invoke_json(db, "log", URL)[1:])
    assert (stealth["declared"], stealth["stealth"]) == (False, True)
    assert (declared["declared"], declared["stealth"]) == (True, False)
