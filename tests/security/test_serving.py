"""What the app serves, as a hostile client sees it: the real app on loopback, real HTTP requests, a real browser.

- only the ingested reports themselves are served (by id, at `report/{id}`), never a folder's other files;
- that route, like the rest of the app, needs the login when one is set;
- uploads are off (the app has no upload component), whatever their size, with or without a login;
- wrong passwords slow down, then the client address is refused for a while; the right password still works
  from another address, and from the same one once the window has passed.
"""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from core.settings import Settings
from tests.conftest import BUCKS_FV_2021, PROJECT_ROOT, SAMPLE_DIR
from tests.ui.browsing import start_app

USERNAME = "scrutiny"
PASSWORD = "s3cret-enough"
QUESTION = "What did inspectors say about care leavers in Buckinghamshire?"
WINDOW_S = 5.0
SECRET = "OFSTED_QA_LLM_API_KEY=sk-not-for-you\n"


@dataclass(frozen=True)
class Served:
    """A running app: its base URL (ending in /), the one report's id and the folder it was ingested from."""

    url: str
    report_id: str
    folder: Path


@pytest.fixture(scope="module")
def report_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One real report beside files that are not reports and must never be served."""
    folder = tmp_path_factory.mktemp("reports")
    shutil.copy(BUCKS_FV_2021, folder / BUCKS_FV_2021.name)
    (folder / "secrets.env").write_text(SECRET, encoding="utf-8")
    (folder / "minutes.docx").write_bytes(b"PK\x03\x04 a document that is not a report")
    return folder


@pytest.fixture(scope="module")
def one_report(report_folder: Path, embedder, tmp_path_factory: pytest.TempPathFactory):
    """(index, settings) over the folder: only the PDF is ingested."""
    from chatbot.build import build_index
    from vectorstore.ingestion import ingest_targets

    home = tmp_path_factory.mktemp("one_report")
    settings = Settings(index_dir=home / "index", feedback_file=home / "feedback.jsonl", host="127.0.0.1")
    index = build_index(settings, embedder=embedder)
    summary = ingest_targets(index, [str(report_folder)], max_bytes=settings.max_file_bytes)
    assert not summary.failed, summary.failed
    assert len(index.reports()) == 1
    return index, settings


def _serve(index, settings: Settings, folder: Path) -> Iterator[Served]:
    from chatbot.build import build_pipeline

    demo, url = start_app(build_pipeline(settings, index), index, settings)
    try:
        yield Served(url, index.reports()[0].report_id, folder)
    finally:
        demo.close()


@pytest.fixture(scope="module")
def open_app(one_report, report_folder: Path) -> Iterator[Served]:
    """The app with no login configured."""
    index, settings = one_report
    yield from _serve(index, settings, report_folder)


@pytest.fixture(scope="module")
def locked_app(one_report, report_folder: Path) -> Iterator[Served]:
    """The same app with a login."""
    index, settings = one_report
    settings = Settings(**{**settings.model_dump(), "username": USERNAME, "password": PASSWORD})
    yield from _serve(index, settings, report_folder)


def client(local_address: str = "127.0.0.1") -> httpx.Client:
    """A fresh HTTP client (no cookies) connecting from a loopback address of our choice."""
    return httpx.Client(transport=httpx.HTTPTransport(local_address=local_address), timeout=60, follow_redirects=False)


def logged_in(url: str) -> httpx.Client:
    session = client()
    response = session.post(url + "login", data={"username": USERNAME, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return session


def refused(response: httpx.Response) -> bool:
    """401/403, or a redirect to the login page: anything but the file."""
    return response.status_code in (401, 403) or response.is_redirect


def gradio_file(url: str, path: Path) -> str:
    return url + "gradio_api/file=" + quote(str(path))


# ---- only the ingested files are served -----------------------------------------------------------------------


def test_files_beside_an_ingested_report_are_not_served(open_app: Served, locked_app: Served):
    neighbours = [open_app.folder / "secrets.env", open_app.folder / "minutes.docx", SAMPLE_DIR / "manifest.csv"]
    with client() as anonymous, closing(logged_in(locked_app.url)) as member:
        for session, url in ((anonymous, open_app.url), (member, locked_app.url)):
            for path in neighbours:
                response = session.get(gradio_file(url, path))
                assert response.status_code in (403, 404), (url, path.name, response.status_code)
                assert b"sk-not-for-you" not in response.content
            # not even the report itself through Gradio's file route: it has its own route, by id
            assert session.get(gradio_file(url, open_app.folder / BUCKS_FV_2021.name)).status_code in (403, 404)


def test_the_report_route_serves_the_ingested_pdf_inline_and_nothing_else(open_app: Served):
    with client() as anonymous:
        response = anonymous.get(open_app.url + "report/" + open_app.report_id)
        assert response.status_code == 200, response.status_code
        assert response.headers["content-type"] == "application/pdf"
        assert response.headers["content-disposition"].startswith("inline")
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.content == BUCKS_FV_2021.read_bytes()
        assert str(open_app.folder) not in str(response.headers)
        for other in ("no-such-report", "secrets.env", "..%2Fsecrets.env", quote(str(open_app.folder / "secrets.env"), safe="")):
            missing = anonymous.get(open_app.url + "report/" + other)
            assert missing.status_code == 404, (other, missing.status_code)
            assert b"sk-not-for-you" not in missing.content


def test_a_report_changed_on_disk_since_ingest_is_not_served(one_report, report_folder: Path, tmp_path: Path):
    """The page's link serves the bytes that were ingested, not whatever now sits at that path."""
    from chatbot.build import build_pipeline
    from ui.render import report_link

    index, settings = one_report
    href, _ = report_link(build_pipeline(settings, index).ask(QUESTION).citations[0])
    saved = tmp_path / "saved.pdf"
    pdf = report_folder / BUCKS_FV_2021.name
    shutil.copy(pdf, saved)
    served = _serve(index, settings, report_folder)
    app = next(served)
    try:
        pdf.write_text(SECRET, encoding="utf-8")
        with client() as anonymous:
            response = anonymous.get(app.url + href.split("#", 1)[0])
        assert response.status_code == 404, response.status_code
        assert b"sk-not-for-you" not in response.content
    finally:
        shutil.copy(saved, pdf)
        served.close()


