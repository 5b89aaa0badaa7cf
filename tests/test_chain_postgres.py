"""The chain with several writers at once on PostgreSQL: appends are serialized, never forked."""
from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from tests.pg import skip_reason

if skip_reason():
    pytest.skip(skip_reason(), allow_module_level=True)

from archive.proof.verify import verify  # noqa: E402
from archive.schema.db import open_engine  # noqa: E402
from tests.pg import pg_server, pg_url  # noqa: E402,F401  (fixtures)
from tests.test_postgres import _capture, _race  # noqa: E402

WRITERS = 4


def _record_other_article(archive: Any, i: int) -> Any:
    """Writer ``i`` records two captures of its own article: no article lock is shared."""
    url = f"https://news.example/local/story-{i}"
    outcomes = []
    for n in (1, 2):
        fetch, extracted = _capture(10 * i + n)
        outcomes.append(archive.record(replace(fetch, url=url, final_url=url), extracted))
    return outcomes


def test_writers_on_different_articles_at_once_extend_one_chain(pg_url: str) -> None:
    open_engine(pg_url).dispose()
    # Every writer is held just before taking the chain lock until all have got there.
    results = _race(pg_url, WRITERS, _record_other_article, "SELECT PG_ADVISORY_XACT_LOCK(HASHTEXT('REDLINE-CHAIN")
    assert not [r for r in results.values() if isinstance(r, Exception)], results
    assert all([o.kind for o in r] == ["new-article", "new-version"] for r in results.values())
    engine = open_engine(pg_url)
    try:
        report = verify(engine)
    finally:
        engine.dispose()
    assert not report.problems, report.problems
    assert report.links == WRITERS * 4 and report.head[0] == WRITERS * 4  # 2 fetches + 2 versions each
