"""Keep alert targets' secrets out of every log line.

Alert rules store apprise URLs with their tokens and passwords, and apprise logs what it sends
(at DEBUG: the full service URL and the payload). ``install`` puts a filter on the root logger's
handlers, so every record, at every level and from every library, has the secrets of every target
this process knows scrubbed before it is written; apprise's records below WARNING (which carry the
payloads) are dropped unless ``verbose``.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Iterable

from sqlalchemy import Engine

from archive.watch.alerts import scrub

_known: set[str] = set()
_lock = threading.Lock()
_FORMATTER = logging.Formatter()


def remember(targets: Iterable[str]) -> None:
    """Scrub these targets' secrets from every later record (the sender calls it before it sends)."""
    with _lock:
        _known.update(targets)


def known() -> list[str]:
    with _lock:
        return list(_known)


class ScrubSecrets(logging.Filter):
    """A handler filter: the record's message, traceback and stack without any known target's secrets;
    apprise's DEBUG and INFO records only when ``verbose``."""

    def __init__(self, verbose: bool = False) -> None:
        super().__init__()
        self.verbose = verbose

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.partition(".")[0] == "apprise" and record.levelno < logging.WARNING and not self.verbose:
            return False
        targets = known()
        record.msg, record.args = scrub(record.getMessage(), targets), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = _FORMATTER.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = scrub(record.exc_text, targets)
        if record.stack_info:
            record.stack_info = scrub(record.stack_info, targets)
        return True


def install(engine: Engine | None = None, verbose: bool = False) -> None:
    """Scrub, on the root logger's handlers, the secrets of every target the sender meets and of every
    rule ``engine``'s archive holds now."""
    from archive.queries import alert_rules

    if engine is not None:
        remember(target for rule in alert_rules(engine) for target in rule.targets)
    for handler in logging.getLogger().handlers:
        handler.addFilter(ScrubSecrets(verbose))
