"""Accessibility, checked automatically on the real app in headless Chromium.

- axe-core (Deque's rules engine, the npm package `axe-core`, installed at setup by `make axe` into .cache/axe;
  nothing is fetched when the tests run) is injected into each main state of the page: empty, after an answer, a
  citation open with its page view, a filter's list open, a refusal, and an error (over an empty index), at
  desktop (1280x800) and phone (390x844) sizes. No serious or critical violation is allowed. Each state's
  screenshot and full axe result (minor and moderate findings too) are saved under $TEST_OUTPUT_DIR/ui.
- Keyboard only: asking a question, opening a citation, setting a filter and exporting the conversation with
  Tab, Shift+Tab, typing, the arrow keys and Enter; the mouse is never used.

Without axe-core the axe tests fail in CI (the CI environment variable is set, as .ci/run sets it) and skip, saying
why, elsewhere.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.ui.browsing import (
    CHROMIUM,
    OUTPUT_DIR,
    PROJECT_ROOT,
    ask,
    open_app,
    screenshot,
    wait_for_answers,
    wait_for_page_view,
)

AXE_JS = PROJECT_ROOT / ".cache" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = ("serious", "critical")
VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
REFUSED_QUESTION = "What is the capital of France?"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed (/usr/bin/chromium missing)"),
]


@pytest.fixture(scope="module")
def axe_js() -> Path:
    if AXE_JS.exists():
        return AXE_JS
    reason = f"axe-core is not installed at {AXE_JS.relative_to(PROJECT_ROOT)}: run `make axe` (npm install at setup)"
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason + "; not in CI, so the accessibility check is skipped")


def audit(page, axe_js: Path, state: str) -> list[dict]:
    """Run axe-core on the page as it is; save its findings and a screenshot; return the serious and critical ones."""
    # a list that is still fading in has faded text: wait for the transitions to end (spinners loop for ever)
    page.wait_for_function(
        "() => document.getAnimations().every(a => a.playState !== 'running'"
        " || a.effect.getComputedTiming().iterations === Infinity)",
        timeout=5_000,
    )
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(axe_js))
    result = page.evaluate(
        """async () => {
          const found = await axe.run(document, {resultTypes: ['violations']});
          return found.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.map(n => ({target: n.target.join(' '), summary: n.failureSummary}))}));
        }"""
    )
    OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
    (OUTPUT_DIR / f"axe-{state}.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    screenshot(page, f"axe-{state}")
    return [v for v in result if v["impact"] in BLOCKING]


def explain(violations: list[dict]) -> str:
    return "\n".join(
        f"{v['impact']} {v['id']}: {v['help']}\n" + "\n".join(f"    {n['target']}: {n['summary']}" for n in v["nodes"][:5])
        for v in violations
    )


@pytest.mark.parametrize("size", list(VIEWPORTS))
def test_no_serious_violations_in_the_main_states(app, browser, axe_js, size):
    url, _ = app
    context = browser.new_context(viewport=VIEWPORTS[size])
    page = context.new_page()
    found: dict[str, list[dict]] = {}
    try:
        open_app(page, url)
        found["empty"] = audit(page, axe_js, f"{size}-1-empty")

        ask(page, "What did inspectors say about care leavers in Trafford?")
        wait_for_answers(page, 1)
        found["answer"] = audit(page, axe_js, f"{size}-2-answer")

        first = page.locator("#transcript button.cite").first
        first.click()
        wait_for_page_view(page, first.get_attribute("data-marker") or "")
        found["citation with its page"] = audit(page, axe_js, f"{size}-3-citation")

        page.locator("#filter-region input").click()
        page.get_by_role("option").first.wait_for()
        found["a filter's list open"] = audit(page, axe_js, f"{size}-4-filters")
        page.keyboard.press("Escape")

        ask(page, REFUSED_QUESTION)
        wait_for_answers(page, 2)
        assert page.locator("#transcript .msg.bot.refused").count() == 1
        found["refusal"] = audit(page, axe_js, f"{size}-5-refusal")
    finally:
        context.close()
    blocking = {state: v for state, v in found.items() if v}
    assert not blocking, "\n".join(f"[{size}, {state}]\n{explain(v)}" for state, v in blocking.items())


@pytest.mark.parametrize("size", list(VIEWPORTS))
def test_no_serious_violations_when_nothing_is_indexed_and_an_answer_fails(empty_app, browser, axe_js, size):
    context = browser.new_context(viewport=VIEWPORTS[size])
    page = context.new_page()
    try:
        page.goto(empty_app)
        page.wait_for_selector("#index-status .banner.empty", timeout=30_000)
        ask(page, "What did inspectors say about care leavers?")
        page.wait_for_selector("#transcript .msg.bot.error", timeout=10_000)
        violations = audit(page, axe_js, f"{size}-6-error")
    finally:
        context.close()
    assert not violations, explain(violations)


# ---- keyboard only --------------------------------------------------------------------------------------------


def press_until(page, key: str, focused: str, limit: int = 80) -> int:
    """Press `key` until the focused element matches the CSS selector `focused`; how many presses it took."""
    for presses in range(1, limit + 1):
        page.keyboard.press(key)
        if page.evaluate("sel => !!document.activeElement && document.activeElement.matches(sel)", focused):
            return presses
    raise AssertionError(f"{key} x{limit} never reached {focused}")


def test_keyboard_only_ask_open_a_citation_filter_and_export(app, browser):
    url, _ = app
    context = browser.new_context(viewport=VIEWPORTS["desktop"], accept_downloads=True)
    page = context.new_page()
    try:
        open_app(page, url)
        # the question box has the focus when the page opens
        page.wait_for_function("() => document.activeElement && document.activeElement.closest('#question')")
        page.keyboard.type("What did inspectors say about care leavers in Trafford?")
        page.keyboard.press("Enter")
        wait_for_answers(page, 1)
        page.wait_for_function("() => document.activeElement && document.activeElement.closest('#question')")

        # back into the answer to its last citation, and open it: the paragraph and its page take the focus
        press_until(page, "Shift+Tab", "#transcript button.cite")
        marker = page.evaluate("document.activeElement.dataset.marker")
        page.keyboard.press("Enter")
        page.wait_for_selector(f"#sources .source-card[data-marker='{marker}']", timeout=10_000)
        page.wait_for_function("() => document.activeElement && document.activeElement.classList.contains('source-card')")
        assert page.locator("#sources .page-view img").count() == 1

        # on to the authority filter: type, pick with the arrow keys and Enter
        press_until(page, "Tab", "#filter-authority input")
        page.keyboard.type("Camd")
        page.keyboard.press("ArrowDown")
        page.keyboard.press("Enter")
        page.keyboard.press("Escape")
        assert "Camden" in page.locator("#filter-authority").inner_text()

        # back to the question box, and ask under the filter
        press_until(page, "Shift+Tab", "#question textarea, #question input")
        page.keyboard.type("What did inspectors say about care leavers?")
        page.keyboard.press("Enter")
        wait_for_answers(page, 2)
        assert "Camden" in page.locator("#transcript .exchange").last.locator(".searched").inner_text()

        # and export the whole conversation
        press_until(page, "Shift+Tab", "#transcript button[data-action='download-all']")
        with page.expect_download() as download_info:
            page.keyboard.press("Enter")
        text = Path(download_info.value.path()).read_text(encoding="utf-8")
        assert "## 1. What did inspectors say about care leavers in Trafford?" in text
        assert "## 2. What did inspectors say about care leavers?" in text
        screenshot(page, "06-keyboard-only")
    finally:
        context.close()
