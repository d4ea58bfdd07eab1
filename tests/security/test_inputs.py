"""Hostile inputs (issue 21, items 6, 7, 10 and 11): each is refused with a clear message or made harmless.

The CLI is driven through `cli.main.main`, the feedback file through the UI's own save path and the CLI's
conversion, and the export through the functions the page's copy and download buttons use.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from cli.main import main
from core.errors import BadQuestionError
from core.models import Answer, Citation, Filters
from eval.dataset import load_file
from ui.conversation import Conversation, Exchange
from ui.export import answer_to_markdown, conversation_to_markdown
from ui.feedback import FeedbackStore, feedback_record
from ui.render import render_transcript

TRACEBACK = "Traceback"
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_one_line_error(code: int, err: str, *fragments: str) -> None:
    assert code == 2, err
    assert TRACEBACK not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), err
    for fragment in fragments:
        assert fragment in lines[0], err


# ---- item 6: `ask --history FILE` ----------------------------------------------------------------------------

TURN = {"user": "What about care leavers?", "assistant": "They are well supported [1]."}


@pytest.mark.parametrize(
    ("content", "fragments"),
    [
        ([{"user": None, "assistant": "x"}], ("turn 1", "'user'", "null")),
        ([TURN, {"user": ["a", "list"], "assistant": ""}], ("turn 2", "'user'", "list")),
        ([{"user": "   ", "assistant": ""}], ("turn 1", "'user'", "empty")),
        (["just a string"], ("turn 1", "object", "string")),
        ([TURN, 7], ("turn 2", "object", "number")),
        ([{"user": "hello", "assistant": 3}], ("turn 1", "'assistant'", "number")),
        ([{"user": "hello", "assistant": None}], ("turn 1", "'assistant'", "null")),
        ([{"user": "hello", "extra": "x"}], ("turn 1", "'extra'")),
        ({"user": "hello", "assistant": "hi"}, ("list", "object")),
        ("a string", ("list", "string")),
        ([TURN] * 1000, ("1000 turns", "at most 50")),
        ([{"user": "x" * 2_000_000}], ("bytes", "at most 200,000")),
        ([{**TURN, "state": "Trafford"}], ("turn 1", "state", "object")),
        ([TURN, {**TURN, "state": {"published_from": "last May"}}], ("turn 2", "state.published_from", "YYYY-MM-DD")),
        ([{**TURN, "state": {"shown": [{"report_type": "<script>"}]}}], ("turn 1", "state.shown[0].report_type", "not a report type")),
    ],
    ids=[
        "null-user", "list-user", "blank-user", "turn-is-a-string", "turn-is-a-number", "assistant-is-a-number",
        "assistant-is-null", "unknown-field", "top-level-object", "top-level-string", "too-many-turns", "too-large",
        "state-not-an-object", "state-bad-date", "state-bad-report-type",
    ],
)
def test_bad_history_is_a_one_line_error(capsys, tmp_path: Path, content: Any, fragments: tuple[str, ...]) -> None:
    history = tmp_path / "history.json"
    history.write_text(json.dumps(content), encoding="utf-8")
    code, _, err = run(capsys, "--index-dir", str(tmp_path / "index"), "ask", "And in Camden?", "--history", str(history))
    assert_one_line_error(code, err, "--history", *fragments)


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [(b"[{\"user\": ", "not valid JSON"), (b"\xff\xfe[]", "UTF-8"), (None, "cannot read")],
    ids=["truncated-json", "not-utf8", "missing-file"],
)
def test_unreadable_history_is_a_one_line_error(capsys, tmp_path: Path, raw: bytes | None, fragment: str) -> None:
    history = tmp_path / "history.json"
    if raw is not None:
        history.write_bytes(raw)
    code, _, err = run(capsys, "--index-dir", str(tmp_path / "index"), "ask", "And in Camden?", "--history", str(history))
    assert_one_line_error(code, err, "--history", fragment)


# ---- item 11: dates --------------------------------------------------------------------------------------------


def test_from_later_than_to_is_a_one_line_error(capsys, tmp_path: Path) -> None:
    argv = ["--index-dir", str(tmp_path / "index"), "ask", "care leavers", "--from", "2024-01-01", "--to", "2023-01-01"]
    code, _, err = run(capsys, *argv)
    assert_one_line_error(code, err, "--from", "2024-01-01", "after", "2023-01-01")


@pytest.mark.parametrize("flag", ["--from", "--to"])
def test_a_badly_written_date_names_the_format(capsys, tmp_path: Path, flag: str) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--index-dir", str(tmp_path / "index"), "ask", "care leavers", flag, "31/01/2023"])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2
    assert f"argument {flag}: " in err and "YYYY-MM-DD" in err and "'31/01/2023'" in err
    assert TRACEBACK not in err


def test_an_unknown_report_type_is_refused_with_the_choices(capsys, tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--index-dir", str(tmp_path / "index"), "ask", "care leavers", "--report-type", "focused visit"])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2
    assert "argument --report-type: invalid choice: 'focused visit'" in err and "focused_visit" in err
    assert TRACEBACK not in err


def test_filters_refuse_a_date_range_that_is_back_to_front() -> None:
    with pytest.raises(BadQuestionError, match=r"2024-01-01 is after .*2023-01-01"):
        Filters(published_from=date(2024, 1, 1), published_to=date(2023, 1, 1))
    same_day = Filters(published_from=date(2023, 1, 1), published_to=date(2023, 1, 1))
    assert same_day.published_from == same_day.published_to


# ---- item 7: feedback comments ---------------------------------------------------------------------------------

CITATION = Citation(
    marker="1",
    paragraph_id="trafford:1",
    report_id="trafford",
    local_authority="Trafford",
    report_type="ilacs_inspection",
    published="2019-05-08",
    page=7,
    paragraph_number=28,
    heading="Care leavers",
    text="The council is in touch with the vast majority of its care leavers.",
    source="/srv/ofsted/reports/trafford.pdf",
    supporting_sentence="The council is in touch with the vast majority of its care leavers.",
)
ANSWERED = Answer(answer="- In touch with the vast majority of care leavers [1].", refused=False, citations=(CITATION,))
DIRTY = "Good\x00 answer\x1b[31m, but\r\nsee\tpage 7\x07\x7f\x85\u2028end\ud800\u202e"


def save(store: FeedbackStore, feedback_id: str, rating: str, comment: str) -> None:
    """What the UI's comment box does: one record through the save path."""
    store.write(
        feedback_record(
            feedback_id=feedback_id,
            rating=rating,
            comment=comment,
            question="What about care leavers in Trafford?",
            history=(),
            filters=Filters(),
            answer=ANSWERED,
            searched="Searched 1 of 1 reports.",
            settings={"answerer": "extractive"},
        )
    )