def test_the_report_route_needs_the_login(locked_app: Served):
    with client() as anonymous:
        response = anonymous.get(locked_app.url + "report/" + locked_app.report_id)
        assert refused(response), response.status_code
        assert not response.content.startswith(b"%PDF")
    with closing(logged_in(locked_app.url)) as member:
        response = member.get(locked_app.url + "report/" + locked_app.report_id)
        assert response.status_code == 200, response.status_code
        assert response.content == BUCKS_FV_2021.read_bytes()


def test_the_local_copy_link_names_the_report_not_a_path_and_works_from_another_folder(
    embedder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """Ingested from the project folder with a relative path (as `make ingest-corpus` does); served from elsewhere."""
    from chatbot.build import build_index, build_pipeline
    from ui.render import render_source, report_link
    from vectorstore.ingestion import ingest_targets

    settings = Settings(index_dir=tmp_path / "index", feedback_file=tmp_path / "feedback.jsonl", host="127.0.0.1")
    index = build_index(settings, embedder=embedder)
    monkeypatch.chdir(PROJECT_ROOT)
    relative = BUCKS_FV_2021.relative_to(PROJECT_ROOT)
    assert not ingest_targets(index, [str(relative)], max_bytes=settings.max_file_bytes).failed
    monkeypatch.chdir(tmp_path)
    pipeline = build_pipeline(settings, index)
    citation = pipeline.ask(QUESTION).citations[0]
    assert not citation.url  # no official link for this one: the page links the local copy
    href, text = report_link(citation)
    assert text == "Open the local copy of the report"
    html = render_source(citation, [])
    assert str(PROJECT_ROOT) not in html and str(relative) not in html and str(relative.parent) not in html
    demo, url = start_app(pipeline, index, settings)
    try:
        with client() as anonymous:
            response = anonymous.get(url + href.split("#", 1)[0])
        assert response.status_code == 200, (href, response.status_code)
        assert response.content == BUCKS_FV_2021.read_bytes()
    finally:
        demo.close()


# ---- a page of a report, as a picture ---------------------------------------------------------------------------


def page_href(index, report_id: str, page: int = 2) -> str:
    """The page route for the first paragraph on a page of the report (what a citation on that page links)."""
    paragraph = next(p for p in index.paragraphs(report_id) if p.page == page and p.kind in ("paragraph", "bullet"))
    return f"report/{report_id}/page/{page}?paragraph={quote(paragraph.paragraph_id, safe='')}"


def test_the_page_route_serves_a_page_of_an_ingested_pdf_as_a_png_and_nothing_else(one_report, open_app: Served):
    index, _ = one_report
    href = page_href(index, open_app.report_id)
    with client() as anonymous:
        response = anonymous.get(open_app.url + href)
        assert response.status_code == 200, response.status_code
        assert response.headers["content-type"] == "image/png"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.content.startswith(b"\x89PNG")
        # the browser asks again with the ETag: nothing is sent twice
        again = anonymous.get(open_app.url + href, headers={"If-None-Match": response.headers["etag"]})
        assert again.status_code == 304 and not again.content
        other = index.paragraphs(open_app.report_id)[0].paragraph_id
        for wrong in (
            "report/no-such-report/page/2",
            f"report/{open_app.report_id}/page/0",
            f"report/{open_app.report_id}/page/99",  # the report has 5 pages
            f"report/{open_app.report_id}/page/two",
            f"report/{open_app.report_id}/page/2?paragraph=no-such-paragraph",
            f"report/{open_app.report_id}/page/2?paragraph=another-report%3A{other.split(':', 1)[1]}",
            "report/..%2Fsecrets.env/page/1",
        ):
            missing = anonymous.get(open_app.url + wrong)
            assert missing.status_code in (404, 422), (wrong, missing.status_code)
            assert not missing.content.startswith(b"\x89PNG") and b"sk-not-for-you" not in missing.content


def test_the_page_route_needs_the_login(one_report, locked_app: Served):
    index, _ = one_report
    href = page_href(index, locked_app.report_id)
    with client() as anonymous:
        response = anonymous.get(locked_app.url + href)
        assert refused(response), response.status_code
        assert not response.content.startswith(b"\x89PNG")
    with closing(logged_in(locked_app.url)) as member:
        response = member.get(locked_app.url + href)
        assert response.status_code == 200, response.status_code
        assert response.content.startswith(b"\x89PNG")


def test_a_page_of_a_report_changed_on_disk_since_ingest_is_not_rendered(one_report, report_folder: Path, tmp_path: Path):
    index, settings = one_report
    href = page_href(index, index.reports()[0].report_id, page=3)
    saved = tmp_path / "saved.pdf"
    pdf = report_folder / BUCKS_FV_2021.name
    shutil.copy(pdf, saved)
    served = _serve(index, settings, report_folder)
    app = next(served)  # a fresh app, so nothing is cached yet
    try:
        pdf.write_bytes(saved.read_bytes().replace(b"Buckinghamshire", b"Elsewhereshire!"))
        with client() as anonymous:
            response = anonymous.get(app.url + href)
        assert response.status_code == 404, response.status_code
    finally:
        shutil.copy(saved, pdf)
        served.close()


# ---- uploads --------------------------------------------------------------------------------------------------


def upload(session: httpx.Client, url: str, size: int) -> httpx.Response:
    return session.post(url + "gradio_api/upload", files={"files": ("notes.txt", b"x" * size, "text/plain")})


def test_uploads_are_off_without_a_login(open_app: Served):
    with client() as anonymous:
        response = upload(anonymous, open_app.url, 10)
    assert response.status_code in (403, 404, 405), (response.status_code, response.text)


def test_an_oversized_upload_is_refused(open_app: Served, locked_app: Served):
    with client() as anonymous, closing(logged_in(locked_app.url)) as member:
        for session, url in ((anonymous, open_app.url), (member, locked_app.url)):
            response = upload(session, url, 5 * 1024 * 1024)
            assert response.status_code in (403, 404, 405, 413), (url, response.status_code)


def test_an_upload_without_the_login_is_refused(locked_app: Served):
    with client() as anonymous:
        response = upload(anonymous, locked_app.url, 10)
    assert refused(response), response.status_code


# ---- wrong passwords ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("failures", "expected"),
    [
        (0, 0.0),  # the first try is never slowed down
        (1, 1.0),
        (2, 2.0),
        (3, 4.0),
        (6, 30.0),  # doubling, up to the cap
        (9, 30.0),
        (10, None),  # locked: refused without checking the password
        (25, None),
    ],
)
def test_the_delay_doubles_with_each_recent_failure_then_the_address_is_refused(failures: int, expected: float | None):
    from ui.throttle import LoginThrottle

    throttle = LoginThrottle(delay_s=1.0, max_delay_s=30.0, max_failures=10, window_s=900.0, clock=lambda: 100.0)
    for _ in range(failures):
        throttle.failed("203.0.113.9")
    assert throttle.delay("203.0.113.9") == expected
    assert throttle.delay("198.51.100.4") == 0.0  # another address is not affected


