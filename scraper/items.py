"""The item a spider hands to the pipelines."""
from __future__ import annotations

from dataclasses import dataclass

from archive.capture import Fetch


@dataclass
class PageItem:
    """A fetch plus, for HTML responses, the body decoded with Scrapy's charset detection."""

    fetch: Fetch
    html: str | None = None
