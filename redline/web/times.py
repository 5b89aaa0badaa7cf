"""Times as the web view shows them: UTC ISO 8601 (as the JSON gives it), the time in a zone the reader
chose, and a relative age ("2 h ago"), all rendered on the server (the pages run no script)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from markupsafe import Markup

from archive.queries import iso

# (seconds in the unit, its symbol); an age is said in the largest unit it holds at least once, rounded down.
UNITS = ((365 * 86400, "y"), (86400, "d"), (3600, "h"), (60, "min"), (1, "s"))


def zone(name: str) -> ZoneInfo | None:
    """The IANA zone ``name`` (``Europe/Paris``), None for none, or ValueError naming it.

    >>> zone("Europe/Paris").key, zone("")
    ('Europe/Paris', None)
    >>> zone("Mars/Olympus")
    Traceback (most recent call last):
    ValueError: unknown time zone 'Mars/Olympus'; give an IANA name such as Europe/Paris or UTC
    """
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:  # ValueError: a path or a malformed key
        raise ValueError(f"unknown time zone {name!r}; give an IANA name such as Europe/Paris or UTC") from exc


def age(delta: timedelta) -> str:
    """How long ago, in one unit, rounded down; a time after now (a clock ahead) says "in ...".

    >>> age(timedelta(hours=2, minutes=59)), age(timedelta(days=3)), age(timedelta(seconds=0))
    ('2 h ago', '3 d ago', '0 s ago')
    >>> age(timedelta(days=800)), age(timedelta(minutes=-5))
    ('2 y ago', 'in 5 min')
    """
    seconds = int(abs(delta.total_seconds()))
    size, unit = next((s, u) for s, u in UNITS if seconds >= s or s == 1)
    said = f"{seconds // size} {unit}"
    return f"in {said}" if delta < timedelta(0) else f"{said} ago"


@dataclass(frozen=True)
class Clock:
    """One page's way of saying times: ``now`` for the ages, and the reader's zone (None: UTC only)."""

    now: datetime
    zone: ZoneInfo | None = None

    def parts(self, value: datetime) -> tuple[str, str | None, str]:
        """UTC ISO, the wall time in the reader's zone (None without one), and the age.

        >>> from datetime import UTC
        >>> c = Clock(datetime(2026, 12, 6, 12, 0, tzinfo=UTC), ZoneInfo("Europe/Paris"))
        >>> c.parts(datetime(2026, 12, 6, 9, 30, tzinfo=UTC))
        ('2026-12-06T09:30:00Z', '2026-12-06 10:30 Europe/Paris', '2 h ago')
        """
        local = value.astimezone(self.zone) if self.zone is not None else None
        return (iso(value) or "-", f"{local:%Y-%m-%d %H:%M} {self.zone.key}" if local and self.zone else None,
                age(self.now - value))

    def text(self, value: datetime | None) -> str:
        """A time as plain text (for a form's options).

        >>> from datetime import UTC
        >>> c = Clock(datetime(2026, 12, 6, 12, 0, tzinfo=UTC), ZoneInfo("Europe/Paris"))
        >>> c.text(datetime(2026, 12, 6, 9, 30, tzinfo=UTC))
        '2026-12-06T09:30:00Z (2026-12-06 10:30 Europe/Paris) · 2 h ago'
        >>> Clock(c.now).text(c.now - timedelta(days=3)), c.text(None)
        ('2026-12-03T12:00:00Z · 3 d ago', '-')
        """
        if value is None:
            return "-"
        utc, local, ago = self.parts(value)
        return f"{utc}{f' ({local})' if local else ''} · {ago}"

    def element(self, value: datetime | None) -> Markup:
        """The UTC time in a ``<time datetime>`` element, then the zone's wall time and the age, each kept
        on one line (a narrow screen breaks between them, never inside one).

        >>> from datetime import UTC
        >>> c = Clock(datetime(2026, 12, 6, 12, 0, tzinfo=UTC))
        >>> str(c.element(datetime(2026, 12, 6, 10, 0, tzinfo=UTC)))
        '<span class="moment"><time datetime="2026-12-06T10:00:00Z">2026-12-06T10:00:00Z</time> \
<span class="age">· 2 h ago</span></span>'
        """
        if value is None:
            return Markup("<time>-</time>")
        utc, local, ago = self.parts(value)
        shown = Markup('<time datetime="%s">%s</time>') % (utc, utc)
        if local:
            shown += Markup(' <span class="local">(%s)</span>') % local
        return Markup('<span class="moment">%s <span class="age">· %s</span></span>') % (shown, ago)