def test_an_attempt_counts_until_it_succeeds_and_failures_age_out_of_the_window():
    from ui.throttle import LoginThrottle

    now = [0.0]
    throttle = LoginThrottle(delay_s=1.0, max_delay_s=30.0, max_failures=3, window_s=60.0, clock=lambda: now[0])
    # an attempt in flight counts as a failure, so parallel guesses cannot all go through at the first try's speed
    delays = []
    for second in range(4):
        now[0] = float(second)
        delays.append(throttle.begin("203.0.113.9"))
    assert delays == [0.0, 1.0, 2.0, None]
    assert throttle.retry_after("203.0.113.9") == 57.0  # until the oldest failure leaves the window
    now[0] = 59.0
    assert throttle.begin("203.0.113.9") is None  # still locked: refused attempts do not count, nor extend it
    now[0] = 60.5  # the first failure has aged out: one more try, slowed down
    assert throttle.begin("203.0.113.9") == 2.0
    throttle.succeeded("203.0.113.9")  # the right password clears the address
    assert throttle.delay("203.0.113.9") == 0.0
    assert throttle.retry_after("203.0.113.9") == 0.0


def test_the_throttle_forgets_old_addresses():
    from ui.throttle import LoginThrottle

    now = [0.0]
    throttle = LoginThrottle(max_failures=3, window_s=10.0, max_clients=100, clock=lambda: now[0])
    for number in range(100):
        throttle.failed(f"10.0.0.{number}")
    now[0] = 11.0
    throttle.failed("10.0.1.1")  # over the table's size: entries past the window are dropped
    assert throttle.tracked() == 1


