"""The writer's render-stamp decision (:mod:`archive.text.stamps` says what a render stamp is).

A fetch's stated update time that tracks the request is taken off the version: it is recorded on the
fetch (a ``render_stamps`` row, with ``declared``, the page's update time once the stamp is taken out),
and the page's next-latest stated update time, if any, takes its place. The latest version's own value
from that signal, stored before the stamp was recognized, is compared as the update time the previous
reading declared. Nothing stored before is rewritten.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.capture import Extracted
from archive.schema import models as m
from archive.text.classify import State
from archive.text.stamps import latest_plausible, tracks
from archive.vocab import FetchOutcome

GENERATED = "generated"  # the signal of a line labelled as the page's generation time
_READ = (FetchOutcome.CONTENT, FetchOutcome.NOISE_ONLY)  # fetches whose page was read, dates and all


def record_label(session: Session, row: m.Fetch, extracted: Extracted) -> None:
    """Keep a labelled generation time ("Page generated ...") on the fetch."""
    if extracted.render_stamp:
        _record(session, row, GENERATED, extracted.render_stamp, None)


def settle(session: Session, latest: m.Version, row: m.Fetch, extracted: Extracted, old: State,
           new: State) -> tuple[State, State]:
    """Both compared states with a render stamp taken out; ``extracted`` (what a version stores) too.

    The fetch's update time is a render stamp when it equals the fetch time and either the previous
    reading recorded this signal as one, or the latest version's value from it equalled its capture
    time too and nothing but that value changed since.
    """
    value, signal = extracted.updated, extracted.updated_signal
    if not (value and signal and tracks(value, row.fetched_at)):
        return old, new
    before = _previous(session, row, signal)
    old_tracked = latest.updated_signal == signal and tracks(latest.updated, latest.captured_at)
    alone = old_tracked and latest.updated != value and (old.title, old.byline, old.paragraphs) == (
        new.title, new.byline, new.paragraphs)
    if before is None and not alone:
        return old, new
    take_out(extracted, row.fetched_at)
    _record(session, row, signal, value, extracted.updated)
    new = replace(new, updated=extracted.updated)
    if old_tracked:
        old = replace(old, updated=before.declared if before is not None else new.updated)
    return old, new


def replay(session: Session, row: m.Fetch, extracted: Extracted, old_source: Extracted | m.Version,
           old_at: datetime, old: State, new: State) -> tuple[State, State]:
    """:func:`settle`'s decision as the crawl recorded it for ``row``, for a capture extracted and compared
    again (``renoise``): the recorded stamp is taken out of both sides as it was then."""
    value, signal = extracted.updated, extracted.updated_signal
    recorded = session.scalar(select(m.RenderStamp.id).where(m.RenderStamp.fetch_id == row.id,
                                                             m.RenderStamp.signal == signal, m.RenderStamp.at == value))
    if recorded is None:
        return old, new
    take_out(extracted, row.fetched_at)
    new = replace(new, updated=extracted.updated)
    if old_source.updated_signal == signal and tracks(old_source.updated, old_at):
        old = replace(old, updated=new.updated)
    return old, new


def take_out(extracted: Extracted, at: datetime) -> None:
    """Replace the page's update time (a render stamp) by the latest plausible one among its other signals;
    a publication time equal to the stamp goes too."""
    value, signal = extracted.updated, extracted.updated_signal
    fallback = latest_plausible([(s, v) for s, v in extracted.dates if s != signal], extracted.published, at)
    extracted.updated_signal, extracted.updated = fallback if fallback else (None, None)
    if extracted.published == value:
        extracted.published = None


def _record(session: Session, row: m.Fetch, signal: str, at: str, declared: str | None) -> None:
    """Add a render stamp to the fetch, once (``reextract`` reads a stored fetch again)."""
    if row.id is None:
        session.flush()  # a new fetch: its id
    elif session.scalar(select(m.RenderStamp.id).where(m.RenderStamp.fetch_id == row.id, m.RenderStamp.signal == signal,
                                                       m.RenderStamp.at == at)) is not None:
        return
    session.add(m.RenderStamp(fetch_id=row.id, signal=signal, at=at, declared=declared))


def _previous(session: Session, row: m.Fetch, signal: str) -> m.RenderStamp | None:
    """The render stamp from ``signal`` that the article's previous reading recorded, if any."""
    previous = (select(m.Fetch.id).where(m.Fetch.article_id == row.article_id, m.Fetch.id != row.id,
                                         m.Fetch.fetched_at <= row.fetched_at, m.Fetch.outcome.in_(_READ))
                .order_by(m.Fetch.fetched_at.desc(), m.Fetch.id.desc()).limit(1).scalar_subquery())
    return session.scalar(select(m.RenderStamp).where(m.RenderStamp.fetch_id == previous,
                                                      m.RenderStamp.signal == signal).limit(1))
