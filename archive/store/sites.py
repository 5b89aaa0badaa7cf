"""Per-site crawl defaults (``redline site set/unset``): rows of the ``sites`` table."""
from __future__ import annotations

from sqlalchemy import Engine, delete, select

from archive.clock import utcnow
from archive.errors import ArchiveError
from archive.schema import tables as t
from archive.text.normalize import check_host
from archive.vocab import RenderMode


def set_site(engine: Engine, host: str, render: RenderMode | None = None, screenshot: bool | None = None) -> str:
    """Set what is given for ``host`` (checked, lower-cased), keeping what is not; returns the host."""
    name = check_host(host)
    values: dict[str, object] = {"updated_at": utcnow()}
    if render is not None:
        values["render"] = RenderMode(render).value
    if screenshot is not None:
        values["screenshot"] = screenshot
    with engine.begin() as conn:
        if conn.execute(select(t.sites.c.host).where(t.sites.c.host == name)).first() is None:
            conn.execute(t.sites.insert().values(host=name, **values))
        else:
            conn.execute(t.sites.update().where(t.sites.c.host == name).values(**values))
    return name


def unset_site(engine: Engine, host: str) -> str:
    """Drop ``host``'s defaults, or ArchiveError when it has none; returns the host."""
    name = check_host(host)
    with engine.begin() as conn:
        if conn.execute(delete(t.sites).where(t.sites.c.host == name)).rowcount == 0:
            raise ArchiveError(f"no defaults for site {name}; see 'redline site list'")
    return name
