"""The item a spider hands to the pipelines."""
from __future__ import annotations

from dataclasses import dataclass

from archive.capture import Capture


@dataclass
class PageItem:
    """A fetch plus, for HTML responses, the body decoded with Scrapy's charset detection (the rendered DOM's,
    for a page fetched through a browser)."""

    fetch: Capture
    html: str | None = None
    previous_sha: str | None = None  # sha256 of the article's last good body, when the middleware knew it
    # what the reason of a script-rendered page adds: why it was or was not fetched through a browser
    render_note: str | None = None
