"""End to end: the real app over the sample index, driven in headless Chromium (Playwright, system browser).

The app runs in this process on a free loopback port (fixtures in conftest.py, helpers in browsing.py).
Screenshots of the main states go to $TEST_OUTPUT_DIR/ui (default out/ui); with UPDATE_SCREENSHOT=1 the main one
is also copied to docs/screenshot.png for the README.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest
import yaml

from tests.ui.browsing import (
    CHROMIUM,
    PROJECT_ROOT,
    BrokenPipeline,
    ask,
    open_app,
    screenshot,
    start_app,
    wait_for_answers,
    wait_for_page_view,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed (/usr/bin/chromium missing)"),
]


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = context.new_page()
    yield page
    context.close()


def test_ask_streams_a_cited_answer_and_a_citation_opens_its_paragraph(app, page):
    url, _ = app
    open_app(page, url)
    assert page.locator("#examples-row button.example").count() >= 1
    assert "Trafford" in page.locator("#examples-row").inner_text() or page.locator("#example-0").is_visible()
    screenshot(page, "01-empty-state")

    # the answer streams: first a pending message in the transcript, then the cited answer. The pending message can
    # come and go between two polls of wait_for_selector (a fast answer streams in a few blocks), so an observer set
    # before asking records that it was shown
    page.evaluate(
        """() => {
          window.sawPending = false;
          new MutationObserver(() => {
            if (document.querySelector('#transcript .msg.bot.pending')) window.sawPending = true;
          }).observe(document.body, {childList: true, subtree: true, attributes: true});
        }"""
    )
    ask(page, "What did inspectors say about care leavers in Trafford?")
    page.wait_for_function("() => window.sawPending === true", timeout=10_000)
    wait_for_answers(page, 1)
    cites = page.locator("#transcript button.cite")
    assert cites.count() >= 1
    assert "Searched" in page.locator("#transcript .searched").inner_text()
    assert "Trafford" in page.locator("#transcript .searched").inner_text()
    assert page.locator("#question textarea, #question input").first.input_value() == ""

    first = cites.first
    marker = first.get_attribute("data-marker")
    first.focus()
    page.keyboard.press("Enter")  # keyboard works: a marker is a real button
    card = page.locator("#sources .source-card")
    card.wait_for(timeout=10_000)
    assert card.get_attribute("data-marker") == marker
    text = card.inner_text()
    assert f"Source [{marker}]" in text
    assert "Trafford" in text
    assert "page" in text
    assert page.locator("#sources mark.support").count() >= 1
    assert page.evaluate("document.activeElement.classList.contains('source-card')")
    href = page.locator("#sources a.report-link").get_attribute("href")
    assert href
    if href.startswith("report/"):  # a local copy, served by the app by report id
        response = page.request.get(url + href.split("#", 1)[0])
        assert response.ok
        assert response.headers["content-type"] == "application/pdf"
        assert response.body()[:4] == b"%PDF"
    else:
        assert href.startswith("https://files.ofsted.gov.uk/") and href.endswith(f"#page={card.get_attribute('data-page')}")
    # the page view: the cited page as printed, the paragraph's lines highlighted, served by the app
    image = page.locator("#sources .page-view img")
    wait_for_page_view(page, marker)
    assert page.evaluate("document.querySelector('#sources .page-view img').naturalWidth") == 893
    assert "the cited paragraph highlighted" in (image.get_attribute("alt") or "")
    src = image.get_attribute("src") or ""
    assert src.startswith("report/") and "/page/" in src and "?paragraph=" in src
    assert page.request.get(url + src).headers["content-type"] == "image/png"
    screenshot(page, "02-answer-with-source")

    # a click on another citation of the same answer replaces the paragraph and its page; this one (a finding in
    # the report's own words rather than a judgement table row) is the README's screenshot
    other = page.locator(f"#transcript button.cite:not([data-marker='{marker}'])").first
    other_marker = other.get_attribute("data-marker")
    other.click()
    wait_for_page_view(page, other_marker)
    shot = screenshot(page, "02-answer-with-page-view")
    if os.environ.get("UPDATE_SCREENSHOT") == "1":
        shutil.copyfile(shot, PROJECT_ROOT / "docs" / "screenshot.png")


def test_a_text_report_shows_the_cited_paragraph_between_its_neighbours(app, page):
    """The 2018 SIF report was ingested as plain text: no page to show, so the paragraph is read in its context."""
    url, _ = app
    open_app(page, url)
    ask(page, "What did the 2018 SIF inspection of Buckinghamshire say about care leavers?")
    wait_for_answers(page, 1)
    page.locator("#transcript button.cite").first.click()
    card = page.locator("#sources .source-card")
    card.wait_for(timeout=10_000)
    assert "SIF inspection" in card.inner_text()
    context = page.locator("#sources .in-context")
    assert context.count() == 1 and page.locator("#sources .page-view").count() == 0
    assert context.locator("p.around").count() >= 1
    assert context.locator("blockquote.cited mark.support").count() >= 1
    screenshot(page, "02-text-source-in-context")


def test_a_grade_question_is_answered_in_a_few_words_before_the_evidence(app, page, sample_index):
    """The first line of the answer is the grade itself, then the cited judgement; the export opens the same way."""
    report = sample_index.report("buckinghamshire-ilacs-2025-05-14")
    grade = next(j.grade for j in report.metadata.judgements if j.area == "overall_effectiveness")
    direct = f"{grade[:1].upper()}{grade[1:]}."
    url, _ = app
    open_app(page, url)
    ask(page, "What was Buckinghamshire's overall effectiveness grade?")
    wait_for_answers(page, 1)
    body = page.locator("#transcript .msg.bot .answer-body").last
    lines = [line.strip() for line in body.inner_text().splitlines() if line.strip()]
    assert lines[0] == direct, lines
    # then the evidence: the cited judgement, stating the same grade
    first_item = body.locator("li").first
    assert first_item.locator("button.cite").count() == 1
    assert grade.lower() in first_item.inner_text().lower()
    exported = page.locator("#transcript textarea.export-md").last.input_value()
    assert exported.splitlines()[2] == direct, exported
    screenshot(page, "02-direct-answer")


def test_authority_filter_restricts_the_search(app, page):
    url, _ = app
    open_app(page, url)
    dropdown = page.locator("#filter-authority input")
    dropdown.click()
    dropdown.fill("Buckingham")
    page.get_by_role("option", name="Buckinghamshire").click()
    page.keyboard.press("Escape")
    ask(page, "What did inspectors say about care leavers?")
    wait_for_answers(page, 1)
    searched = page.locator("#transcript .searched").inner_text()
    assert "Buckinghamshire" in searched
    labels = [c.get_attribute("aria-label") for c in page.locator("#transcript button.cite").all()]
    assert labels, "the filtered answer should cite something"
    assert all(label.split(": ", 1)[1].startswith("Buckinghamshire") for label in labels), labels
    screenshot(page, "03-authority-filter")


def test_region_filter_searches_the_regions_authorities(app, page):
    """A region adds its indexed authorities to the search (here London: Camden and Islington); the dropdown lists
    England's nine regions from the authority lookup, each with how many of its authorities have reports here."""
    url, _ = app
    open_app(page, url)
    dropdown = page.locator("#filter-region input")
    dropdown.click()
    options = page.get_by_role("option")
    assert options.count() == 9
    assert "North East (0 authorities)" in options.all_inner_texts()
    page.get_by_role("option", name="London (2 authorities)").click()
    page.keyboard.press("Escape")
    ask(page, "What did inspectors say about care leavers?")
    wait_for_answers(page, 1)
    searched = page.locator("#transcript .searched").inner_text()
    assert "Camden, Islington" in searched, searched
    labels = [c.get_attribute("aria-label") for c in page.locator("#transcript button.cite").all()]
    assert labels, "the filtered answer should cite something"
    assert all(label.split(": ", 1)[1].startswith(("Camden", "Islington")) for label in labels), labels
    screenshot(page, "03-region-filter")