def test_wrong_passwords_slow_down_then_lock_the_address_but_not_the_user(one_report, report_folder: Path):
    index, settings = one_report
    settings = Settings(
        **{
            **settings.model_dump(),
            "username": USERNAME,
            "password": PASSWORD,
            "login_delay_s": 0.25,
            "login_max_failures": 4,
            "login_window_s": WINDOW_S,
        }
    )
    served = _serve(index, settings, report_folder)
    app = next(served)
    try:
        started = time.perf_counter()
        statuses, times = [], []
        with client() as attacker:
            for _ in range(8):
                before = time.perf_counter()
                response = attacker.post(app.url + "login", data={"username": USERNAME, "password": "guess"})
                statuses.append(response.status_code)
                times.append(time.perf_counter() - before)
            # the real user behind the same address is refused too while the address is locked
            locked = attacker.post(app.url + "login", data={"username": USERNAME, "password": PASSWORD})
        # 4 wrong tries, each slower than the last (0, 0.25, 0.5, 1 s), then refused without a check
        assert statuses == [400] * 4 + [429] * 4, statuses
        assert times[1] >= 0.25 and times[2] >= 0.5 and times[3] >= 1.0, times
        assert locked.status_code == 429 and int(locked.headers["retry-after"]) >= 1
        # another address logs in at once with the right password
        with client("127.0.0.2") as member:
            before = time.perf_counter()
            response = member.post(app.url + "login", data={"username": USERNAME, "password": PASSWORD})
            assert response.status_code == 200, response.status_code
            assert time.perf_counter() - before < 0.25
            assert member.get(app.url + "report/" + app.report_id).status_code == 200
        # and the locked address can log in again once its failures have left the window
        time.sleep(max(0.0, WINDOW_S - (time.perf_counter() - started)) + 0.2)
        with client() as user:
            response = user.post(app.url + "login", data={"username": USERNAME, "password": PASSWORD})
            assert response.status_code == 200, response.status_code
    finally:
        served.close()


# ---- in a browser -----------------------------------------------------------------------------------------------


@pytest.mark.browser
def test_after_login_the_local_copy_link_opens_the_pdf_through_the_report_route(locked_app: Served, browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        page.goto(locked_app.url)
        page.get_by_label("username").fill(USERNAME)
        page.get_by_label("password").fill(PASSWORD)
        page.get_by_role("button", name="Login").click()
        page.wait_for_selector("#index-status .banner.ready", timeout=30_000)
        box = page.get_by_label("Your question")
        box.fill(QUESTION)
        box.press("Enter")
        page.wait_for_selector("#transcript .msg.bot:not(.pending) button.cite", timeout=60_000)
        page.locator("#transcript button.cite").first.click()
        link = page.locator("#sources a.report-link")
        link.wait_for(timeout=10_000)
        assert link.inner_text() == "Open the local copy of the report"
        href = link.get_attribute("href") or ""
        assert href.startswith(f"report/{locked_app.report_id}"), href
        assert str(locked_app.folder) not in page.locator("#sources").inner_html()
        with context.expect_event(
            "response", lambda response: "/report/" in response.url and "/page/" not in response.url, timeout=30_000
        ) as opened:
            link.click()
        response = opened.value
        assert response.status == 200
        assert response.headers["content-type"] == "application/pdf"
    finally:
        context.close()


# ---- probes that held when the issue was written, kept as tests -----------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "gradio_api/file=/etc/passwd",
        "gradio_api/file=" + quote("/etc/passwd", safe=""),
        "gradio_api/file=../../../../etc/passwd",
        "gradio_api/file=" + quote(str(PROJECT_ROOT / "pyproject.toml")),
        "gradio_api/file=" + quote(str(PROJECT_ROOT / ".." / ".." / "etc" / "passwd")),
        "report/..%2F..%2F..%2Fetc%2Fpasswd",
        "report/%2Fetc%2Fpasswd",
        "static/../../../../etc/passwd",
        "assets/..%2F..%2F..%2F..%2Fetc%2Fpasswd",
    ],
)
def test_the_servers_own_files_are_never_served(open_app: Served, path: str):
    with client() as anonymous:
        response = anonymous.get(open_app.url + path)
    assert response.status_code in (400, 403, 404, 405), (path, response.status_code)
    assert b"root:x:0:0" not in response.content and b"[project]" not in response.content


