"""The Gradio chat UI. `build_app` wires collaborators into Blocks; `serve` launches them with settings.

Citations: the transcript is a `gr.HTML` we render ourselves (ui.render). Each [n] marker is a real
<button> carrying data attributes; one delegated click listener (`js_on_load`) calls the component's
`trigger('click', {...})`, and the Python handler fills the sources panel. Copy and download of the
Markdown export run in the browser from a hidden textarea in each answer; feedback goes to the server.

Each browser session's conversation lives in a `gr.State`, which Gradio keeps per session.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from chatbot.authorities import Gazetteer
from core.errors import BadQuestionError, OfstedQAError, StoreNotReadyError
from core.models import REPORT_TYPE_LABELS, REPORT_TYPES, Answer
from core.offline import enforce_offline
from core.settings import Settings
from core.text import counted
from ui.conversation import Conversation, Exchange, parse_filters
from ui.feedback import FEEDBACK_COMMENT_MAX_CHARS, FeedbackStore, clean_comment, feedback_record
from ui.indexing import IndexBuild
from ui.pages import PageCache
from ui.regions import region_choices, region_members
from ui.render import SOURCES_PLACEHOLDER, claim_for, render_source, render_transcript
from ui.serving import ServingGuard, page_route, report_bases, report_route, source_view
from ui.throttle import LoginThrottle
from vectorstore.index import Index

enforce_offline()  # before gradio is imported: it reads these at import time

import gradio as gr  # noqa: E402
from starlette.middleware import Middleware  # noqa: E402

log = logging.getLogger(__name__)

TITLE = "Ofsted children's services Q&A"
CSS_PATH = Path(__file__).with_name("styles.css")
EXAMPLE_COUNT = 3

TRANSCRIPT_JS = """
const say = (text) => {
  const live = document.getElementById('ofsted-live');
  if (live) { live.textContent = ''; setTimeout(() => { live.textContent = text; }, 50); }
};
const copyText = async (text) => {
  try { await navigator.clipboard.writeText(text); return true; } catch (error) { /* fall back below */ }
  const area = document.createElement('textarea');
  area.value = text; area.setAttribute('readonly', ''); area.style.position = 'fixed'; area.style.opacity = '0';
  document.body.appendChild(area); area.select();
  let ok = false;
  try { ok = document.execCommand('copy'); } catch (error) { ok = false; }
  area.remove();
  return ok;
};
// Keep the newest answer in view as it streams: the transcript box scrolls to its end, and the page scrolls so
// the answer's last lines are on screen (on a phone the box does not scroll, the page does). Only when the
// newest exchange changed, so reading an older answer is not interrupted by a citation opening.
let shown = '';
let announced = 0;
watch('value', () => {
  const items = element.querySelectorAll('.exchange');
  const last = items[items.length - 1];
  if (!last) return;
  const state = `${items.length}:${last.textContent.length}`;
  if (state === shown) return;
  shown = state;
  const box = element.querySelector('.transcript');
  if (box && box.scrollHeight > box.clientHeight) box.scrollTop = box.scrollHeight;
  const bottom = last.getBoundingClientRect().bottom;
  if (bottom > window.innerHeight || bottom < 0) last.scrollIntoView({block: 'end'});
  // once an answer is complete: a screen reader hears that it arrived, and the keyboard is back in the question box
  const done = last.querySelector('.msg.bot:not(.pending)');
  if (done && announced < items.length) {
    announced = items.length;
    say(done.classList.contains('error') ? 'The answer failed: see the message in the conversation.'
      : done.classList.contains('refused') ? `Answer ${items.length}: the reports do not answer this.`
      : `Answer ${items.length} is ready.`);
    const input = document.querySelector('#question textarea, #question input');
    if (input && document.activeElement !== input && !document.activeElement.closest('#sources')) input.focus({preventScroll: true});
  }
});
element.addEventListener('click', async (event) => {
  const button = event.target.closest('button[data-action]');
  if (!button || !element.contains(button)) return;
  event.preventDefault();
  const action = button.dataset.action;
  const turn = Number(button.dataset.turn || 0);
  if (action === 'download-all') {
    const source = element.querySelector('textarea.export-conversation-md');
    const link = document.createElement('a');
    link.href = URL.createObjectURL(new Blob([source ? source.value : ''], {type: 'text/markdown'}));
    link.download = 'ofsted-conversation.md';
    document.body.appendChild(link); link.click(); link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 5000);
    say('Conversation downloaded as Markdown');
    return;
  }
  if (action === 'copy' || action === 'download') {
    const source = button.closest('.exchange').querySelector('textarea.export-md');
    const markdown = source ? source.value : '';
    if (action === 'copy') {
      const ok = await copyText(markdown);
      const label = button.textContent;
      button.textContent = ok ? 'Copied' : 'Copy failed';
      say(ok ? 'Answer copied as Markdown' : 'Copying failed: use Download .md instead');
      setTimeout(() => { button.textContent = label; }, 2000);
    } else {
      const link = document.createElement('a');
      link.href = URL.createObjectURL(new Blob([markdown], {type: 'text/markdown'}));
      link.download = `ofsted-answer-${turn + 1}.md`;
      document.body.appendChild(link); link.click(); link.remove();
      setTimeout(() => URL.revokeObjectURL(link.href), 5000);
      say('Answer downloaded as Markdown');
    }
    return;
  }
  trigger('click', {
    action: action, turn: turn,
    marker: button.dataset.marker || '', occurrence: Number(button.dataset.occurrence || 0),
  });
});
"""

# Move keyboard and screen-reader focus to the paragraph when a citation opens it.
SOURCES_JS = """
watch('value', () => {
  const card = element.querySelector('.source-card');
  if (card) card.focus();
});
"""

LOGIN_MESSAGE = (
    "Sign in to ask questions about Ofsted inspection reports. After several wrong passwords, sign-in from "
    "your address slows down and then pauses for a while."
)
# Gradio's cap on uploaded files: a second line behind ServingGuard, which refuses uploads outright
MAX_UPLOAD_BYTES = 1024 * 1024

FRIENDLY_ERROR = (
    "Sorry, something went wrong while answering that question. Please try again, or rephrase it. "
    "If it keeps happening, tell the team that runs this service (reference: {reference})."
)


def _report_type_choices(index: Index) -> list[tuple[str, str]]:
    present = {r.metadata.report_type for r in index.reports()}
    return [(REPORT_TYPE_LABELS.get(t, t), t) for t in REPORT_TYPES if t in present]


def example_questions(index: Index) -> list[str]:
    """Starter questions naming authorities that are actually indexed."""
    counts: dict[str, int] = {}
    for report in index.reports():
        if report.metadata.local_authority:
            counts[report.metadata.local_authority] = counts.get(report.metadata.local_authority, 0) + 1
    ranked = sorted(counts, key=lambda a: (-counts[a], a))
    first = ranked[0] if ranked else None
    second = ranked[1] if len(ranked) > 1 else first
    examples = []
    if first:
        examples.append(f"What did inspectors say about care leavers in {first}?")
    if second:
        examples.append(f"How well does {second} respond when children first need help?")
    examples.append("What do inspectors criticise about return home interviews?")
    return examples[:EXAMPLE_COUNT]


def index_status(index: Index, build: IndexBuild | None) -> tuple[str, str, bool]:
    """(css class, banner text, ready?) for the index status banner."""
    if build is not None and build.building:
        return "building", build.message(), False
    if build is not None and build.state == "failed" and not index.reports():
        return "failed", build.message() + " Check the server log.", False
    reports = index.reports()
    if not reports:
        return (
            "empty",
            "No reports are indexed yet, so there is nothing to search. Ingest reports with "
            "`ofsted-qa ingest DIR`, or restart the app to build the index from the sample corpus.",
            False,
        )
    # from the reports held in memory: this runs at every question, and Index.stats() also counts the catalog's
    # rows, Chroma's vectors and the flagged paragraphs (60 ms a question on the full corpus)
    dates = [r.metadata.published for r in reports if r.metadata.published]
    years = ""
    if dates:
        first, last = str(min(dates).year), str(max(dates).year)
        years = f", published {first}" if first == last else f", published {first}–{last}"
    authorities = len(index.authorities())
    verb = "is" if len(reports) == 1 else "are"
    return "ready", f"{counted(len(reports), 'report')} from {counted(authorities, 'local authority')}{years} {verb} indexed.", True


def _empty_transcript(kind: str, text: str) -> str:
    from html import escape

    if kind == "ready":
        return (
            "<h2>Ask about Ofsted inspections of children's services</h2>"
            "<p>Ask a question in plain English. Every statement in an answer is quoted from an inspection "
            "report: select its number to read the paragraph it comes from, with a link to the report.</p>"
            "<p>Use the filters to narrow the search to authorities, report types or dates, or try an example "
            "question below.</p>"
        )
    if kind == "building":
        return f"<h2>Getting ready</h2><p>{escape(text)}</p><p>You can ask questions as soon as it finishes.</p>"
    return f"<h2>Nothing to search yet</h2><p>{escape(text)}</p>"


def build_app(
    pipeline: Any,
    index: Index,
    settings: Settings,
    *,
    build: IndexBuild | None = None,
    feedback: FeedbackStore | None = None,
    gazetteer: Gazetteer | None = None,
) -> gr.Blocks:
    """The chat UI over a pipeline (`ask`/`stream`) and its index. Launch it with `serve`.

    `gazetteer` names England's regions and their authorities for the region filter (the authority lookup)."""
    feedback = feedback or FeedbackStore(settings.feedback_file)
    gazetteer = gazetteer or Gazetteer()
    bases = report_bases()
    settings_snapshot = {
        "answerer": settings.answerer,
        "llm_model": settings.llm_model if settings.answerer == "llm" else None,
        "top_k": settings.top_k,
        "chunk_tokens": settings.chunk_tokens,
        "collection": settings.collection,
        "embedding_model": getattr(index.embedder, "name", None),
    }

    def respond(
        question: str,
        conversation: Conversation | None,
        authorities: list[str] | None,
        report_types: list[str] | None,
        published_from: str | None,
        published_to: str | None,
        regions: list[str] | None,
    ) -> Iterator[tuple[Any, ...]]:
        conversation = conversation if conversation is not None else Conversation()
        question = (question or "").strip()
        if not question:
            yield conversation, gr.skip(), gr.skip()
            return
        exchange = Exchange(question=question)
        conversation.exchanges.append(exchange)
        empty = _empty_transcript(*index_status(index, build)[:2])
        try:
            members = region_members(index.authorities(), gazetteer) if regions else {}
            exchange.filters = parse_filters(authorities, report_types, published_from, published_to, regions, members)
        except ValueError as error:
            exchange.error = str(error)
            yield conversation, render_transcript(conversation, empty), ""
            return
        if build is not None and build.building:
            exchange.error = f"{build.message()} Please ask again when it has finished."
            yield conversation, render_transcript(conversation, empty), ""
            return
        yield conversation, render_transcript(conversation, empty), ""
        history = conversation.history()  # earlier answered turns: this one has no answer yet
        try:
            for item in pipeline.stream(question, history, exchange.filters):
                if isinstance(item, Answer):
                    exchange.answer = item
                else:
                    exchange.partial = item
                yield conversation, render_transcript(conversation, empty), gr.skip()
        except BadQuestionError as error:
            exchange.error = _sentence(str(error))
        except StoreNotReadyError:
            exchange.error = (
                "No reports are indexed yet, so there is nothing to search. Ask again once reports are ingested."
            )
        except OfstedQAError as error:
            log.warning("question failed: %s", error)
            exchange.error = f"Sorry, I couldn't answer that: {_sentence(str(error))}"
        except Exception:  # never show a traceback to a user
            reference = exchange.exchange_id[:8]
            log.exception("unexpected error answering a question (reference %s)", reference)
            exchange.error = FRIENDLY_ERROR.format(reference=reference)
        if exchange.answer is None and exchange.error is None:
            exchange.error = FRIENDLY_ERROR.format(reference=exchange.exchange_id[:8])
        yield conversation, render_transcript(conversation, empty), gr.skip()

    def on_transcript_click(conversation: Conversation | None, evt: gr.EventData, request: gr.Request):
        data = getattr(evt, "_data", None) or {}
        action = data.get("action")
        exchange = conversation.get(int(data.get("turn", -1))) if conversation is not None else None
        nothing = (gr.skip(),) * 7
        if exchange is None or exchange.answer is None:
            return nothing
        if action == "cite":
            marker = str(data.get("marker", ""))
            citation = exchange.citation(marker)
            if citation is None:
                return nothing
            claims = [claim_for(exchange.answer.answer, marker, int(data.get("occurrence", 0) or 0))]
            if not claims[0]:
                claims = [citation.supporting_sentence]
            page_image, context = source_view(index, citation, bases)
            source = render_source(citation, claims, page_image=page_image, context=context)
            return (gr.skip(), gr.skip(), source, gr.skip(), gr.skip(), gr.skip(), gr.skip())
        if action in ("up", "down"):
            exchange.feedback = action
            turn = int(data.get("turn", 0))
            _save_feedback(exchange, conversation, "", request)
            empty = _empty_transcript(*index_status(index, build)[:2])
            word = "helpful" if action == "up" else "not helpful"
            return (
                conversation,
                render_transcript(conversation, empty),
                gr.skip(),
                gr.Group(visible=True),
                gr.Textbox(
                    value="",
                    label=f"Optional: tell us more about answer {turn + 1} (you marked it {word})",
                ),
                f"Thank you: your rating of answer {turn + 1} was saved.",
                turn,
            )
        return nothing

    def _save_feedback(exchange: Exchange, conversation: Conversation | None, comment: str, request: gr.Request | None):
        assert exchange.answer is not None and exchange.feedback is not None and conversation is not None
        earlier = conversation.exchanges[: conversation.exchanges.index(exchange)]
        history = Conversation(exchanges=earlier).history()
        record = feedback_record(
            feedback_id=exchange.exchange_id,
            rating=exchange.feedback,
            comment=comment,
            question=exchange.question,
            history=history,
            filters=exchange.filters,
            answer=exchange.answer,
            searched=exchange.searched(),
            settings=settings_snapshot,
            session=(request.session_hash or "") if request is not None else "",
            user=getattr(request, "username", None) if request is not None else None,
        )
        try:
            feedback.write(record)
        except OSError:
            log.exception("could not write feedback to %s", feedback.path)
            raise gr.Error("Sorry, your feedback could not be saved. Please try again later.") from None

    def send_comment(conversation: Conversation | None, turn: int | None, comment: str, request: gr.Request):
        exchange = conversation.get(int(turn)) if conversation is not None and turn is not None else None
        if exchange is None or exchange.feedback is None:
            return gr.Group(visible=False), "", "Mark an answer as helpful or not helpful first."
        if not (comment or "").strip():
            return gr.skip(), gr.skip(), "Type a comment first, or close this box."
        try:
            clean_comment(comment)
        except ValueError as error:  # refused, not cut: the box keeps what was typed
            return gr.skip(), gr.skip(), f"Sorry, {error}: please shorten it and send it again."
        _save_feedback(exchange, conversation, comment, request)
        return gr.Group(visible=False), "", f"Thank you: your comment on answer {int(turn or 0) + 1} was saved."

    def new_conversation():
        empty = _empty_transcript(*index_status(index, build)[:2])
        return Conversation(), render_transcript(None, empty), SOURCES_PLACEHOLDER, gr.Group(visible=False), ""

    def refresh(conversation: Conversation | None, was_ready: bool | None):
        """Banner, filters, examples and (when nothing was asked yet) the transcript's empty state."""
        kind, text, ready = index_status(index, build)
        from html import escape

        banner = f'<div class="banner {kind}" role="status">{escape(text)}</div>'
        transcript_update = (
            render_transcript(None, _empty_transcript(kind, text))
            if conversation is None or not conversation.exchanges
            else gr.skip()
        )
        timer = gr.Timer(active=bool(build is not None and build.building))
        if ready and not was_ready:
            examples = example_questions(index)
            example_updates = [
                gr.Button(value=examples[i], visible=True) if i < len(examples) else gr.Button(visible=False)
                for i in range(EXAMPLE_COUNT)
            ]
            return (
                banner,
                transcript_update,
                gr.Dropdown(choices=index.authorities()),
                gr.Dropdown(choices=region_choices(region_members(index.authorities(), gazetteer))),
                gr.Dropdown(choices=_report_type_choices(index)),
                gr.Row(visible=True),
                *example_updates,
                timer,
                True,
            )
        return (
            banner,
            transcript_update,
            gr.skip(),
            gr.skip(),
            gr.skip(),
            gr.Row(visible=ready),
            *(gr.skip() for _ in range(EXAMPLE_COUNT)),
            timer,
            ready,
        )

    with gr.Blocks(title=TITLE, fill_width=False) as demo:
        conversation_state = gr.State(None)
        ready_state = gr.State(False)
        feedback_turn = gr.State(None)
        gr.HTML(
            f"<h1>{TITLE}</h1><p>Cited answers from Ofsted inspection reports on local authority children's services."
            '</p><div id="ofsted-live" class="sr-only" aria-live="polite"></div>',
            elem_id="app-header",
        )
        banner = gr.HTML("", elem_id="index-status")
        timer = gr.Timer(1.0, active=bool(build is not None and build.building))
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=320):
                transcript = gr.HTML(
                    render_transcript(None, ""),
                    elem_id="transcript",
                    js_on_load=TRANSCRIPT_JS,
                    autoscroll=True,
                )
                with gr.Row(visible=False, elem_id="examples-row") as examples_row:
                    example_buttons = [
                        gr.Button("", size="sm", visible=False, elem_classes=["example"], elem_id=f"example-{i}")
                        for i in range(EXAMPLE_COUNT)
                    ]
                question = gr.Textbox(
                    label="Your question",
                    placeholder="For example: What did inspectors say about care leavers in Trafford?",
                    lines=1,
                    max_lines=4,
                    max_length=settings.max_question_chars,
                    elem_id="question",
                    autofocus=True,
                )
                with gr.Row():
                    ask_button = gr.Button("Ask", variant="primary", elem_id="ask")
                    clear_button = gr.Button("New conversation", variant="secondary", elem_id="new-conversation")
            with gr.Column(scale=2, min_width=280):
                with gr.Accordion("Filters", open=True, elem_id="filters"):
                    authorities = gr.Dropdown(
                        choices=[],
                        value=[],
                        multiselect=True,
                        label="Local authority",
                        info="Leave empty to search every authority.",
                        elem_id="filter-authority",
                    )
                    region_filter = gr.Dropdown(
                        choices=[],
                        value=[],
                        multiselect=True,
                        label="Region",
                        info="Adds every indexed authority in the region to those chosen above. In brackets: how "
                        "many of its authorities have reports here.",
                        elem_id="filter-region",
                    )
                    report_types = gr.Dropdown(
                        choices=[],
                        value=[],
                        multiselect=True,
                        label="Report type",
                        elem_id="filter-report-type",
                    )
                    with gr.Row():
                        published_from = gr.Textbox(
                            label="Published from", placeholder="YYYY-MM-DD", elem_id="filter-from", min_width=120
                        )
                        published_to = gr.Textbox(
                            label="Published to", placeholder="YYYY-MM-DD", elem_id="filter-to", min_width=120
                        )
                sources = gr.HTML(SOURCES_PLACEHOLDER, elem_id="sources", js_on_load=SOURCES_JS)
                with gr.Group(visible=False, elem_id="feedback-box") as feedback_box:
                    feedback_comment = gr.Textbox(
                        label="Optional comment",
                        lines=2,
                        max_length=FEEDBACK_COMMENT_MAX_CHARS,
                        elem_id="feedback-comment",
                    )
                    send_feedback = gr.Button("Send comment", size="sm", elem_id="feedback-send")
                feedback_status = gr.Markdown("", elem_id="feedback-status")

        ask_inputs = [question, conversation_state, authorities, report_types, published_from, published_to, region_filter]
        ask_outputs = [conversation_state, transcript, question]
        common: dict[str, Any] = {"show_progress": "hidden", "trigger_mode": "once", "concurrency_limit": 4}
        question.submit(respond, ask_inputs, ask_outputs, **common)
        ask_button.click(respond, ask_inputs, ask_outputs, **common)
        for button in example_buttons:
            button.click(respond, [button, *ask_inputs[1:]], ask_outputs, **common)
        transcript.click(
            on_transcript_click,
            [conversation_state],
            [conversation_state, transcript, sources, feedback_box, feedback_comment, feedback_status, feedback_turn],
            show_progress="hidden",
        )
        send_feedback.click(
            send_comment,
            [conversation_state, feedback_turn, feedback_comment],
            [feedback_box, feedback_comment, feedback_status],
            show_progress="hidden",
        )
        clear_button.click(
            new_conversation,
            None,
            [conversation_state, transcript, sources, feedback_box, feedback_status],
            show_progress="hidden",
        )
        refresh_outputs = [
            banner,
            transcript,
            authorities,
            region_filter,
            report_types,
            examples_row,
            *example_buttons,
            timer,
            ready_state,
        ]
        demo.load(refresh, [conversation_state, ready_state], refresh_outputs, show_progress="hidden")
        timer.tick(refresh, [conversation_state, ready_state], refresh_outputs, show_progress="hidden")
    return demo


