"""Script-rendered copies of real pages: the article's HTML moved into a script that writes it into the
DOM, as a JavaScript app does in the reader's browser (for the browser tests and ``python -m bench browser``)."""
from __future__ import annotations

import json
import re

BODY = re.compile(r"(<body\b[^>]*>)(.*)(</body\s*>)", re.IGNORECASE | re.DOTALL)
HEAD_END = re.compile(r"</head\s*>", re.IGNORECASE)  # the body tag after it: a head's script may say "<body>"


def script_rendered(html: str) -> str | None:
    """``html`` with its body replaced by an empty ``<div id="root">`` and a script that writes the body
    back in its place; None for a page without a ``<body>`` element. The moved HTML's own scripts do not
    run (HTML written through ``outerHTML`` never runs its scripts), so the DOM is the page as served.

    >>> script_rendered("<html><head><title>T</title></head><body><p>Hi</p></body></html>")
    '<html><head><title>T</title></head><body><div id="root"></div><script>document.getElementById("root").outerHTML = "\\\\u003cp>Hi\\\\u003c/p>";</script></body></html>'
    """
    head = HEAD_END.search(html)
    found = BODY.search(html, head.end() if head else 0)
    if found is None:
        return None
    payload = json.dumps(found[2]).replace("<", "\\u003c")  # no "</script>" or "<!--" inside the script
    shell = f'{found[1]}<div id="root"></div><script>document.getElementById("root").outerHTML = {payload};</script>'
    return f"{html[:found.start()]}{shell}{found[3]}{html[found.end():]}"
