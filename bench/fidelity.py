"""Change fidelity on real pages: noise and real edits over several crawl rounds, scored against truth.

Real article pages (:mod:`bench.realpages`) are served from several loopback "sites". Between
rounds every page gets fresh noise (a rotating in-body teaser, a trending box, a relative
"Updated N minutes ago" stamp, per-request tokens, tracking parameters on links; on some pages a
per-request "Page generated" line and a JSON-LD ``dateModified`` set to the time of each request) and some pages
get real edits, made in paragraph text nodes that trafilatura keeps (each edit is checked with
the extractor Redline uses, and pages where it does not show are skipped). Each round is crawled
with the real ``redline crawl --json``; the ground truth is what this module changed. The naive
tracker (trafilatura text + sha256 per URL per round) is scored on the same pages and rounds.
"""
from __future__ import annotations

import copy
import difflib
import hashlib
import json
import random
import re
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import lxml.html
from lxml.html import HtmlElement

from archive.text.normalize import comparable
from bench.realpages import MAX_BYTES, RealPage, point_at
from redline.fakesite import FakeSite

MIN_PARAGRAPHS = 4     # article paragraphs (kept by trafilatura) a page needs to be used
LABELS = ["Read more:", "Related article:", "See also:", "More on this story:"]
WORDS = ["reportedly", "allegedly", "narrowly", "partially", "eventually", "formally", "briefly", "openly"]
NAMES = ["Jane Okafor", "Tomas Lindqvist", "Mariana Duarte", "Kenji Watanabe", "Aisha Rahman", "Pieter de Vries"]
CORRECTION = ("Correction: An earlier version of this article misstated the date of the council vote. "
              "It was held on Tuesday, not Wednesday.")
SHARED_SENTENCE = "The death toll rose to 41 on Thursday evening, the regional health ministry said."
COPY_NOTE = "This article is republished by a partner site under licence and may differ from the original."
SITE_WIDE = ("This article was produced with the assistance of an artificial intelligence tool and "
             "reviewed by our editorial staff before publication.")
SITE_WIDE_ARTICLES = 10  # of one site, in one round: a coordinated edit, not the site's template
STALE = "2024-12-01T08:00:00Z"
VARIANTS = ("meta", "second-ld", "visible")  # which signal moves while a JSON-LD dateModified stays stale
TOKEN, MINUTES = "@@REQ@@", "@@MIN@@"        # filled in per request
NOW, NOW_ISO = "@@NOW@@", "@@NOW-ISO@@"      # the time of each request: render stamps
STAMPED_EVERY = 5  # every 5th page without declared-update signals carries render stamps


def norm(text: str) -> str:
    return comparable(text)


@dataclass(eq=False)
class Story:
    """One article's content: an lxml tree that edits change in place."""

    page: RealPage
    tree: HtmlElement
    title: str
    variant: str | None = None  # declared-update signals this page carries, if any
    stamped: bool = False  # whether it carries render stamps (the time of each request)

    def paragraphs(self) -> list[HtmlElement]:
        """The paragraphs trafilatura keeps (marked when the page was loaded; edits add more)."""
        return self.tree.xpath("//p[@data-rl]")


@dataclass(eq=False)
class Served:
    """One URL: a story on a site, answering with a status."""

    site: RoundSite
    path: str
    story: Story
    status: int = 200
    canonical: str | None = None  # the URL its canonical link names, when another (a copy's original)

    @property
    def url(self) -> str:
        return self.site.url(self.path)


