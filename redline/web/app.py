"""The web application: routes, security headers on every response, and errors without tracebacks."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from starlette.applications import Starlette
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from archive.clock import utcnow
from archive.errors import ArchiveError, ReversedRange
from redline.web.params import BadRequest
from redline.web.templating import templates

HERE = Path(__file__).parent
# No script at all: the pages work without JavaScript, and crawled text can never become one.
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
                               "base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}


class SecurityHeaders:
    """Pure ASGI middleware adding :data:`HEADERS` to every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).update(HEADERS)
            await send(message)

        await self.app(scope, receive, send_with_headers if scope["type"] == "http" else send)


def create_app(engine: Engine, base_url: str | None = None, zone: ZoneInfo | None = None,
               now: datetime | None = None) -> Starlette:
    """The app on a (read-only) engine; ``base_url`` makes feed links and permalinks absolute (default: as
    requested, and relative); ``zone`` shows every time in that zone too (besides UTC); ``now`` fixes the
    time relative ages count to (default: the clock, at each request)."""
    from redline.web import api, feeds, pages

    env = templates()

    def render(name: str, **context: Any) -> HTMLResponse:
        return HTMLResponse(env.get_template(name).render(**context))

    def error(request: Request, status: int, message: str) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": message}, status, headers=HEADERS)
        return HTMLResponse(env.get_template("error.html").render(status=status, message=message), status,
                            headers=HEADERS)

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return error(request, exc.status_code, exc.detail)

    async def on_archive(request: Request, exc: Exception) -> Response:
        return error(request, 404, str(exc))

    async def on_bad(request: Request, exc: Exception) -> Response:
        return error(request, 400, str(exc))

    async def on_crash(request: Request, exc: Exception) -> Response:
        # Starlette re-raises the exception after this answer, so uvicorn logs the traceback on stderr.
        return error(request, 500, "internal error; the server log has the details")

    async def healthz(request: Request) -> Response:
        return PlainTextResponse("ok")

    app = Starlette(
        debug=False,
        routes=[*pages.routes(), *feeds.routes(), *api.routes(), Route("/healthz", healthz),
                Mount("/static", StaticFiles(directory=HERE / "static"), name="static")],
        middleware=[Middleware(SecurityHeaders)],
        exception_handlers={HTTPException: on_http, ArchiveError: on_archive, ReversedRange: on_bad, BadRequest: on_bad,
                            Exception: on_crash},
    )
    app.state.engine, app.state.base_url, app.state.render = engine, base_url, render
    app.state.zone = zone
    app.state.now = (lambda: now) if now is not None else utcnow
    app.state.started = app.state.now()  # an empty archive's feeds are dated by it, stable while it runs
    return app
