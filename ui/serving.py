"""What the web server serves beyond Gradio's own routes, and what it refuses: no gradio import here.

- `report/{report_id}`: the one file a report was ingested from, looked up in the index by id and checked
  against the hash taken at ingest, so no folder is ever opened to the web (Gradio's `allowed_paths` stays
  empty). It runs Gradio's own login check, so it needs the login exactly when the rest of the app does.
- `report/{report_id}/page/{page}?paragraph={paragraph_id}`: one page of that file (a PDF) as a PNG, the
  paragraph's lines highlighted (ui.pages), from the same checked bytes, behind the same login check; rendered
  pages are kept in a small in-memory LRU cache keyed by report, ingest hash, page and paragraph.
- `ServingGuard`, an ASGI middleware: refuses Gradio's upload routes (the app has no upload component) before
  a byte of the body is read, and slows down password guessing at `/login` per client address (ui.throttle).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import Depends, HTTPException, Request
from fastapi.routing import APIRoute
from starlette.responses import JSONResponse, PlainTextResponse, Response

from core.models import Citation, Report
from core.settings import PROJECT_ROOT
from ui.pages import PageCache, PageImage, cache_key, render_page
from ui.render import PAGE_ROUTE, REPORT_ROUTE, Surroundings, surroundings
from ui.throttle import LoginThrottle
from vectorstore.index import Index

log = logging.getLogger(__name__)

# Gradio's own routes (its URL contract in 6.x): the two that decide who is logged in, and the ones that take files
GRADIO_USER_PATH = "/gradio_api/user"
GRADIO_LOGIN_CHECK_PATH = "/gradio_api/login_check"
GRADIO_LOGIN_PATH = "/login"
UPLOAD_PATHS = frozenset({"/gradio_api/upload", "/gradio_api/upload_progress", "/gradio_api/process_recording"})

# What a report file is served as: a PDF for the browser's viewer; anything else as plain text, so an ingested
# HTML page is shown, never run, in the app's origin
PDF = "application/pdf"
TEXT = "text/plain; charset=utf-8"
PNG = "image/png"

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


@dataclass(frozen=True)
class ReportFile:
    """One report's file as ingested: its bytes and how to send them."""

    data: bytes
    media_type: str
    filename: str


def report_bases() -> list[Path]:
    """The base folders a relative report path may be under: where the app runs, and the project folder (where
    `make ingest-corpus` ingests from)."""
    return [Path.cwd(), PROJECT_ROOT]


def candidates(report: Report, bases: Sequence[Path]) -> list[Path]:
    """Where the file a report was read from may be: its path, or a relative one under each base folder in turn
    (a report ingested as `../shared/corpus/...` from the project folder, served from elsewhere). None for a URL."""
    if not report.source or "://" in report.source:
        return []
    source = Path(report.source)
    return [source] if source.is_absolute() else [base / source for base in bases]


def report_file(index: Index, report_id: str, bases: Sequence[Path], *, max_bytes: int) -> ReportFile | None:
    """The ingested file of this report, or None: unknown id, no local file, too large, or changed since ingest
    (only bytes whose sha256 is the one taken at ingest are ever served)."""
    report = index.report(report_id)
    if report is None:
        return None
    for path in candidates(report, bases):
        try:
            if not path.is_file() or path.stat().st_size > max_bytes:
                continue
            data = path.read_bytes()
        except OSError:
            continue
        if hashlib.sha256(data).hexdigest() == report.content_hash:
            media_type = PDF if path.suffix.lower() == ".pdf" else TEXT
            suffix = ".pdf" if media_type == PDF else ".txt"
            return ReportFile(data=data, media_type=media_type, filename=f"{report.report_id}{suffix}")
    return None


def source_view(index: Index, citation: Citation, bases: Sequence[Path]) -> tuple[bool, Surroundings | None]:
    """How the sources panel shows a cited paragraph beyond its text: (True, None) when the report is a PDF whose
    file is here, so its page is shown (served by `page_route`, which checks the bytes); else (False, the
    paragraphs around it), a text or Markdown report's paragraph read in its surrounding text."""
    report = index.report(citation.report_id)
    if report is None:
        return False, None
    if report.source.lower().endswith(".pdf") and any(path.is_file() for path in candidates(report, bases)):
        return True, None
    paragraphs = index.paragraphs(report.report_id)
    position = next((i for i, p in enumerate(paragraphs) if p.paragraph_id == citation.paragraph_id), -1)
    return False, surroundings([p.text for p in paragraphs], position)


def _gradio_endpoint(app: Any, path: str) -> Callable[..., Any] | None:
    """The function behind one of Gradio's routes, found in the app's route table."""
    pending = list(getattr(app, "routes", ()))
    while pending:
        route = pending.pop(0)
        if isinstance(route, APIRoute) and route.path == path:
            return route.endpoint
        # FastAPI 0.16x keeps an included router (Gradio's /gradio_api one) whole, as one entry
        inner = getattr(route, "original_router", None)
        pending.extend(getattr(inner, "routes", ()))
    return None


