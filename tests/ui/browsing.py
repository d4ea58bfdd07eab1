"""Driving the real app in headless Chromium (Playwright with the system browser): shared by the browser tests.

The app runs in the test process on a free loopback port. Screenshots go to $TEST_OUTPUT_DIR/ui (default out/ui).
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PROJECT_ROOT = Path(__file__).resolve().parents[2]
OUTPUT_DIR = Path(os.environ.get("TEST_OUTPUT_DIR") or PROJECT_ROOT / "out") / "ui"
ANSWER_TIMEOUT_MS = 60_000


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_app(pipeline, index, settings) -> tuple[object, str]:
    from ui.app import build_app, serve

    demo = build_app(pipeline, index, settings)
    port = free_port()
    serve(demo, index, settings, port=port, prevent_thread_lock=True, quiet=True)
    return demo, f"http://127.0.0.1:{port}/"


class BrokenPipeline:
    """A pipeline whose answerer fails unexpectedly (an injected collaborator, not a patch)."""

    def stream(self, question, history=(), filters=None):
        raise RuntimeError("internal detail that must not reach the page")
        yield  # pragma: no cover


def screenshot(page, name: str) -> Path:
    OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
    path = OUTPUT_DIR / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def open_app(page, url: str) -> None:
    page.goto(url)
    page.wait_for_selector("#index-status .banner.ready", timeout=30_000)


def ask(page, question: str) -> None:
    box = page.get_by_label("Your question")
    box.fill(question)
    box.press("Enter")


def wait_for_answers(page, count: int) -> None:
    page.wait_for_function(
        "n => document.querySelectorAll('#transcript .msg.bot:not(.pending)').length >= n",
        arg=count,
        timeout=ANSWER_TIMEOUT_MS,
    )


def wait_for_page_view(page, marker: str) -> None:
    """Until the sources panel shows citation [marker] and its page image has loaded."""
    page.wait_for_function(
        """marker => {
          const card = document.querySelector(`#sources .source-card[data-marker="${marker}"]`);
          const image = card && card.querySelector('.page-view img');
          return !!image && image.complete && image.naturalWidth > 0;
        }""",
        arg=marker,
        timeout=15_000,
    )
