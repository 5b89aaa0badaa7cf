"""A corpus of realistic, distinct 80-180 KB news pages served from several loopback hosts.

Articles are the fixture stories with their paragraphs shuffled, mixed and lightly
reworded; each page is ``redline.fakesite.render()`` plus the padding real news
pages carry: a mega navigation menu, critical CSS, inline scripts and a footer shared
by every page of a site, and per article a JSON state blob that repeats the article
and a recommendations rail.
"""
from __future__ import annotations

import hashlib
import html
import json
import random
import time
from dataclasses import dataclass, field

from redline.fakesite import FakeSite, Story, load_stories, render

HOSTS = [f"127.0.0.{i}" for i in range(2, 10)]
SECTIONS = ["World", "Politics", "Business", "Markets", "Technology", "Science", "Climate", "Health",
            "Sport", "Culture", "Books", "Travel", "Opinion", "Video", "Podcasts", "Newsletters"]
WORDS = ("update report market policy minister election council budget storm court trade energy "
         "school police health coast border union city league film museum rate bank chip vote").split()
SWAPS = [("Wednesday", "Tuesday"), ("said", "stated"), ("Thursday", "Friday"), ("military", "armed forces"),
         ("officials", "authorities"), ("government", "administration"), ("week", "fortnight"), ("new", "fresh")]


def make_stories(count: int, seed: int = 6) -> list[Story]:
    """``count`` distinct articles built from the fixture stories' paragraphs."""
    rng = random.Random(seed)
    base = load_stories()
    pool = [p for s in base for p in s.paragraphs if len(p.split()) > 12]
    stories = []
    for i in range(count):
        src = base[i % len(base)]
        paras = list(src.paragraphs)
        rng.shuffle(paras)
        paras = paras[: max(4, int(len(paras) * rng.uniform(0.6, 1.0)))]
        paras += rng.sample(pool, rng.randint(1, 4))
        old, new = rng.choice(SWAPS)
        paras = [p.replace(old, new, 1) if rng.random() < 0.3 else p for p in paras]
        paras.insert(0, f"{src.title.split()[0]} report {i}: {' '.join(rng.choices(WORDS, k=14))}.")
        stories.append(Story(slug=f"news/{i:05d}/{src.slug.rsplit('/', 1)[-1]}", site=src.site,
                             title=f"{src.title} ({i})", byline=src.byline, published=src.published,
                             paragraphs=paras, lang=src.lang, footer=src.footer))
    return stories


def _ident(rng: random.Random, n: int = 6) -> str:
    return "".join(rng.choices("abcdefghijklmnopqrstuvwxyz", k=n))


def _nav(rng: random.Random) -> str:
    items = []
    for section in SECTIONS:
        links = "".join(f'<li><a href="/{section.lower()}/{_ident(rng, 8)}" data-track="nav|{section.lower()}|{k}">'
                        f'{" ".join(rng.choices(WORDS, k=rng.randint(1, 3))).title()}</a></li>'
                        for k in range(rng.randint(12, 22)))
        items.append(f'<li class="menu-section"><a href="/{section.lower()}">{section}</a>'
                     f'<ul class="submenu">{links}</ul></li>')
    return f'<nav class="mega-menu" aria-label="Sections"><ul>{"".join(items)}</ul></nav>'


def _css(rng: random.Random, size: int) -> str:
    rules: list[str] = []
    total = 0
    while total < size:
        rules.append(f".c-{_ident(rng)}{{display:flex;margin:0 {rng.randint(0, 32)}px;"
                     f"color:#{rng.randrange(16**6):06x};font-size:{rng.randint(10, 40)}px}}")
        total += len(rules[-1])
    return f"<style>{''.join(rules)}</style>"


def _js(rng: random.Random, size: int) -> str:
    parts = ["!function(){\"use strict\";"]
    total = 0
    while total < size:
        a, b, c = _ident(rng, 2), _ident(rng, 1), _ident(rng, 1)
        parts.append(f"function {a}{rng.randint(0, 99)}({b},{c}){{return {b}.map(function(x){{return x*{c}+"
                     f"0x{rng.randrange(4096):x}}}).filter(Boolean).join(\"{_ident(rng, 3)}\")}}"
                     f"var {_ident(rng, 3)}=window.{_ident(rng, 5)}||{{}};")
        total += len(parts[-1])
    return "<script>" + "".join(parts) + "}();</script>"


def _state(story: Story, rng: random.Random) -> str:
    related = [{"id": rng.randrange(10**8), "headline": " ".join(rng.choices(WORDS, k=9)).capitalize(),
                "url": f"/news/{rng.randrange(10**5)}/{_ident(rng, 12)}", "section": rng.choice(SECTIONS),
                "image": {"src": f"https://img.example/{_ident(rng, 16)}.jpg", "w": 1200, "h": 675,
                          "srcset": [f"https://img.example/{_ident(rng, 16)}-{w}.jpg {w}w" for w in (320, 640, 960)]}}
               for _ in range(rng.randint(20, 40))]
    state = {"props": {"pageProps": {"article": {
        "headline": story.title, "byline": story.byline, "published": story.published,
        "blocks": [{"type": "paragraph", "html": html.escape(p)} for p in story.paragraphs]},
        "related": related, "flags": {f"ff_{_ident(rng)}": rng.random() < 0.5 for _ in range(60)}}},
        "buildId": _ident(rng, 20)}
    blob = json.dumps(state).replace("</", "<\\/")
    return f'<script id="__NEXT_DATA__" type="application/json">{blob}</script>'


