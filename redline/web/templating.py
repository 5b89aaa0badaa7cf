"""The Jinja2 templates, and the diff as one self-contained page for citation bundles.

Kept apart from :mod:`redline.web.app` so that ``redline cite`` renders the same diff template as the
web view without loading the web server."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from redline.render import describe
from redline.web import diffview, markup

if TYPE_CHECKING:
    from archive.queries import Diff

HERE = Path(__file__).parent


def templates() -> Environment:
    """The Jinja2 environment: autoescaping on for every template, undefined names are errors."""
    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True)
    env.filters.update(link=markup.link, visible=markup.visible, when=markup.when, describe=describe)
    return env


def diff_context(d: Diff) -> dict[str, Any]:
    """What the diff template shows besides ``d``: the header fields word by word, and the paragraph rows."""
    fields = [(name, change.old, change.new, diffview.field(change.old, change.new))
              for name, change in (("headline", d.title), ("byline", d.byline), ("published", d.published),
                                   ("updated", d.updated)) if change is not None]
    return {"d": d, "fields": fields, "rows": diffview.rows(d.paragraphs)}


def diff_document(d: Diff) -> str:
    """The web view's diff (header block, legend, marks, rows) as one file that needs nothing else: the
    stylesheet inline, no links back to a server, no script (its Content-Security-Policy allows none)."""
    css = (HERE / "static" / "style.css").read_text("utf-8")
    assert "</" not in css  # our own stylesheet, inlined unescaped: it must not be able to close <style>
    return templates().get_template("citation_diff.html").render(css=Markup(css), **diff_context(d))