def test_two_browser_sessions_keep_separate_conversations(app, browser):
    url, _ = app
    first = browser.new_context().new_page()
    second = browser.new_context().new_page()
    try:
        open_app(first, url)
        open_app(second, url)
        ask(first, "What did inspectors say about care leavers in Trafford?")
        ask(second, "How well does Camden respond when children first need help?")  # both in flight at once
        wait_for_answers(first, 1)
        wait_for_answers(second, 1)
        one = first.locator("#transcript").inner_text()
        two = second.locator("#transcript").inner_text()
        assert "Trafford?" in one and "Camden" not in one.split("ANSWER")[0]
        assert "Camden" in two and "care leavers in Trafford" not in two
        # a follow-up in one session does not appear in the other
        ask(first, "And what about their front door?")
        wait_for_answers(first, 2)
        second.reload()
        second.wait_for_selector("#index-status .banner.ready")
        assert "front door" not in second.locator("#transcript").inner_text()
        assert first.locator("#transcript .exchange").count() == 2
    finally:
        first.context.close()
        second.context.close()


def test_export_copies_and_downloads_markdown_with_footnotes(app, page):
    url, _ = app
    open_app(page, url)
    ask(page, "What did inspectors say about care leavers in Trafford?")
    wait_for_answers(page, 1)
    # the label reads "Copied" for 2 s: under load a poll can miss it, so record every label it takes from before the click
    page.evaluate(
        """() => { window.copyLabels = []; new MutationObserver(() => document.querySelectorAll("#transcript button[data-action='copy']")
        .forEach(b => window.copyLabels.push(b.textContent))).observe(document.body, {subtree: true, childList: true, characterData: true}); }"""
    )
    page.get_by_role("button", name="Copy as Markdown").click()
    page.wait_for_function("window.copyLabels.includes('Copied')")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith("**Question:** What did inspectors say about care leavers in Trafford?")
    assert "[^1]" in copied and "\n[^1]: Ofsted, Trafford, " in copied
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download .md").click()
    download = download_info.value
    assert download.suggested_filename == "ofsted-answer-1.md"
    assert Path(download.path()).read_text(encoding="utf-8") == copied
    # the whole conversation, beside the per-answer export: each answer under its heading, footnotes kept apart
    ask(page, "What did the 2022 focused visit to Calderdale say about care leavers?")
    wait_for_answers(page, 2)
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download the whole conversation (.md) (2 answers, as Markdown)").click()
    whole = download_info.value
    assert whole.suggested_filename == "ofsted-conversation.md"
    text = Path(whole.path()).read_text(encoding="utf-8")
    assert "## 1. What did inspectors say about care leavers in Trafford?" in text
    assert "## 2. What did the 2022 focused visit to Calderdale say about care leavers?" in text
    assert "\n[^1-1]: Ofsted, Trafford, " in text and "\n[^2-1]: Ofsted, Calderdale, " in text