def _sentence(text: str) -> str:
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def theme() -> gr.themes.Base:
    """The default theme with primary buttons dark enough for white text, and help text dark enough to read (WCAG AA)."""
    fonts = ("Liberation Sans", "Arial", "Helvetica", "system-ui", "sans-serif")
    return gr.themes.Default(primary_hue="blue", font=fonts).set(
        button_primary_background_fill="*primary_700",
        button_primary_background_fill_hover="*primary_800",
        button_primary_text_color="white",
        button_primary_background_fill_dark="*primary_600",
        button_primary_background_fill_hover_dark="*primary_700",
        # a filter's help text (Gradio's default grey was 1.9:1 on white; axe-core flags it)
        block_info_text_color="*neutral_600",
        block_info_text_color_dark="*neutral_300",
    )


def serve(
    demo: gr.Blocks,
    index: Index,
    settings: Settings,
    *,
    port: int | None = None,
    prevent_thread_lock: bool = False,
    quiet: bool = False,
) -> Any:
    """Launch on the settings' host and port, with a login when a username and password are set.

    Files: only each ingested report's own file, at `report/{id}`, and a page of it as a PNG with the cited paragraph
    highlighted, at `report/{id}/page/{n}` (ui.serving); Gradio serves no folder.
    Uploads are off (no upload component); wrong passwords are slowed, then refused, per client address.
    """
    auth = None
    if settings.username and settings.password is not None:
        auth = (settings.username, settings.password.get_secret_value())
    throttle = (
        LoginThrottle(
            delay_s=settings.login_delay_s,
            max_failures=settings.login_max_failures,
            window_s=settings.login_window_s,
        )
        if auth
        else None
    )
    bases = report_bases()
    demo.queue(default_concurrency_limit=4)
    return demo.launch(
        server_name=settings.host,
        server_port=port or settings.port,
        auth=auth,
        auth_message=LOGIN_MESSAGE if auth else None,
        show_error=False,
        theme=theme(),
        css=CSS_PATH.read_text(encoding="utf-8"),
        allowed_paths=[],
        max_file_size=MAX_UPLOAD_BYTES,
        app_kwargs={
            "routes": [
                report_route(index, bases, max_bytes=settings.max_file_bytes),
                page_route(index, bases, max_bytes=settings.max_file_bytes, cache=PageCache()),
            ],
            "middleware": [Middleware(ServingGuard, throttle=throttle, uploads=False)],
            # FastAPI's own schema and docs pages list every route to anyone, signed in or not
            "openapi_url": None,
            "docs_url": None,
            "redoc_url": None,
        },
        num_workers=0,  # no static file workers: every request passes the guard
        footer_links=[],
        ssr_mode=False,
        prevent_thread_lock=prevent_thread_lock,
        quiet=quiet,
    )
