"""A crawl as a typed request and result: the contract between whoever starts a crawl (the
scheduler, the worker's batcher, the demo) and the crawler's child process, ``python -m scraper``.

The child reads one ``CrawlRequest`` as JSON on stdin and writes one ``CrawlResult`` as JSON on
stdout; nothing parses the user-facing CLI's output. A crawl runs in a child process because a
Twisted reactor runs once per process, and a child contains memory growth and can be killed.

>>> result = CrawlResult(outcomes={"new-article": 2, "unchanged": 3, "gone": 1})
>>> result.fetched, result.failed, CrawlResult.from_json(result.to_json()) == result
(6, 1, True)
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from archive.vocab import RecordKind

KEPT = (RecordKind.NEW_ARTICLE, RecordKind.NEW_VERSION, RecordKind.UNCHANGED)


@dataclass
class CrawlRequest:
    """What one crawl process does: fetch ``urls``; with ``schedule``, first run that schedule's
    discovery (its feeds and sitemaps), track what it finds plus its listed URLs, and fetch what is
    due (or, without ``fetch_due``, only report the due URLs, for the work queue)."""

    db_url: str
    urls: list[str] = field(default_factory=list)
    settings: dict[str, str] = field(default_factory=dict)
    schedule: str | None = None
    fetch_due: bool = True

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> CrawlRequest:
        return cls(**json.loads(text))


@dataclass
class CrawlResult:
    """What a crawl process did: record kinds counted, and for schedule runs what discovery found."""

    outcomes: dict[str, int] = field(default_factory=dict)
    discovered: int = 0              # URLs newly tracked by the schedule
    due: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    stopped: bool = False            # a shutdown signal cut the crawl short
    learned: list[dict[str, Any]] = field(default_factory=list)    # template paragraphs the crawl learned
    site_wide: list[dict[str, Any]] = field(default_factory=list)  # site-wide edits it recorded versions of
    screenshots: dict[str, int] | None = None  # {"taken": n, "failed": n} after a crawl with screenshots on

    @property
    def fetched(self) -> int:
        return sum(self.outcomes.values())

    @property
    def failed(self) -> int:
        return sum(n for kind, n in self.outcomes.items() if kind not in KEPT)

    def summary(self) -> dict[str, Any]:
        """The figures ``redline crawl --json`` prints."""
        return {"fetched": self.fetched, "new_articles": self.outcomes.get(RecordKind.NEW_ARTICLE, 0),
                "new_versions": self.outcomes.get(RecordKind.NEW_VERSION, 0),
                "unchanged": self.outcomes.get(RecordKind.UNCHANGED, 0), "failed": self.failed,
                "outcomes": dict(sorted(self.outcomes.items())), "templates_learned": self.learned,
                "site_wide": self.site_wide, "screenshots": self.screenshots}

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> CrawlResult:
        return cls(**json.loads(text))
