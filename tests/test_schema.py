"""The Core tables in archive.tables are the one definition of the schema: the Alembic migrations
must build exactly them, and the ORM classes must map onto them rather than define their own."""
from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from archive import models as m
from archive import schedule_models as sm
from archive import tables as t
from archive.db import open_engine


def test_migrations_build_exactly_the_core_tables(tmp_path: Path) -> None:
    engine = open_engine(f"sqlite:///{tmp_path / 'fresh.db'}", writer=True)
    try:
        with engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), t.metadata) == []
    finally:
        engine.dispose()


def test_orm_classes_map_the_core_tables() -> None:
    assert m.Base.metadata is t.metadata
    mapped = {cls.__table__ for cls in (m.Article, m.ArticleURL, m.Body, m.Fetch, m.Version, m.Event, m.SiteRule,
                                        m.TemplateParagraph, m.ChainRow, m.ChainTimestamp, sm.Schedule, sm.Tracked,
                                        sm.Run)}
    core_only = {t.alert_rules, t.alert_outbox}  # archive.alerts writes these through Core
    assert mapped | core_only == set(t.metadata.tables.values())
    assert m.Version.__mapper__.columns.keys() == t.versions.c.keys()