def _rail(rng: random.Random) -> str:
    cards = "".join(f'<li class="card"><a href="/news/{rng.randrange(10**5)}"><img src="/i/{_ident(rng, 10)}.jpg" '
                    f'alt=""><span>{" ".join(rng.choices(WORDS, k=8)).capitalize()}</span></a></li>'
                    for _ in range(rng.randint(10, 20)))
    return f'<aside class="recommended"><h3>Recommended</h3><ul>{cards}</ul></aside>'


def _footer(rng: random.Random) -> str:
    items = [f"<li><a href=/{_ident(rng)}>{w.title()}</a></li>" for w in rng.choices(WORDS, k=72)]
    cols = "".join("<ul>" + "".join(items[i:i + 12]) + "</ul>" for i in range(0, 72, 12))
    legal = " ".join(rng.choices(WORDS, k=120))
    return f'<div class="site-footer">{cols}<p class="legal">{legal}</p></div>'


@dataclass
class Template:
    """What every page of one site shares: navigation, CSS, footer and a library of inline scripts."""

    css: str
    nav: str
    footer: str
    scripts: list[str]

    @classmethod
    def build(cls, seed: int) -> Template:
        rng = random.Random(seed)
        return cls(_css(rng, rng.randint(8_000, 20_000)), _nav(rng), _footer(rng),
                   [_js(rng, rng.randint(4_000, 12_000)) for _ in range(24)])


def pad(page: str, story: Story, seed: int, template: Template) -> str:
    """``page`` grown to a realistic 80-180 KB with the clutter of a real news page."""
    rng = random.Random(seed)
    target = rng.randint(84_000, 180_000)
    tail = _rail(rng) + template.footer + _state(story, rng)
    size = len(page.encode()) + len(template.css) + len(template.nav) + len(tail)
    scripts = []
    for script in rng.sample(template.scripts, len(template.scripts)):
        if size + len(script) > target:
            continue
        scripts.append(script)
        size += len(script)
    split = max(1, len(scripts) // 3)
    page = page.replace("</head>", template.css + "".join(scripts[:split]) + "</head>", 1)
    page = page.replace("<header>", "<header>" + template.nav, 1)
    page = page.replace("</main>", "</main>" + tail, 1)
    return page.replace("</body>", "".join(scripts[split:]) + "</body>", 1)


@dataclass
class BenchSite(FakeSite):
    """A frozen :class:`FakeSite` whose pages are padded and cached: identical bytes every request."""

    frozen: bool = True
    pages: dict[str, tuple[dict[str, str], bytes]] = field(default_factory=dict)
    first_hit: float | None = None  # perf_counter() of the first request since reset()
    not_modified: int = 0           # requests whose If-None-Match matched (the handler answers 304)

    def reset(self) -> None:
        with self._lock:
            self.first_hit, self.not_modified = None, 0
            self.log.clear()

    def respond(self, path: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        now = time.perf_counter()
        with self._lock:
            self.first_hit = self.first_hit or now
        cached = self.pages.get(path.split("?")[0])
        if cached is None:
            return super().respond(path, headers)
        with self._lock:
            self.log.append({"path": path})
            self.not_modified += headers.get("If-None-Match") == cached[0]["ETag"]
        return 200, *cached

    def prepare(self) -> None:
        """Render and pad every story page once, before any timing."""
        template = Template.build(hash_seed(self.host))
        for path, route in self.routes.items():
            if route.story is None:
                continue
            page = pad(render(route.story, self.url(route.story.slug), 0), route.story, hash_seed(path), template)
            body = page.encode("utf-8")
            etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
            self.pages[path] = ({"Content-Type": route.content_type, "ETag": etag}, body)


def hash_seed(text: str) -> int:
    """A stable seed from a string (``hash()`` is salted per process)."""
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


@dataclass
class Corpus:
    """Running sites and the article URLs they serve."""

    sites: list[BenchSite]
    urls: list[str]

    def pages(self) -> list[tuple[str, str]]:
        """(URL, HTML) of every article, exactly as served."""
        out = []
        for site in self.sites:
            for path, (_headers, body) in site.pages.items():
                out.append((site.url(path), body.decode("utf-8")))
        return out

    def total_bytes(self) -> int:
        return sum(len(body) for site in self.sites for _h, body in site.pages.values())

    def reset(self) -> None:
        for site in self.sites:
            site.reset()

    def first_hit(self) -> float:
        """When the first request of the current run arrived at any site."""
        return min(s.first_hit for s in self.sites if s.first_hit is not None)

    def not_modified(self) -> int:
        return sum(s.not_modified for s in self.sites)

    def stop(self) -> None:
        for site in self.sites:
            site.stop()


def serve(count: int, hosts: list[str] = HOSTS) -> Corpus:
    """Start one :class:`BenchSite` per host and spread ``count`` articles over them."""
    sites = [BenchSite().start(host=h) for h in hosts]
    urls = []
    for i, story in enumerate(make_stories(count)):
        urls.append(sites[i % len(sites)].add(story))
    for site in sites:
        site.prepare()
    return Corpus(sites, urls)
