"""Retake docs/diff.png and docs/timeline.png: run ``redline demo`` into a temporary archive, serve it on
127.0.0.1 and photograph the pages in Chromium (Debian's package, through Playwright).

    .venv/bin/python docs/screenshots.py
"""
from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

HERE = Path(__file__).resolve().parent
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = str(Path(tmp) / "demo.db")
        subprocess.run([sys.executable, "-m", "redline", "--db", db, "demo"], check=True, capture_output=True)
        server = subprocess.Popen([sys.executable, "-m", "redline", "--db", db, "serve", "--port", "0"],
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        try:
            assert server.stdout is not None
            base = re.search(r"http://\S+/", server.stdout.readline()).group(0).rstrip("/")
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
                page = browser.new_page(viewport={"width": 1100, "height": 760})
                page.goto(base + "/?kind=correction")
                page.click("ol.changes a.title")
                page.wait_for_url("**/diff/**")
                page.locator(".sbs .row.changed, .sbs .row.added").first.scroll_into_view_if_needed()
                page.evaluate("window.scrollBy(0, -260)")
                page.screenshot(path=str(HERE / "diff.png"))
                page.click("text=← timeline")
                page.wait_for_load_state()
                page.screenshot(path=str(HERE / "timeline.png"))
                browser.close()
        finally:
            server.terminate()
            server.wait(30)


if __name__ == "__main__":
    main()