def test_feedback_is_saved_and_becomes_an_eval_case(app, page):
    from eval.dataset import parse_case
    from ui.feedback import feedback_to_eval_cases

    url, feedback_file = app
    open_app(page, url)
    ask(page, "What did inspectors say about care leavers in Trafford?")
    wait_for_answers(page, 1)
    page.get_by_role("button", name="Helpful", exact=True).click()
    page.wait_for_selector("#feedback-box", state="visible")
    assert page.get_by_role("button", name="Helpful", exact=True).get_attribute("aria-pressed") == "true"
    page.locator("#feedback-comment textarea").fill("Clear and well sourced.")
    page.locator("#feedback-send").click()
    page.wait_for_selector("#feedback-status :text('comment on answer 1 was saved')")
    records = [json.loads(line) for line in feedback_file.read_text(encoding="utf-8").splitlines()]
    assert records[-1]["rating"] == "up"
    assert records[-1]["comment"] == "Clear and well sourced."
    assert records[-1]["question"] == "What did inspectors say about care leavers in Trafford?"
    assert records[-1]["citations"] and records[-1]["settings"]["answerer"]
    cases = feedback_to_eval_cases(feedback_file)
    assert len(cases) == 1
    case = parse_case(yaml.safe_load(yaml.safe_dump(cases[0])), source=feedback_file, position=1)
    assert case.answerable and case.evidence


