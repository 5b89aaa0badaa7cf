"""The run history: one row per job run, written when it starts and completed when it ends.

A run whose process died leaves a row still marked "running"; ``mark_lost`` closes
such rows once their process is gone, so the history never claims a dead run is live.
"""
from __future__ import annotations

import os
import socket
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, case, func, select, update
from sqlalchemy.orm import Session

from archive.clock import utcnow
from archive.schema import schedule_models as sm

COUNTS = ("discovered", "fetched", "new_articles", "new_versions", "failures")


def start(engine: Engine, job: str, schedule_id: int | None, pid: int | None = None) -> int:
    """Open a run row; returns its id."""
    with Session(engine) as session, session.begin():
        row = sm.Run(job=job, schedule_id=schedule_id, started_at=utcnow(), outcome="running",
                    host=socket.gethostname(), pid=pid if pid is not None else os.getpid(),
                    **{name: 0 for name in COUNTS})
        session.add(row)
        session.flush()
        return row.id


def set_pid(engine: Engine, run_id: int, pid: int) -> None:
    with Session(engine) as session, session.begin():
        session.execute(update(sm.Run).where(sm.Run.id == run_id).values(pid=pid))


def finish(engine: Engine, run_id: int, outcome: str, counts: dict[str, int] | None = None,
           error: str | None = None) -> None:
    """Close a run with its counts. The first outcome and error recorded win: a scheduler that
    marks a run ``timeout`` before stopping it keeps that outcome when the run then closes itself."""
    values: dict[str, Any] = {
        "outcome": case((sm.Run.outcome == "running", outcome), else_=sm.Run.outcome),
        "error": func.coalesce(sm.Run.error, error), "ended_at": utcnow()}
    values.update({k: v for k, v in (counts or {}).items() if k in COUNTS})
    with Session(engine) as session, session.begin():
        session.execute(update(sm.Run).where(sm.Run.id == run_id).values(**values))


def mark_lost(engine: Engine) -> int:
    """Close this host's "running" rows whose process no longer exists; returns how many."""
    host = socket.gethostname()
    with Session(engine) as session, session.begin():
        rows = session.scalars(select(sm.Run).where(sm.Run.outcome == "running", sm.Run.host == host)).all()
        lost = [row for row in rows if row.pid is None or not _alive(row.pid)]
        for row in lost:
            row.outcome, row.ended_at = "interrupted", utcnow()
            row.error = "the process running it stopped without finishing"
        return len(lost)


def last_started(session: Session, schedule_id: int) -> datetime | None:
    return session.scalar(select(sm.Run.started_at).where(sm.Run.schedule_id == schedule_id)
                          .order_by(sm.Run.started_at.desc()).limit(1))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
