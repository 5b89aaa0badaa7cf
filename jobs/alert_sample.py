"""The sample ``redline alert test`` sends: the archive's latest change, or a built-in example."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import Engine

from archive import queries
from archive.schema.tables import key_sha256
from archive.text.diff import paragraph_spans, word_ops
from archive.text.normalize import url_key
from archive.vocab import ChangeKind
from jobs.alert_messages import Message, build
from jobs.alert_sender import SendOptions

OLD = "The minister said on Wednesday that the plan would go ahead.\n\nTalks continue."
NEW = "The minister said on Thursday that the plan would be delayed.\n\nTalks continue."
AT = datetime(2024, 12, 5, 9, 30, tzinfo=UTC)


def sample_message(engine: Engine, rule: str, options: SendOptions) -> Message:
    """A test message for ``rule`` (marked as a test, with a fresh idempotency key)."""
    found = queries.latest_change(engine)
    change = queries.version_change(engine, *found) if found else _example()
    return build(f"test-{uuid.uuid4().hex}", rule, None, [change], options.base_url, options.diff_path, test=True)


def _example() -> queries.VersionChange:
    ops = word_ops(OLD, NEW)
    summary = queries.ChangeSummary([ChangeKind.HEADLINE, ChangeKind.BODY_EDIT], 4, 4, False, True, None, False)
    entry = queries.VersionEntry(2, AT, "Plan delayed, minister says", None, None, 14, summary)
    diff = queries.Diff("https://example.com/news/sample", queries.VersionStamp(1, AT), queries.VersionStamp(2, AT),
                        queries.FieldChange("Plan goes ahead, minister says", "Plan delayed, minister says"),
                        queries.FieldChange(None, None), queries.FieldChange(None, None),
                        [o for o in ops if o.op != "equal"], paragraph_spans(ops), OLD, NEW)
    return queries.VersionChange(entry, diff, key_sha256(url_key(diff.url))[:queries.SHORT_ID])