async def gradio_login_check(request: Request) -> None:
    """Gradio's own check, as its routes run it: its `get_current_user` (the login cookie, or an
    `auth_dependency`), then its `login_check` (401 when a login is configured and nobody is logged in).

    Fails closed (403) if this Gradio no longer has those routes.
    """
    current_user = _gradio_endpoint(request.app, GRADIO_USER_PATH)
    login_check = _gradio_endpoint(request.app, GRADIO_LOGIN_CHECK_PATH)
    if current_user is None or login_check is None:
        log.error("Gradio's login check was not found (%s, %s): refusing", GRADIO_USER_PATH, GRADIO_LOGIN_CHECK_PATH)
        raise HTTPException(status_code=403, detail="Not allowed")
    user = current_user(request)
    if asyncio.iscoroutine(user):
        user = await user
    login_check(user)


def report_route(index: Index, bases: Sequence[Path], *, max_bytes: int) -> APIRoute:
    """GET/HEAD `/report/{report_id}`: one ingested report's file, inline; 404 for anything else."""

    def serve_report(report_id: str) -> Response:
        found = report_file(index, report_id, bases, max_bytes=max_bytes)
        if found is None:
            return PlainTextResponse("No such report.", status_code=404)
        headers = {
            "Content-Disposition": f'inline; filename="{found.filename}"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-cache",
        }
        if found.media_type != PDF:
            headers["Content-Security-Policy"] = "sandbox"
        return Response(found.data, media_type=found.media_type, headers=headers)

    return APIRoute(
        "/" + REPORT_ROUTE + "{report_id}",
        serve_report,
        methods=["GET", "HEAD"],
        dependencies=[Depends(gradio_login_check)],
        include_in_schema=False,
    )


def page_image(
    index: Index,
    report_id: str,
    page_number: int,
    paragraph_id: str,
    bases: Sequence[Path],
    *,
    max_bytes: int,
    cache: PageCache,
) -> PageImage | None:
    """A page of a report's PDF as a PNG with the paragraph highlighted, from the cache or rendered from the checked
    ingested bytes; None for an unknown report, a paragraph of another report, a page it does not have, or a file
    that is not the PDF ingested."""
    report = index.report(report_id)
    if report is None or page_number < 1 or (report.pages and page_number > report.pages):
        return None
    text = ""
    if paragraph_id:
        paragraph = index.paragraph(paragraph_id)  # never a paragraph flagged at ingest
        if paragraph is None or paragraph.report_id != report_id:
            return None
        text = paragraph.text
    key = cache_key(report_id, report.content_hash, page_number, text)
    cached = cache.get(key)
    if cached is not None:
        return cached
    found = report_file(index, report_id, bases, max_bytes=max_bytes)
    if found is None or found.media_type != PDF:
        return None
    try:
        image = render_page(found.data, page_number, text)
    except ValueError:  # a page the file does not have
        return None
    cache.put(key, image)
    return image


def page_route(index: Index, bases: Sequence[Path], *, max_bytes: int, cache: PageCache | None = None) -> APIRoute:
    """GET/HEAD `/report/{report_id}/page/{page}?paragraph={paragraph_id}`: the page as a PNG; 404 otherwise."""
    pages = cache if cache is not None else PageCache()

    def serve_page(report_id: str, page_number: int, request: Request, paragraph: str = "") -> Response:
        image = page_image(index, report_id, page_number, paragraph, bases, max_bytes=max_bytes, cache=pages)
        if image is None:
            return PlainTextResponse("No such page.", status_code=404)
        etag = '"' + hashlib.sha256(image.png).hexdigest()[:32] + '"'
        headers = {"ETag": etag, "Cache-Control": "private, no-cache", "X-Content-Type-Options": "nosniff"}
        if request.headers.get("if-none-match") == etag:
            return Response(status_code=304, headers=headers)
        return Response(image.png, media_type=PNG, headers=headers)

    return APIRoute(
        "/" + REPORT_ROUTE + "{report_id}" + PAGE_ROUTE + "{page_number}",
        serve_page,
        methods=["GET", "HEAD"],
        dependencies=[Depends(gradio_login_check)],
        include_in_schema=False,
    )


class ServingGuard:
    """ASGI middleware in front of Gradio: uploads off, and password guessing slowed per client address."""

    def __init__(self, app: ASGIApp, *, throttle: LoginThrottle | None, uploads: bool = False) -> None:
        self.app = app
        self.throttle = throttle
        self.uploads = uploads

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"].rstrip("/") or "/"
        if not self.uploads and path in UPLOAD_PATHS:
            refusal = PlainTextResponse("Uploads are off: this app takes no files.", status_code=403)
            await refusal(scope, receive, send)
            return
        if self.throttle is not None and path == GRADIO_LOGIN_PATH and scope["method"] == "POST":
            await self._login(self.throttle, scope, receive, send)
            return
        await self.app(scope, receive, send)

    async def _login(self, throttle: LoginThrottle, scope: Scope, receive: Receive, send: Send) -> None:
        client = scope.get("client")
        address = str(client[0]) if client else "unknown"
        wait = throttle.begin(address)
        if wait is None:
            retry = max(1, math.ceil(throttle.retry_after(address)))
            log.warning("sign-in refused for %s: too many wrong passwords (retry in %d s)", address, retry)
            refusal = JSONResponse(
                {"detail": f"Too many wrong passwords from your address: try again in {retry} seconds."},
                status_code=429,
                headers={"Retry-After": str(retry)},
            )
            await refusal(scope, receive, send)
            return
        if wait:
            await asyncio.sleep(wait)
        status = 0

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        await self.app(scope, receive, watch)
        if status == 200:
            throttle.succeeded(address)
        else:
            log.info("wrong sign-in from %s (the next one waits)", address)