def test_comments_are_cleaned_when_saved(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "feedback.jsonl")
    save(store, "a" * 32, "up", DIRTY)
    saved = json.loads(store.path.read_text(encoding="utf-8"))["comment"]
    assert saved == "Good answer, but\nsee\tpage 7\n\nend"  # newlines and tabs kept, control codes gone


def test_an_over_long_comment_is_refused_when_saved(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "feedback.jsonl")
    with pytest.raises(ValueError, match="2,000 characters"):
        save(store, "a" * 32, "up", "x" * 1_000_000)
    save(store, "b" * 32, "up", "y" * 2_000)  # the limit itself is fine
    assert not store.path.read_text(encoding="utf-8").count("x" * 100)


@pytest.mark.parametrize("dirty", ["Good\x00 answer\x1b[31m, but", DIRTY], ids=["nul-and-esc", "every-kind"])
def test_old_dirty_feedback_becomes_a_dataset_the_loader_reads(capsys, tmp_path: Path, dirty: str) -> None:
    """A file written before the fix (control characters, a 1 MB comment) still converts into valid YAML."""
    feedback = tmp_path / "feedback.jsonl"
    store = FeedbackStore(feedback)
    save(store, "a" * 32, "up", "")
    save(store, "b" * 32, "up", "")
    lines = [json.loads(line) for line in feedback.read_text(encoding="utf-8").splitlines()]
    lines[0]["comment"] = dirty
    lines[1]["comment"] = "z" * 1_000_000
    feedback.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    out = tmp_path / "cases.yaml"

    code, _, err = run(capsys, "eval-case-from-feedback", str(feedback), "-o", str(out))

    assert code == 0, err
    text = out.read_text(encoding="utf-8")
    assert not CONTROL.search(text.replace("\n", "").replace("\t", ""))
    assert "# feedback: thumbs up - Good answer, but" in text
    assert "z" * 2_000 in text and "z" * 2_001 not in text
    assert "comment cut at 2,000 characters" in text
    cases = load_file(out)
    assert [case.tags for case in cases] == [("feedback", "thumbs-up")] * 2


