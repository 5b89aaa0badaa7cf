"""The item a spider hands to the pipelines."""
from __future__ import annotations

from dataclasses import dataclass

from archive.capture import Capture


@dataclass
class PageItem:
    """A fetch plus, for HTML responses, the body decoded with Scrapy's charset detection."""

    fetch: Capture
    html: str | None = None
    previous_sha: str | None = None  # sha256 of the article's last good body, when the middleware knew it