@dataclass
class RoundSite(FakeSite):
    """A loopback site serving this round's rendered pages; per-request parts are filled in per request."""

    pages: dict[str, tuple[int, str]] = field(default_factory=dict)

    def respond(self, path: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        with self._lock:
            n = next(self._counter)
        if path == "/robots.txt":
            return 200, {"Content-Type": "text/plain"}, b"User-agent: *\nAllow: /\n"
        status, page = self.pages.get(path.split("?")[0], (404, ""))
        if status != 200:
            return status, {"Content-Type": "text/html"}, f"<html><body><h1>Error {status}</h1></body></html>".encode()
        token = hashlib.sha256(f"{self.host}{n}".encode()).hexdigest()[:16]
        now = datetime.now(UTC)
        body = page.replace(TOKEN, token).replace(MINUTES, str(n % 59 + 1))
        body = body.replace(NOW, f"{now:%Y-%m-%d %H:%M:%S}").replace(NOW_ISO, f"{now:%Y-%m-%dT%H:%M:%SZ}")
        return 200, {"Content-Type": "text/html; charset=utf-8"}, body.encode("utf-8")


@dataclass
class Edit:
    """One change made to one URL in one round, and what each tracker recorded for it."""

    round: int
    url: str
    kind: str        # word, number, insert, delete, headline, byline, correction, shared-sentence, declared-*
    evidence: str    # the words the diff must show (or the declared time, headline, byline)
    where: str       # "new" / "old": side of the diff; "title", "byline", "updated": field of the version
    snippet: str = ""  # the edited text as the extractor must see it
    before: int = 0  # Redline versions before the round
    caught: bool = False
    shown: bool = False
    kinds: list[str] = field(default_factory=list)
    recorded: str = ""
    naive_caught: bool = False
    naive_shown: bool = False

    def describe(self) -> str:
        return f"round {self.round} {self.kind} at {self.url}: expected {self.where} {self.evidence!r}; " \
               f"Redline recorded {self.recorded}"


@dataclass
class Figures:
    """The suite's metrics for one tracker."""

    edits: int = 0
    caught: int = 0
    shown: int = 0
    noise_fetches: int = 0
    false_versions: int = 0
    declared: int = 0
    declared_time: int = 0
    corrections: int = 0
    corrections_kind: int = 0
    outages: int = 0         # 404s and 500s served
    outage_events: int = 0   # ... recorded as gone then restored, or failed then recovered
    copies: int = 0          # copies at another URL whose canonical link names an original
    copies_apart: int = 0    # ... kept an article of their own, related to the original, none of their text in it
    site_wide: int = 0       # one paragraph added to many articles of one site: edits made
    site_wide_kind: int = 0  # ... recorded with the kind 'site-wide'


ROUNDS: list[tuple[str, dict[str, int]]] = [
    ("baseline", {}),
    ("noise only", {}),
    ("edits; one page 404, one 500", {"word": 1, "number": 1, "insert": 1, "delete": 1, "headline": 1, "byline": 1,
                                       "gone": 1, "error": 1}),
    ("corrections on one site, shared sentence, declared updates; 404 and 500 restored",
     {"correction": 1, "shared-sentence": 1, "declared": 1, "restore": 1}),
    ("noise only again", {}),
    ("edits, corrections on another site, declared updates again",
     {"word": 1, "number": 1, "insert": 1, "delete": 1, "headline": 1, "byline": 1, "correction": 1,
      "declared": 1}),
    ("site-wide edit: one paragraph added to 10 articles of one site", {"site-wide": 1}),
]


class Scenario:
    """Sites, stories and the rounds' ground truth."""

    def __init__(self, pages: list[RealPage], hosts: list[str], per_kind: int = 3, copies: int = 3,
                 seed: int = 11) -> None:
        from scraper.extract import extract_page

        self.extract = extract_page
        self.rng = random.Random(seed)
        self.per_kind, self.round = per_kind, 0
        self.sites = [RoundSite().start(host=h) for h in hosts]
        self.served: list[Served] = []
        self.edits: list[Edit] = []
        self.outages: list[tuple[int, str, int]] = []  # (round, URL, status)
        self.outage_problems: list[str] = []
        self.skipped: Counter[str] = Counter()
        stories = [s for s in (self._story(p) for p in pages if len(p.html.encode()) < MAX_BYTES) if s]
        self.titles = [s.title for s in stories]
        shared, variants = stories[0], stories[1:1 + 2 * len(VARIANTS)]
        for i, story in enumerate(variants):
            self._add_signals(story, VARIANTS[i % len(VARIANTS)])
        for story in stories[1 + 2 * len(VARIANTS)::STAMPED_EVERY]:
            self._add_render_stamps(story)
        for k in range(copies):  # one wire story at several URLs of one site
            self._serve(self.sites[1 % len(self.sites)], f"/{['world', 'business', 'wire'][k % 3]}/{k}/story", shared)
        for i, story in enumerate(stories[1:]):
            site = self.sites[i % len(self.sites)]
            self._serve(site, f"/news/{i:04d}/{story.page.slug}", story)
        self.shared = [s for s in self.served if s.story is shared]
        self.copies = [self._copy(self.served[-1])]

    def stop(self) -> None:
        for site in self.sites:
            site.stop()

    @property
    def urls(self) -> list[str]:
        return [s.url for s in self.served]

    # -- loading ----------------------------------------------------------------------------------

    def _story(self, page: RealPage) -> Story | None:
        found = self.extract(page.html, "http://127.0.0.1/")
        text = norm(found.text)
        tree = lxml.html.document_fromstring(page.html)
        kept = 0
        for p in tree.iter("p"):
            words = norm(p.text_content())
            if len(words) >= 60 and words in text:
                p.set("data-rl", "")
                kept += 1
        if kept < MIN_PARAGRAPHS or not found.title:
            self.skipped["fewer than 4 paragraphs kept by trafilatura, or no title"] += 1
            return None
        if tree.find("head") is None:
            tree.insert(0, lxml.html.Element("head"))
        return Story(page, tree, found.title)

    def _serve(self, site: RoundSite, path: str, story: Story) -> None:
        self.served.append(Served(site, path, story))

    def _copy(self, original: Served) -> tuple[Served, Served]:
        """An AMP-style copy of an article on the next site, its canonical link naming the original, with a
        line the original never carries; edited apart from the original from now on."""
        story = Story(original.story.page, copy.deepcopy(original.story.tree), original.story.title)
        note = lxml.html.Element("p", {"data-rl": ""})
        note.text = COPY_NOTE
        story.paragraphs()[0].addnext(note)
        site = self.sites[(self.sites.index(original.site) + 1) % len(self.sites)]
        copied = Served(site, "/amp" + original.path, story, canonical=original.url)
        self.served.append(copied)
        if norm(COPY_NOTE) not in norm(self.extract(self.page_now(copied), copied.url).text):
            raise RuntimeError("the copy's own line is not visible to the extractor")
        return original, copied

    def _add_signals(self, story: Story, variant: str) -> None:
        """A stale JSON-LD dateModified first, then the signal that will move (data-rl-date)."""
        story.variant = variant
        head = story.tree.find("head")
        head.insert(0, _ld({"@type": "NewsArticle", "headline": story.title, "dateModified": STALE}))
        if variant == "meta":
            moving = lxml.html.Element("meta", property="article:modified_time", content=STALE)
            head.append(moving)
        elif variant == "second-ld":
            moving = _ld({"@type": "WebPage", "dateModified": STALE})
            head.append(moving)
        else:
            moving = lxml.html.fragment_fromstring(f'<p class="updated">Updated: <time datetime="{STALE}">'
                                                   f'1 December 2024, 08:00 UTC</time></p>')
            story.paragraphs()[0].addprevious(moving)
        moving.set("data-rl-date", "")

    def _add_render_stamps(self, story: Story) -> None:
        """A per-request "Page generated" line after the article and a JSON-LD dateModified set to the
        time of each request (as many CMSs do), beside whatever dates the page states."""
        story.stamped = True
        story.tree.find("head").insert(0, _ld({"@type": "NewsArticle", "dateModified": NOW_ISO}))
        footer = lxml.html.fragment_fromstring(f'<p class="generated">Page generated {NOW} UTC</p>')
        story.paragraphs()[-1].addnext(footer)

    # -- rendering --------------------------------------------------------------------------------

    def render(self, served: Served) -> str:
        """This round's page for one URL, with this round's noise; per-request parts as placeholders."""
        tree = copy.deepcopy(served.story.tree)
        r, i = self.round, self.served.index(served)
        paras = tree.xpath("//p[@data-rl]")
        headline = self.titles[(r * 7 + i) % len(self.titles)]
        label = LABELS[self.sites.index(served.site) % len(LABELS)]
        teaser = lxml.html.fragment_fromstring(f'<p><strong>{label}</strong> <a href="/news/{r}-{i}">x</a></p>')
        teaser.find("a").text = headline
        paras[min(1, len(paras) - 1)].addnext(teaser)
        paras[0].addprevious(lxml.html.fragment_fromstring(f'<p class="stamp">Updated {MINUTES} minutes ago</p>'))
        trending = lxml.html.fragment_fromstring('<aside class="trending"><h3>Trending</h3><ol></ol></aside>')
        for k in range(5):
            item = lxml.html.fragment_fromstring(f'<li><a href="/trending/{r}/{k}">x</a></li>')
            item.find("a").text = self.titles[(r * 5 + i + k * 13) % len(self.titles)]
            trending.find("ol").append(item)
        last = paras[-1]
        (last.getparent() if last.getparent().tag != "body" else last).addnext(trending)
        for n, a in enumerate(tree.iter("a")):
            href = a.get("href")
            if href and not href.startswith(("#", "javascript:", "mailto:")):
                sep = "&" if "?" in href else "?"
                a.set("href", f"{href}{sep}utm_source=site&utm_campaign=r{r}" + (f"&rid={TOKEN}" if n < 3 else ""))
        body = tree.find("body")
        if body is not None:
            body.append(lxml.html.fragment_fromstring(f'<div><input type="hidden" name="csrf" value="{TOKEN}">'
                                                      f'<script>window.__rid="{TOKEN}";</script></div>'))
        tree.find("head").append(lxml.html.Element("meta", name="request-id", content=TOKEN))
        return point_at(lxml.html.tostring(tree, encoding="unicode", doctype="<!DOCTYPE html>"),
                        served.canonical or served.url)

    def publish(self) -> None:
        for served in self.served:
            served.site.pages[served.path] = (served.status, self.render(served) if served.status == 200 else "")

    def page_now(self, served: Served) -> str:
        """The page as a request would get it now."""
        page = self.render(served).replace(TOKEN, "0123456789abcdef").replace(MINUTES, "7")
        return page.replace(NOW, "2024-12-09 10:00:00").replace(NOW_ISO, "2024-12-09T10:00:00Z")

    # -- edits ------------------------------------------------------------------------------------

    def next_round(self, plan: dict[str, int]) -> None:
        """Advance the noise and make this round's edits, then publish the pages."""
        self.round += 1
        busy = {id(s) for s in self.shared} | {id(s) for s in self.served if s.status != 200}
        for kind, times in plan.items():
            if kind == "restore":
                for s in self.served:
                    s.status = 200
            elif kind in ("gone", "error"):
                target = self._free(busy, lambda s: s.story.variant is None)
                target.status = 404 if kind == "gone" else 500
                busy.add(id(target))
                self.outages.append((self.round, target.url, target.status))
            elif kind == "shared-sentence":
                self._shared_sentence()
            elif kind == "correction":
                self._corrections(busy)
            elif kind == "site-wide":
                self.site_wide(self.sites[(self.round + 1) % len(self.sites)], SITE_WIDE_ARTICLES, busy)
            elif kind == "declared":
                for s in self.served:
                    if s.story.variant and id(s) not in busy:
                        self._declared(s)
                        busy.add(id(s))
            else:
                for _ in range(times * self.per_kind):
                    self._one_edit(kind, busy)
        self.publish()

    def _free(self, busy: set[int], ok: Callable[[Served], bool] = lambda s: True) -> Served:
        choices = [s for s in self.served if id(s) not in busy and ok(s)]
        return self.rng.choice(choices)

    def _one_edit(self, kind: str, busy: set[int]) -> None:
        """Edit one page not yet edited this round; try others when the edit would not show."""
        for _attempt in range(20):
            served = self._free(busy, lambda s: s.story.variant is None)
            busy.add(id(served))
            backup = copy.deepcopy(served.story.tree)
            edit = getattr(self, f"_edit_{kind}")(served)
            if edit is not None and self._shows(served, edit):
                self._record(served, edit)
                return
            served.story.tree = backup
            self.skipped[f"{kind}: edit not visible to the extractor, page skipped"] += 1
        raise RuntimeError(f"no page takes a {kind} edit")

    def _record(self, served: Served, edit: Edit) -> None:
        edit.round, edit.url = self.round, served.url
        self.edits.append(edit)

    def _shows(self, served: Served, edit: Edit) -> bool:
        found = self.extract(self.page_now(served), served.url)
        text = norm(found.text)
        if edit.where == "new":
            return norm(edit.snippet) in text
        if edit.where == "old":
            return norm(edit.snippet) not in text and len(text.split()) > 50
        if edit.where == "title":
            return norm(edit.evidence) in norm(found.title or "")
        if edit.where == "byline":
            return norm(edit.evidence) in norm(found.byline or "")
        return True

    def _text_slot(self, served: Served, pattern: str) -> tuple[HtmlElement, str, re.Match[str]] | None:
        """A paragraph text node (an element's text or tail inside a kept paragraph) matching ``pattern``."""
        paras = served.story.paragraphs()
        for p in self.rng.sample(paras, len(paras)):
            slots = [(p, "text")] + [(el, a) for el in p.iterdescendants() for a in ("text", "tail")]
            for el, attr in slots:
                value = getattr(el, attr) or ""
                if el.tag in ("script", "style") and attr == "text":
                    continue
                match = re.search(pattern, value)
                if match:
                    return el, attr, match
        return None

    def _replace_in_slot(self, served: Served, pattern: str, make: Callable[[str], str], kind: str) -> Edit | None:
        slot = self._text_slot(served, pattern)
        if slot is None:
            return None
        el, attr, match = slot
        value = getattr(el, attr)
        new = make(match.group(0))
        changed = value[:match.start()] + new + value[match.end():]
        setattr(el, attr, changed)
        start, end = max(0, match.start() - 40), match.start() + len(new) + 40
        words = changed[start:end].split()
        words = words[start > 0:len(words) - (end < len(changed))]  # drop words the window cut
        return Edit(0, "", kind, new, "new", snippet=" ".join(words) if len(words) >= 3 else new)

    def _edit_word(self, served: Served) -> Edit | None:
        word = WORDS[len(self.edits) % len(WORDS)]
        return self._replace_in_slot(served, r"(?<![\w-])[^\W\d_]{6,}(?![\w-])", lambda _old: word, "word")

    def _edit_number(self, served: Served) -> Edit | None:
        return self._replace_in_slot(served, r"(?<![\w.,])\d{1,4}(?![\w]|[.,]\d)",
                                     lambda old: str(int(old) + 3), "number")

    def _edit_insert(self, served: Served) -> Edit | None:
        paras = served.story.paragraphs()
        n = len(self.edits)
        sentence = (f"Officials confirmed on Friday that a second review, number {n + 100}, had been ordered "
                    f"after the findings were questioned by auditors.")
        new = lxml.html.Element("p", {"data-rl": ""})
        new.text = sentence
        paras[len(paras) // 2].addnext(new)
        return Edit(0, "", "insert", sentence, "new", snippet=sentence)

    def _edit_delete(self, served: Served) -> Edit | None:
        paras = served.story.paragraphs()
        if len(paras) < MIN_PARAGRAPHS:
            return None
        victim = paras[len(paras) // 2]
        text = " ".join(victim.text_content().split())
        words = text.split()
        evidence = " ".join(words[len(words) // 2 - 3:len(words) // 2 + 3])
        victim.drop_tree()
        return Edit(0, "", "delete", evidence, "old", snippet=text)

    def _replace_everywhere(self, story: Story, old: str, new: str) -> int:
        """Replace ``old`` in every text node and attribute of the page (title tags, meta, JSON-LD, bylines)."""
        count = 0
        for el in story.tree.iter():
            for attr in ("text", "tail"):
                value = getattr(el, attr, None)
                if isinstance(value, str) and old in value:
                    setattr(el, attr, value.replace(old, new))
                    count += 1
            for name, value in el.attrib.items():
                if old in value:
                    el.set(name, value.replace(old, new))
                    count += 1
        return count

    def _edit_headline(self, served: Served) -> Edit | None:
        story = served.story
        old = self.extract(self.page_now(served), served.url).title
        if not old or len(old) < 12:
            return None
        new = f"{old}, officials say"
        if not self._replace_everywhere(story, old, new):
            return None
        story.title = new
        return Edit(0, "", "headline", new, "title")

    def _edit_byline(self, served: Served) -> Edit | None:
        old = self.extract(self.page_now(served), served.url).byline
        if not old or len(old) < 4:
            return None
        name = old.split(";")[0].strip()
        choices = [n for n in NAMES if n not in old]  # a page edited before may already carry a name
        new = choices[len(self.edits) % len(choices)]
        if not self._replace_everywhere(served.story, name, new):
            return None
        return Edit(0, "", "byline", new, "byline")

    def _corrections(self, busy: set[int]) -> None:
        """The same correction appended to several articles of one site in one round."""
        site = self.sites[self.round % len(self.sites)]
        done = 0
        for served in self.served:
            if served.site is not site or id(served) in busy or served.story.variant or done >= self.per_kind + 1:
                continue
            backup = copy.deepcopy(served.story.tree)
            note = lxml.html.Element("p", {"data-rl": ""})
            note.text = CORRECTION
            served.story.paragraphs()[-1].addnext(note)
            edit = Edit(0, "", "correction", CORRECTION, "new", snippet=CORRECTION)
            if self._shows(served, edit):
                self._record(served, edit)
                busy.add(id(served))
                done += 1
            else:
                served.story.tree = backup
                self.skipped["correction: not visible to the extractor, page skipped"] += 1
        if done < 3:
            raise RuntimeError(f"only {done} pages of {site.host} take the correction")

    def site_wide(self, site: RoundSite, count: int, busy: set[int]) -> list[Served]:
        """The same new paragraph, after each one's first paragraph, in ``count`` articles of one site."""
        done: list[Served] = []
        for served in self.served:
            if len(done) == count:
                break
            if served.site is not site or id(served) in busy or served in self.shared:
                continue
            backup = copy.deepcopy(served.story.tree)
            note = lxml.html.Element("p", {"data-rl": ""})
            note.text = SITE_WIDE
            served.story.paragraphs()[0].addnext(note)
            edit = Edit(0, "", "site-wide", SITE_WIDE, "new", snippet=SITE_WIDE)
            if self._shows(served, edit):
                self._record(served, edit)
                busy.add(id(served))
                done.append(served)
            else:
                served.story.tree = backup
                self.skipped["site-wide: not visible to the extractor, page skipped"] += 1
        if len(done) < count:
            raise RuntimeError(f"only {len(done)} pages of {site.host} take the site-wide paragraph")
        return done

    def _shared_sentence(self) -> None:
        """One story at several URLs of one site gets the same new sentence."""
        story = self.shared[0].story
        paras = story.paragraphs()
        new = lxml.html.Element("p", {"data-rl": ""})
        new.text = SHARED_SENTENCE
        paras[len(paras) // 2].addnext(new)
        for served in self.shared:
            edit = Edit(0, "", "shared-sentence", SHARED_SENTENCE, "new", snippet=SHARED_SENTENCE)
            if not self._shows(served, edit):
                raise RuntimeError("the shared sentence is not visible to the extractor")
            self._record(served, edit)

    def _declared(self, served: Served) -> None:
        """Move the page's moving date signal; the stale JSON-LD dateModified stays."""
        when = f"2024-12-{5 + self.round:02d}T08:00:00Z"
        for el in served.story.tree.xpath("//*[@data-rl-date]"):
            if el.tag == "meta":
                el.set("content", when)
            elif el.tag == "script":
                el.text = json.dumps({"@context": "https://schema.org", "@type": "WebPage", "dateModified": when})
            else:
                el.find("time").set("datetime", when)
                el.find("time").text = f"{5 + self.round} December 2024, 08:00 UTC"
        self._record(served, Edit(0, "", f"declared-{served.story.variant}", when, "updated"))


def _ld(data: dict[str, Any]) -> HtmlElement:
    script = lxml.html.Element("script", type="application/ld+json")
    script.text = json.dumps({"@context": "https://schema.org", **data})
    return script


# -- scoring --------------------------------------------------------------------------------------------------

class RedlineView:
    """Reads what Redline recorded, through the real view commands (in-process click invocations)."""

    def __init__(self, db: str) -> None:
        from click.testing import CliRunner

        from redline.cli import cli

        self.db, self.cli, self.runner = db, cli, CliRunner()

    def json(self, *args: str) -> Any:
        result = self.runner.invoke(self.cli, ["--db", self.db, *args, "--json"], catch_exceptions=False)
        if result.exit_code != 0:
            return None
        return json.loads(result.stdout)

    def versions(self, url: str) -> list[dict[str, Any]]:
        return [e for e in self.json("log", url) or [] if "version" in e]


class NaiveTracker:
    """The floor: trafilatura's text per URL per round, a new version whenever its sha256 changes."""

    def __init__(self) -> None:
        self.texts: dict[str, str] = {}
        self.changed: dict[tuple[int, str], tuple[str, str]] = {}  # (round, url) -> (old text, new text)

    def fetch_round(self, rnd: int, urls: list[str]) -> None:
        import trafilatura

        for url in urls:
            try:
                with urllib.request.urlopen(url, timeout=10) as answer:
                    html = answer.read().decode("utf-8")
            except urllib.error.HTTPError:
                continue
            text = trafilatura.extract(html, url=url) or ""
            old = self.texts.get(url)
            if old is not None and hashlib.sha256(old.encode()).digest() != hashlib.sha256(text.encode()).digest():
                self.changed[rnd, url] = (old, text)
            self.texts[url] = text


def _naive_shows(edit: Edit, old: str, new: str) -> bool:
    if edit.where not in ("new", "old"):
        return False  # the naive tracker keeps no title, byline or dates
    a, b = norm(old).split(), norm(new).split()
    added, removed = [], []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if op != "equal":
            added.append(" ".join(b[j1:j2]))
            removed.append(" ".join(a[i1:i2]))
    return any(norm(edit.evidence) in part for part in (added if edit.where == "new" else removed))


def _redline_shows(view: RedlineView, edit: Edit, new: dict[str, Any]) -> tuple[bool, str]:
    """(the recorded version shows the edit, a short description of what was recorded)."""
    number = new["version"]
    if edit.where == "updated":
        return new["updated"] == edit.evidence, f"v{number} updated={new['updated']!r} kinds={edit.kinds}"
    if edit.where == "byline":
        byline = (view.json("show", edit.url, "--version", str(number)) or {}).get("byline")
        return norm(edit.evidence) in norm(byline or ""), f"v{number} byline={byline!r} kinds={edit.kinds}"
    diff = view.json("diff", edit.url, str(edit.before), str(number)) or {"title": {}, "changes": []}
    if edit.where == "title":
        title = diff["title"].get("new")
        return norm(edit.evidence) in norm(title or ""), f"v{number} title={title!r} kinds={edit.kinds}"
    side = [norm(c.get(edit.where) or "") for c in diff["changes"]]
    return any(norm(edit.evidence) in s for s in side), f"v{number} kinds={edit.kinds} diff={diff['changes']}"[:600]


def _kept_apart(view: RedlineView, original: str, copied: str) -> bool:
    """The copy is an article of its own, fetched from its URL and related to the original, and no version
    of the original carries the copy's own line."""
    shown = view.json("show", copied) or {}
    texts = [(view.json("show", original, "--version", str(v["version"])) or {}).get("text") or ""
             for v in view.versions(original)]
    return (shown.get("url") == copied and shown.get("fetched_url") == copied and shown.get("copy_of") == original
            and bool(texts) and all(norm(COPY_NOTE) not in norm(text) for text in texts))


def score(scenario: Scenario, versions_by_round: list[dict[str, list[dict[str, Any]]]], view: RedlineView,
          naive: NaiveTracker | None) -> tuple[Figures, Figures | None, list[str]]:
    """Redline's and the naive tracker's figures, and every unexpected version Redline made."""
    red, floor = Figures(), Figures() if naive else None
    edited = {(e.round, e.url) for e in scenario.edits}
    false: list[str] = []
    for rnd in range(1, len(versions_by_round)):
        before, after = versions_by_round[rnd - 1], versions_by_round[rnd]
        for url in scenario.urls:
            new = after[url][len(before[url]):]
            for edit in (e for e in scenario.edits if e.round == rnd and e.url == url):
                edit.before = len(before[url])
                edit.caught = bool(new)
                if new:
                    edit.kinds = (new[-1].get("change") or {}).get("kinds") or []
                    edit.shown, edit.recorded = _redline_shows(view, edit, new[-1])
                else:
                    edit.recorded = "no new version"
                if naive is not None and (rnd, url) in naive.changed:
                    edit.naive_caught = True
                    edit.naive_shown = _naive_shows(edit, *naive.changed[rnd, url])
            if (rnd, url) not in edited:
                red.noise_fetches += 1
                red.false_versions += len(new)
                false += [f"round {rnd} {url}: v{v['version']} kinds={(v.get('change') or {}).get('kinds')}"
                          for v in new]
                if floor is not None:
                    floor.noise_fetches += 1
                    floor.false_versions += (rnd, url) in naive.changed
    events = {404: ("gone", "restored"), 500: ("failed", "recovered")}
    for rnd, url, status in scenario.outages:
        red.outages += 1
        seen = [e["event"] for e in view.json("log", url, "--events") or [] if "event" in e]
        red.outage_events += seen == list(events[status])
        if seen != list(events[status]):
            scenario.outage_problems.append(f"round {rnd} {url}: HTTP {status}, restored the next round; "
                                            f"events recorded {seen}")
    for original, copied in scenario.copies:
        red.copies += 1
        red.copies_apart += _kept_apart(view, original.url, copied.url)
    for edit in scenario.edits:
        for figures, caught, shown, kinds in ((red, edit.caught, edit.shown, edit.kinds),
                                              (floor, edit.naive_caught, edit.naive_shown, None)):
            if figures is None:
                continue
            figures.edits += 1
            figures.caught += caught
            figures.shown += shown
            if edit.where == "updated":
                figures.declared += 1
                figures.declared_time += shown
            if edit.kind == "correction":
                figures.corrections += 1
                figures.corrections_kind += kinds is not None and "correction" in kinds
            if edit.kind == "site-wide":
                figures.site_wide += 1
                figures.site_wide_kind += kinds is not None and "site-wide" in kinds
    return red, floor, false


def run(scenario: Scenario, db: str, crawl: Callable[[list[str]], dict[str, Any]], naive: bool = True,
        log: Callable[[str], None] = lambda _m: None) -> dict[str, Any]:
    """Every round: change the pages, crawl them with Redline (and the naive tracker), read what was recorded."""
    view = RedlineView(db)
    tracker = NaiveTracker() if naive else None
    history: list[dict[str, list[dict[str, Any]]]] = []
    crawl_s = []
    for number, (name, plan) in enumerate(ROUNDS):
        if number:
            scenario.next_round(plan)
        else:
            scenario.publish()
        log(f"round {number}: {name} ({len(scenario.urls)} URLs)")
        start = time.perf_counter()
        summary = crawl(scenario.urls)
        crawl_s.append(time.perf_counter() - start)
        if number == 0 and summary["new_articles"] != len(scenario.urls):
            raise RuntimeError(f"the first crawl did not make one article per URL: {summary}")
        if tracker is not None:
            tracker.fetch_round(number, scenario.urls)
        history.append({url: view.versions(url) for url in scenario.urls})
    red, floor, false = score(scenario, history, view, tracker)
    return {"redline": red, "naive": floor, "false_versions": false, "edits": scenario.edits,
            "outage_problems": scenario.outage_problems, "crawl_s": crawl_s,
            "skipped": dict(scenario.skipped), "urls": len(scenario.urls),
            "stamped_urls": sum(s.story.stamped for s in scenario.served),
            "pages": len({id(s.story) for s in scenario.served})}