NEWEST_IN_VIEW = """() => {
  const items = document.querySelectorAll('#transcript .exchange');
  const last = items[items.length - 1].getBoundingClientRect();
  const box = document.querySelector('#transcript .transcript').getBoundingClientRect();
  const inBox = last.bottom <= box.bottom + 2 && last.bottom >= box.top;
  return inBox && last.bottom <= window.innerHeight + 2 && last.bottom > 0;
}"""


@pytest.mark.parametrize("viewport", [{"width": 1280, "height": 900}, {"width": 390, "height": 844}], ids=["desktop", "phone"])
def test_the_newest_answer_scrolls_into_view(app, browser, viewport):
    """Issue 22: after a third question the answer sat 770 px below the visible area; now its end is on screen, a
    screen reader hears it arrived, and focus is back in the question box. The third question is asked by clicking
    Ask, so focus has to come back."""
    url, _ = app
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    try:
        open_app(page, url)
        questions = [
            "What did inspectors say about care leavers in Trafford?",
            "How well does Buckinghamshire respond when children first need help?",
            "What did the 2022 focused visit to Calderdale say about care leavers?",
        ]
        for number, question in enumerate(questions, start=1):
            if number < 3:
                ask(page, question)
            else:
                page.get_by_label("Your question").fill(question)
                page.locator("#ask").click()
            wait_for_answers(page, number)
            page.wait_for_function(NEWEST_IN_VIEW, timeout=5_000)
        assert page.locator("#transcript .exchange").count() == 3
        # a screen reader hears that the answer arrived, and the keyboard is back in the question box
        page.wait_for_function("() => document.getElementById('ofsted-live').textContent === 'Answer 3 is ready.'", timeout=5_000)
        assert page.evaluate("() => document.activeElement.closest('#question') !== null")
        screenshot(page, f"05-newest-in-view-{viewport['width']}")
    finally:
        context.close()


def test_phone_sized_window_has_no_horizontal_scroll(app, browser):
    url, _ = app
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        open_app(page, url)
        ask(page, "What did inspectors say about care leavers in Trafford?")
        wait_for_answers(page, 1)
        page.locator("#transcript button.cite").first.click()
        page.locator("#sources .source-card").wait_for()
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        screenshot(page, "04-phone")
    finally:
        context.close()


def test_empty_index_and_errors_are_explained_without_tracebacks(empty_app, page):
    page.goto(empty_app)
    page.wait_for_selector("#index-status .banner.empty", timeout=30_000)
    assert "No reports are indexed yet" in page.locator("#transcript").inner_text()
    assert not page.locator("#examples-row").is_visible()
    ask(page, "What did inspectors say about care leavers?")
    page.wait_for_selector("#transcript .msg.bot.error", timeout=10_000)
    message = page.locator("#transcript .msg.bot.error").inner_text()
    assert "Sorry, something went wrong" in message
    assert "internal detail" not in page.content() and "Traceback" not in page.content()
    screenshot(page, "05-empty-and-error")
    started = time.perf_counter()
    ask(page, "   ")  # a blank question does nothing
    page.wait_for_timeout(300)
    assert page.locator("#transcript .exchange").count() == 1
    assert time.perf_counter() - started < 5


def test_login_is_required_when_a_username_and_password_are_set(embedder, tmp_path, page):
    from chatbot.build import build_index
    from core.settings import Settings

    settings = Settings(
        index_dir=tmp_path / "index", feedback_file=tmp_path / "f.jsonl", username="scrutiny", password="s3cret"
    )
    index = build_index(settings, embedder=embedder)
    demo, url = start_app(BrokenPipeline(), index, settings)
    try:
        page.goto(url)
        page.get_by_label("username").fill("scrutiny")
        page.get_by_label("password").fill("wrong")
        page.get_by_role("button", name="Login").click()
        page.wait_for_selector("text=Incorrect", timeout=10_000)
        assert page.locator("#index-status").count() == 0
        page.get_by_label("username").fill("scrutiny")
        page.get_by_label("password").fill("s3cret")
        page.get_by_role("button", name="Login").click()
        page.wait_for_selector("#index-status .banner", timeout=30_000)
    finally:
        demo.close()
