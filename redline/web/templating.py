"""The Jinja2 templates, and the diff as one self-contained page for citation bundles.

Kept apart from :mod:`redline.web.app` so that ``redline cite`` renders the same diff template as the
web view without loading the web server."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context
from jinja2.runtime import Context
from markupsafe import Markup

from redline.render import describe
from redline.web import diffview, markup

if TYPE_CHECKING:
    from datetime import datetime

    from archive.queries import Diff

HERE = Path(__file__).parent


def templates() -> Environment:
    """The Jinja2 environment: autoescaping on for every template, undefined names are errors."""
    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True)
    env.filters.update(link=markup.link, visible=markup.visible, when=when, at=at, describe=describe)
    env.tests["gap"] = lambda item: isinstance(item, diffview.Gap)
    return env


@pass_context
def when(context: Context, value: datetime | None) -> str:
    """A time as plain text: with the page's ``clock`` (a web page), UTC, the reader's zone and the age;
    without one (a citation's file, read long after), UTC ISO alone."""
    clock = context.get("clock")
    return clock.text(value) if clock is not None else markup.when(value)


@pass_context
def at(context: Context, value: datetime | None) -> Markup:
    """A time as a ``<time datetime>`` element, the zone's wall time and the age beside it when the page
    has a ``clock``; UTC ISO alone without one."""
    clock = context.get("clock")
    if clock is not None:
        return clock.element(value)
    return Markup('<time datetime="%s">%s</time>') % (markup.when(value), markup.when(value)) if value else \
        Markup("<time>-</time>")


def diff_context(d: Diff, view: str = "full") -> dict[str, Any]:
    """What the diff template shows besides ``d``: the header fields word by word, the paragraph rows, and
    those ``shown`` in the ``view`` asked for (``full``, or ``changes``: the changed paragraphs with their
    neighbours)."""
    fields = [(name, change.old, change.new, diffview.field(change.old, change.new))
              for name, change in (("headline", d.title), ("byline", d.byline), ("published", d.published),
                                   ("updated", d.updated)) if change is not None]
    rows = diffview.rows(d.paragraphs)
    shown = diffview.changes_only(rows) if view == "changes" else diffview.full(rows)
    return {"d": d, "fields": fields, "rows": rows, "shown": shown, "view": view}


def diff_document(d: Diff) -> str:
    """The web view's diff (header block, legend, marks, rows) as one file that needs nothing else: the
    stylesheet inline, no links back to a server, no script (its Content-Security-Policy allows none)."""
    css = (HERE / "static" / "style.css").read_text("utf-8")
    assert "</" not in css  # our own stylesheet, inlined unescaped: it must not be able to close <style>
    return templates().get_template("citation_diff.html").render(css=Markup(css), **diff_context(d))