# ---- item 10: the Markdown export ------------------------------------------------------------------------------

SCRIPT = "<script>alert('x')</script>"
HOSTILE = Citation(
    marker="1",
    paragraph_id="p1",
    report_id="camden",
    local_authority="Camden <b>",
    report_type="ilacs_inspection",
    published="2025-04-15",
    page=3,
    paragraph_number=12,
    heading=f"Camden > Help {SCRIPT}",
    text=f"Leaders act quickly. {SCRIPT}",
    source="/home/inspector/private/reports/camden.pdf",
)
HOSTILE_ANSWER = Answer(answer=f"- Leaders act quickly {SCRIPT} [1]. &amp; <img src=x onerror=alert(1)>", refused=False, citations=(HOSTILE,))
LOCAL_PATHS = ("/home/", "/srv/", "inspector", "file=", "C:\\", "Users")


def assert_safe_markdown(markdown: str) -> None:
    assert "<script" not in markdown.lower() and "<img" not in markdown.lower() and "<b>" not in markdown
    assert "&lt;script&gt;" in markdown
    for path in LOCAL_PATHS:
        assert path not in markdown, path


@pytest.mark.parametrize(
    ("changes", "link"),
    [
        ({}, ". camden.pdf"),
        ({"source": "C:\\Users\\inspector\\camden.pdf"}, ". camden.pdf"),
        ({"url": "https://files.ofsted.gov.uk/v1/file/9"}, ". <https://files.ofsted.gov.uk/v1/file/9>"),
        ({"url": "https://files.ofsted.gov.uk/v1/file/9> <script>"}, ". camden.pdf"),
    ],
    ids=["local-path", "windows-path", "official-url", "url-breaking-out"],
)
def test_export_escapes_html_and_names_no_local_path(changes: dict[str, str], link: str) -> None:
    answer = replace(HOSTILE_ANSWER, citations=(replace(HOSTILE, **changes),))
    markdown = conversation_to_markdown([(f"Camden? {SCRIPT}", answer, None, "Searched 1 of 1 reports.")])
    assert_safe_markdown(markdown)
    footnotes = [line for line in markdown.splitlines() if line.startswith("[^1-1]:")]
    assert len(footnotes) == 1 and footnotes[0].endswith(link), footnotes
    assert "&amp;amp;" in markdown  # an entity in the text stays text


def test_copied_and_downloaded_markdown_is_safe() -> None:
    """The copy and download buttons read the Markdown the transcript carries in hidden textareas."""
    exchange = Exchange(question=f"Camden? {SCRIPT}", answer=HOSTILE_ANSWER)
    failed = Exchange(question=SCRIPT, error=f"Sorry {SCRIPT}")
    page = render_transcript(Conversation(exchanges=[exchange, failed]), "")
    areas = re.findall(r'<textarea class="(export-md|export-conversation-md)"[^>]*>(.*?)</textarea>', page, re.S)
    assert sorted(kind for kind, _ in areas) == ["export-conversation-md", "export-md"]
    for _, escaped in areas:
        assert_safe_markdown(html.unescape(escaped))
    assert_safe_markdown(answer_to_markdown(exchange.question, HOSTILE_ANSWER))