# Routes a visitor may load before signing in: the login page itself and what it needs to draw.
PUBLIC_BEFORE_LOGIN = re.compile(
    r"^/(?:login|logout|favicon\.ico|manifest\.json|robots\.txt|theme\.css|pwa_icon.*|svelte/.*|static/.*|assets/.*|"
    r"gradio_api/(?:startup-events|heartbeat/.*|login.*|upload.*|theme\.css|custom_component/.*|assets/.*)|"
    r"config/?|gradio_api/info|gradio_api/monitoring.*)$"
)


def test_every_api_route_needs_the_login(locked_app: Served):
    """Each route of the running app with no path parameter, fetched without the login cookie, is refused
    or is part of the login page; a route with a parameter is tried with a harmless value."""
    import gradio.routes

    with client() as anonymous:
        paths = _route_paths(gradio.routes.App)
        assert len(paths) > 10
        answered = []
        for path in paths:
            concrete = re.sub(r"\{[^}]+\}", "x", path)
            response = anonymous.get(locked_app.url + concrete.lstrip("/"))
            if response.status_code == 200 and not PUBLIC_BEFORE_LOGIN.match(path):
                if path != "/" or not _is_login_page(response.text):
                    answered.append(path)
            if path.startswith(("/report", "/gradio_api/queue", "/gradio_api/call", "/gradio_api/file")):
                assert response.status_code != 200, path
        assert answered == [], f"answered without the login: {answered}"
        config = anonymous.get(locked_app.url + "config")
        assert config.status_code != 200 or _is_login_page(config.text)


def _is_login_page(html: str) -> bool:
    """Gradio's login page: no components and nothing from the index (it does name the API's endpoints)."""
    return '"components":[]' in html and "Buckinghamshire" not in html and "report-link" not in html


def _route_paths(app_class) -> list[str]:
    """Every GET route path a Gradio app of this version declares (built once, without serving)."""
    import gradio as gr

    with gr.Blocks() as probe:
        gr.Markdown("probe")
    app = app_class.create_app(probe)
    return sorted({route.path for route in app.routes if "GET" in (getattr(route, "methods", None) or set())})


@pytest.mark.browser
def test_html_in_a_question_runs_nothing_and_loads_nothing_in_the_browser(open_app: Served, browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    outside: list[str] = []
    page.on("request", lambda request: outside.append(request.url) if not request.url.startswith(open_app.url) else None)
    page.on("dialog", lambda dialog: (outside.append("dialog:" + dialog.message), dialog.dismiss()))
    try:
        page.goto(open_app.url)
        page.wait_for_selector("#index-status .banner.ready", timeout=30_000)
        box = page.get_by_label("Your question")
        box.fill(
            'What about <img src="http://203.0.113.9/x.png" onerror="window.__pwned=1"> and '
            '<script>window.__pwned=2</script> [click](javascript:window.__pwned=3) in Buckinghamshire?'
        )
        box.press("Enter")
        page.wait_for_selector("#transcript .msg.bot:not(.pending)", timeout=60_000)
        page.locator("#transcript").click()
        page.wait_for_timeout(500)
        assert page.evaluate("window.__pwned") is None
        assert outside == [], outside
        assert page.locator("#transcript img[src*='203.0.113.9']").count() == 0
        assert page.locator("#transcript script").count() == 0
        assert page.locator("#transcript a[href^='javascript:']").count() == 0
    finally:
        context.close()
