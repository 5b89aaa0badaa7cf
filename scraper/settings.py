"""Scrapy settings for Redline. Redline's own keys start with ``REDLINE_``.

Politeness is ordinary Scrapy configuration: override any of these with
``redline crawl -s NAME=VALUE``.
"""
from importlib.metadata import version

from scrapy.settings import default_settings

BOT_NAME = "redline"
SPIDER_MODULES = ["scraper.spiders"]
NEWSPIDER_MODULE = "scraper.spiders"

USER_AGENT = f"Redline/{version('redline')} (news change archive; +https://github.com/redline-archive/redline)"
ROBOTSTXT_OBEY = True
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
# Scrapy 2.19 otherwise starts an HTTP server in the crawl process that runs Python code posted to
# it (for its MCP server) and writes its port and token to a file in the user's profile.
REMOTE_CONTROL_ENABLED = False
# ...and not even imported: Scrapy imports every extension named in EXTENSIONS_BASE, disabled or not,
# and that module imports aiohttp (~0.1 s of every crawl's start-up); the telnet console is off too.
EXTENSIONS_BASE = {path: order for path, order in default_settings.EXTENSIONS_BASE.items()
                   if not path.endswith((".RemoteControl", ".TelnetConsole"))}

CONCURRENT_REQUESTS = 16
# Items per response handled in parallel: a page yields one article, and Scrapy starts this many
# asyncio tasks per response (the default 100 cost ~2 ms of the crawl process per page).
CONCURRENT_ITEMS = 4
# Response bytes the spider and pipeline may hold at once before Scrapy stops sending requests
# (default 5 MB): extraction is the bottleneck, and each waiting page is also held decoded; 1 MB
# still keeps ~9 average pages queued for the extraction workers.
SCRAPER_SLOT_MAX_ACTIVE_SIZE = 1_000_000
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_DELAY = 1.0
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0

DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 16 * 1024 * 1024
DOWNLOAD_WARNSIZE = 4 * 1024 * 1024
RETRY_ENABLED = True
RETRY_TIMES = 2
REDIRECT_MAX_TIMES = 10
HTTPERROR_ALLOW_ALL = True  # every status is a fetch outcome the archive records

DOWNLOADER_MIDDLEWARES = {
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "scraper.middlewares.RobotsTxtMiddleware": 100,
    "scraper.middlewares.ConditionalRequestMiddleware": 560,
    "scraper.middlewares.StopGate": 990,  # after Scrapy's own (HttpCacheMiddleware is at 900)
}
ITEM_PIPELINES = {"scraper.pipelines.ArchivePipeline": 300}

LOG_LEVEL = "INFO"
REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"

REDLINE_DB = None                      # SQLAlchemy URL; the CLI sets it from --db / REDLINE_DB
REDLINE_MAX_HTML_BYTES = 2_000_000     # larger pages are not extracted (extraction time grows super-linearly)
REDLINE_EXTRACT_TIMEOUT = 20.0         # seconds per page before the worker is killed
REDLINE_EXTRACT_WORKERS = 0            # 0 = one per CPU core
REDLINE_BATCH_SIZE = 25                # captures written per transaction...
# ...or fewer, once the first has waited this many seconds: what a killed crawl can lose. Not shorter: site
# template noise is learned from the articles of one batch (archive.store.learning), so batches must stay large.
REDLINE_BATCH_SECONDS = 5.0
REDLINE_CONDITIONAL = True             # send If-None-Match / If-Modified-Since from the last capture
REDLINE_SITEMAP_MAX_DEPTH = 3          # sitemap index nesting followed below a sitemap given to discovery
REDLINE_SITEMAP_MAX_FILES = 500        # child sitemaps fetched from indexes in one discovery run
REDLINE_DISCOVER_MAX_URLS = 100_000    # article URLs kept from one discovery run
# Screenshots of new versions (scraper/screenshots.py), rendered from the archived body after the crawl's writes
REDLINE_SCREENSHOT = False             # redline crawl --screenshot, a schedule's --screenshot
REDLINE_SCREENSHOT_BROWSER = "/usr/bin/chromium"  # Chromium's executable; "" for Playwright's own browser
REDLINE_SCREENSHOT_FORMAT = "webp"     # webp, png or jpeg
REDLINE_SCREENSHOT_QUALITY = 80        # webp and jpeg
REDLINE_SCREENSHOT_TIMEOUT = 30.0      # seconds for the browser to start, and for one page to load
REDLINE_SCREENSHOT_LIVE = False        # let the page's own host serve its CSS and images live (labelled so)
# Fetching through a browser (the browser extra: scrapy-playwright and Chromium; scraper.browser).
REDLINE_RENDER = ""                    # auto, js or never ("--render"); empty: each site's default, else auto
REDLINE_BROWSER = None                 # a Chromium's path (default /usr/bin/chromium), or "playwright" for its own
REDLINE_BROWSER_THIRD_PARTY = False    # let the browser load other hosts' scripts and styles
# Pages open in the browser at once (scrapy-playwright's own setting; unbounded by default): the crawl tree's
# memory grows with each (python -m bench browser measures it).
PLAYWRIGHT_MAX_PAGES_PER_CONTEXT = 4
EXTENSIONS = {"scraper.browser.BrowserGate": 0}  # binds robots.txt to the browser's own requests
