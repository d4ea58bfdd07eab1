"""The LLM answerer: any OpenAI-compatible chat endpoint behind the same `Answerer` interface as the extractive one.

- The prompt is built from files in `prompts/` (`answer_system.txt`, `answer_user.txt`, `rewrite.txt`), read once.
- Each retrieved paragraph goes to the model as DATA inside `<source id="n"> ... </source>`, numbered with its
  `Evidence.marker`, under a label naming the report, page, paragraph number and heading. Angle brackets in the
  data are escaped, so a paragraph (or a question) can never close its own tag or open another one.
- The model's reply is a draft: sentences without a marker are removed here (every statement must be traceable),
  and the pipeline's shared citation check then verifies each marker against the stored paragraph.
- `confidence` is computed exactly as the extractive answerer does (`score_sentences`), so the pipeline's refusal
  policy behaves the same whichever answerer is configured. A reply of "The reports do not answer this." gives
  an empty draft with confidence 0, which the pipeline turns into a refusal.
- When the endpoint fails (connection refused, timeout, HTTP error) the answerer raises `LLMUnavailableError`,
  or, when it was given a fallback answerer, logs a warning and returns a `FallbackDraft`: the fallback's draft
  with a note line first in its text (the user sees it) and the reason in `FallbackDraft.note`.
- `stream_draft` yields the reply's deltas for the UI; the caller joins them and passes the text through
  `draft_from_reply` and the citation check before showing the final answer.
- `rewrite_question(history, question)` makes a follow-up standalone with `prompts/rewrite.txt`.
- `summarise(question, evidence)` sums up a side-by-side answer (a timeline or a comparison) in a few cited
  sentences with `prompts/summary_system.txt` and `prompts/summary_user.txt`; the pipeline checks those
  sentences like any others and sets the survivors above the side-by-side lines.

LangChain objects stay inside this module: callers pass and receive our own types and plain strings.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from chatbot.citations import MARKER
from chatbot.extractive import Draft, Evidence, report_label, score_sentences
from chatbot.query import QueryPlan, search_text
from core.errors import ConfigError, LLMUnavailableError
from core.models import REPORT_TYPE_LABELS, Turn
from core.settings import PROJECT_ROOT, Settings
from core.text import split_sentences
from vectorstore.embeddings import Embedder

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from chatbot.pipeline import Answerer

log = logging.getLogger(__name__)

PROMPT_DIR = PROJECT_ROOT / "prompts"
REFUSAL = "The reports do not answer this."
FALLBACK_NOTE = "_Note: the language model could not be reached, so this answer quotes the reports directly._"

# "[1, 2]" -> "[1][2]"; "[Source 1]" / "[source: 1]" -> "[1]": what models often write instead of our markers
_MARKER_LIST = re.compile(r"\[\s*(\d{1,3}(?:\s*,\s*\d{1,3})+)\s*\]")
_MARKER_WORD = re.compile(r"\[\s*(?:source|src|ref)\s*:?\s*(\d{1,3})\s*\]", re.I)
# "sentence. [1] Next" -> "sentence [1]. Next": a marker after the full stop belongs to the sentence before it
_MARKER_AFTER_STOP = re.compile(r"(?<=\w)([.!?])((?:\s*\[\d{1,3}\])+)")
_HEADING_LINE = re.compile(r"^\s*(#|\*\*)")
_NOT_WORDS = re.compile(r"[^a-z ]+")


@dataclass(frozen=True)
class FallbackDraft(Draft):
    """The fallback answerer's draft, returned because the LLM endpoint failed; `note` says why."""

    note: str = ""


def build_chat_model(settings: Settings, *, max_tokens: int | None = 800) -> BaseChatModel:
    """The chat model the settings point at: `ChatOpenAI` against an OpenAI-compatible endpoint."""
    if not settings.llm_base_url:
        raise ConfigError(
            "the LLM answerer needs an endpoint: set OFSTED_QA_LLM_BASE_URL (for example "
            "http://127.0.0.1:8080/v1 for a llama.cpp or vLLM server, or https://api.openai.com/v1), "
            "or set OFSTED_QA_ANSWERER=extractive"
        )
    from langchain_openai import ChatOpenAI

    # ChatOpenAI sends the limit as `max_completion_tokens`, which OpenAI and Azure want but llama-cpp-python's
    # server (and older vLLM and Ollama) ignore, generating until the context is full: give those `max_tokens` too.
    host = urlsplit(settings.llm_base_url).hostname or ""
    openai_host = host == "api.openai.com" or host.endswith((".openai.azure.com", ".openai.com"))
    extra_body = {"max_tokens": max_tokens} if max_tokens and not openai_host else None
    return ChatOpenAI(
        base_url=settings.llm_base_url,
        model=settings.llm_model,
        api_key=settings.llm_api_key,  # a SecretStr: ChatOpenAI keeps it secret in reprs and logs
        timeout=settings.llm_timeout_s,
        temperature=settings.llm_temperature,
        max_retries=1,
        max_tokens=max_tokens,  # type: ignore[call-arg]  # a field alias ChatOpenAI also accepts by name
        extra_body=extra_body,
    )


def escape_data(text: str) -> str:
    """Text that cannot open or close a tag in the prompt: angle brackets become &lt; and &gt;."""
    return text.replace("<", "&lt;").replace(">", "&gt;")


def format_source(item: Evidence, *, max_chars: int | None = None) -> str:
    """One paragraph as a delimited, labelled source block."""
    paragraph = item.paragraph
    text = paragraph.text
    if max_chars is not None and len(text) > max_chars:
        text = text[:max_chars].rstrip() + " ..."
    meta = item.report.metadata
    lines = [
        f"report: {report_label(item.report)}",
        f"authority: {meta.local_authority or 'unknown'}",
        f"report type: {REPORT_TYPE_LABELS.get(meta.report_type, 'report')}",
        f"date: {meta.published.isoformat() if meta.published else 'undated'}",
        f"page: {paragraph.page}",
    ]
    if paragraph.paragraph_number is not None:
        lines.append(f"paragraph number: {paragraph.paragraph_number}")
    if paragraph.heading_path:
        lines.append(f"heading: {' > '.join(paragraph.heading_path)}")
    lines.append(f"text: {text}")
    body = "\n".join(escape_data(line) for line in lines)
    return f'<source id="{escape_data(item.marker)}">\n{body}\n</source>'


def format_sources(evidence: Sequence[Evidence], *, max_chars: int) -> str:
    """Source blocks in marker order, as many as fit in `max_chars` (the first always, shortened if need be)."""
    blocks: list[str] = []
    used = 0
    for item in evidence:
        block = format_source(item)
        if blocks and used + len(block) > max_chars:
            break
        if not blocks and len(block) > max_chars:
            block = format_source(item, max_chars=max(200, max_chars - (len(block) - len(item.paragraph.text))))
        blocks.append(block)
        used += len(block) + 2
    return "\n\n".join(blocks)


def normalise_markers(text: str) -> str:
    """Rewrite "[1, 2]" and "[Source 1]" as "[1][2]" and "[1]", and put markers before the sentence's full stop."""
    text = _MARKER_LIST.sub(lambda m: "".join(f"[{n.strip()}]" for n in m.group(1).split(",")), text)
    text = _MARKER_WORD.sub(r"[\1]", text)
    return _MARKER_AFTER_STOP.sub(lambda m: f"{m.group(2)}{m.group(1)}", text)


def keep_cited(text: str) -> str:
    """The reply without sentences that cite nothing (report headings, blank lines and the fallback note stay)."""
    kept: list[str] = []
    for line in text.split("\n"):
        if not line.strip() or (_HEADING_LINE.match(line) and not MARKER.search(line)) or line.strip() == FALLBACK_NOTE:
            kept.append(line)
        elif line.lstrip().startswith(("- ", "* ")):
            if MARKER.search(line):
                kept.append(line)
        else:
            sentences = [s for s in split_sentences(line) if MARKER.search(s)]
            if sentences:
                kept.append(" ".join(sentences))
    return re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip()


def is_refusal(text: str) -> bool:
    """Whether a reply is the refusal sentence, allowing case, punctuation, a stray marker, or a few more words
    ("... answer this question.") when it cites nothing."""
    words = _NOT_WORDS.sub(" ", MARKER.sub("", text).lower()).split()
    refusal = _NOT_WORDS.sub(" ", REFUSAL.lower()).split()
    if words == refusal:
        return True
    return words[: len(refusal)] == refusal and len(words) <= len(refusal) + 3 and not MARKER.search(text)


def format_history(history: Sequence[Turn], *, max_turns: int = 4, max_chars: int = 600) -> str:
    """The last few turns of a conversation, escaped, oldest first."""
    lines: list[str] = []
    for turn in list(history)[-max_turns:]:
        lines.append(f"User: {escape_data(turn.user.strip()[:max_chars])}")
        if turn.assistant.strip():
            lines.append(f"Assistant: {escape_data(turn.assistant.strip()[:max_chars])}")
    return "\n".join(lines)


class LLMAnswerer:
    """Drafts a cited answer with a chat model; implements `chatbot.pipeline.Answerer`."""

    def __init__(
        self,
        chat_model: BaseChatModel,
        embedder: Embedder,
        *,
        fallback: Answerer | None = None,
        prompt_dir: Path = PROMPT_DIR,
        max_source_chars: int = 12_000,
    ) -> None:
        from langchain_core.output_parsers import StrOutputParser
        from langchain_core.prompts import ChatPromptTemplate

        self.chat_model = chat_model
        self.embedder = embedder
        self.fallback = fallback
        self.max_source_chars = max_source_chars
        self.model = _model_name(chat_model)
        self.name = f"llm:{self.model}"
        self.endpoint = str(getattr(chat_model, "openai_api_base", "") or "")
        try:
            system = (prompt_dir / "answer_system.txt").read_text(encoding="utf-8")
            user = (prompt_dir / "answer_user.txt").read_text(encoding="utf-8")
            rewrite = (prompt_dir / "rewrite.txt").read_text(encoding="utf-8")
            summary_system = (prompt_dir / "summary_system.txt").read_text(encoding="utf-8")
            summary_user = (prompt_dir / "summary_user.txt").read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read the LLM prompt files in {prompt_dir}: {exc}") from exc
        answer_prompt = ChatPromptTemplate.from_messages([("system", system), ("human", user)])
        missing = {"question", "sources"} - set(answer_prompt.input_variables)
        if missing:
            raise ConfigError(f"{prompt_dir / 'answer_user.txt'} must use {sorted(missing)} placeholders")
        self._answer_chain = answer_prompt | chat_model | StrOutputParser()
        self._answer_variables = set(answer_prompt.input_variables)
        rewrite_prompt = ChatPromptTemplate.from_messages([("human", rewrite)])
        self._rewrite_chain = rewrite_prompt | chat_model | StrOutputParser()
        summary_prompt = ChatPromptTemplate.from_messages([("system", summary_system), ("human", summary_user)])
        missing = {"question", "sources"} - set(summary_prompt.input_variables)
        if missing:
            raise ConfigError(f"{prompt_dir / 'summary_user.txt'} must use {sorted(missing)} placeholders")
        self._summary_chain = summary_prompt | chat_model | StrOutputParser()

    # ---- Answerer --------------------------------------------------------------------------------

    def draft(self, plan: QueryPlan, evidence: Sequence[Evidence]) -> Draft:
        """Ask the model for a cited answer; the pipeline then checks its citations."""
        if not evidence:
            return Draft("", 0.0)
        try:
            reply = self._answer_chain.invoke(self.prompt_variables(plan, evidence))
        except Exception as exc:
            if not _is_endpoint_failure(exc):
                raise
            return self._fall_back(plan, evidence, exc)
        return self.draft_from_reply(plan, evidence, reply)

    def stream_draft(self, plan: QueryPlan, evidence: Sequence[Evidence]) -> Iterator[str]:
        """Yield the reply's text deltas as the model writes them (for the UI).

        The caller must still put the joined text through the citation check (`draft_from_reply` then
        `check_citations`, as the pipeline does). When the endpoint fails before the first delta and a fallback
        is configured, the fallback's whole draft text (with its note line) is yielded as one delta; a failure
        part way through raises `LLMUnavailableError`, since the text already shown cannot be taken back.
        """
        if not evidence:
            return
        started = False
        try:
            for delta in self._answer_chain.stream(self.prompt_variables(plan, evidence)):
                if delta:
                    started = True
                    yield delta
        except Exception as exc:
            if not _is_endpoint_failure(exc):
                raise
            if started or self.fallback is None:
                raise self._unavailable(exc) from exc
            yield self._fall_back(plan, evidence, exc).text

    # ---- the pieces ------------------------------------------------------------------------------

    def prompt_variables(self, plan: QueryPlan, evidence: Sequence[Evidence]) -> dict[str, str]:
        """The values the prompt templates are filled with."""
        conversation = ""
        if plan.follow_up and plan.standalone.strip() and plan.standalone.strip() != plan.question.strip():
            conversation = (
                "This question follows on from earlier ones; in the context of the conversation it means: "
                f"<question>{escape_data(plan.standalone)}</question>\n\n"
            )
        values = {
            "question": escape_data(plan.question),
            "standalone": escape_data(plan.standalone),
            "topic": escape_data(plan.topic or search_text(plan.standalone)),
            "authorities": escape_data(", ".join(plan.authorities) or "any"),
            "conversation": conversation,
            "sources": format_sources(evidence, max_chars=self.max_source_chars),
            "refusal": REFUSAL,
        }
        return {key: value for key, value in values.items() if key in self._answer_variables}

    def messages(self, plan: QueryPlan, evidence: Sequence[Evidence]) -> list[tuple[str, str]]:
        """The (role, content) messages the model is sent, for inspection and logging."""
        prompt = self._answer_chain.first  # type: ignore[attr-defined]  # a RunnableSequence: prompt | model | parser
        return [(m.type, str(m.content)) for m in prompt.invoke(self.prompt_variables(plan, evidence)).to_messages()]

    def draft_from_reply(self, plan: QueryPlan, evidence: Sequence[Evidence], reply: str) -> Draft:
        """A model reply as a draft: the refusal becomes an empty draft; uncited sentences are removed."""
        if is_refusal(reply):
            return Draft("", 0.0)
        text = keep_cited(normalise_markers(reply.strip()))
        scored = score_sentences(plan.topic or search_text(plan.standalone), evidence, self.embedder)
        if not scored:
            return Draft(text, 0.0)
        confidence = max(s.similarity for s in scored)
        # the sentences of the paragraphs the reply cites: the pipeline looks in them for the kind of fact
        # a question asks for (a figure, an amount, a name)
        cited = set(MARKER.findall(text))
        sentences = tuple(sorted((s for s in scored if s.evidence.marker in cited), key=lambda s: -s.score))
        return Draft(text, confidence, sentences)

    def rewrite_question(self, history: Sequence[Turn], question: str) -> str:
        """The question made standalone from the conversation by the model (`prompts/rewrite.txt`).

        Returns the question unchanged when there is no history or the model's reply is unusable. On an
        endpoint failure it returns the question unchanged when a fallback answerer is configured (the
        rule-based plan still resolves follow-ups) and raises `LLMUnavailableError` otherwise.
        """
        if not history or not question.strip():
            return question
        try:
            reply = self._rewrite_chain.invoke(
                {"conversation": format_history(history), "question": escape_data(question.strip())}
            )
        except Exception as exc:
            if not _is_endpoint_failure(exc):
                raise
            if self.fallback is None:
                raise self._unavailable(exc) from exc
            log.warning("LLM unavailable for question rewriting, keeping the question as asked: %s", exc)
            return question
        lines = [line.strip() for line in reply.strip().splitlines() if line.strip()]
        rewritten = lines[0].strip().strip('"').strip() if lines else ""
        rewritten = re.sub(r"^(?:rewritten question|question)\s*:\s*", "", rewritten, flags=re.I)
        rewritten = rewritten.replace("&lt;", "<").replace("&gt;", ">")
        if not rewritten or len(rewritten) > 3 * len(question) + 200 or "</" in rewritten:
            return question
        return rewritten

    def summarise(self, question: str, evidence: Sequence[Evidence]) -> str:
        """A few cited sentences summing up an answer that sets reports or authorities side by side (timelines,
        comparisons), over the paragraphs that answer cites, numbered with its own markers.

        Returns "" when the model has nothing to sum up or its endpoint fails (the side-by-side answer stands on
        its own, so a failure here is logged, not raised). Sentences without a marker are removed; the caller
        must still put the text through the citation check."""
        if not evidence:
            return ""
        try:
            reply = self._summary_chain.invoke(
                {"question": escape_data(question), "sources": format_sources(evidence, max_chars=self.max_source_chars)}
            )
        except Exception as exc:
            if not _is_endpoint_failure(exc):
                raise
            log.warning("LLM unavailable for the side-by-side summary, answering without it: %s", self._unavailable(exc))
            return ""
        if is_refusal(reply):
            return ""
        return keep_cited(normalise_markers(reply.strip()))

    # ---- failure ---------------------------------------------------------------------------------

    def _unavailable(self, exc: BaseException) -> LLMUnavailableError:
        where = f" at {self.endpoint}" if self.endpoint else ""
        return LLMUnavailableError(
            f"the language model {self.model!r}{where} did not answer ({type(exc).__name__}: {exc}). "
            "Check that the server is running and OFSTED_QA_LLM_BASE_URL is right, "
            "or set OFSTED_QA_ANSWERER=extractive to answer without an LLM."
        )

    def _fall_back(self, plan: QueryPlan, evidence: Sequence[Evidence], exc: BaseException) -> Draft:
        if self.fallback is None:
            raise self._unavailable(exc) from exc
        reason = str(self._unavailable(exc))
        log.warning("LLM answerer falling back to %s: %s", self.fallback.name, reason)
        draft = self.fallback.draft(plan, evidence)
        text = f"{FALLBACK_NOTE}\n\n{draft.text}" if draft.text else ""
        note = f"answered by {self.fallback.name}: {reason}"
        return FallbackDraft(text, draft.confidence, draft.sentences, note=note)


def _model_name(chat_model: Any) -> str:
    for attribute in ("model_name", "model"):
        value = getattr(chat_model, attribute, None)
        if isinstance(value, str) and value:
            return value
    return str(getattr(chat_model, "_llm_type", type(chat_model).__name__))


def _is_endpoint_failure(exc: BaseException) -> bool:
    """Whether an exception means the endpoint failed (network, timeout, HTTP error), not a bug of ours."""
    import httpx
    import openai
    from langchain_core.exceptions import ModelError

    # langchain-openai re-raises openai's errors as subclasses that are also langchain-core ModelErrors
    return isinstance(exc, (ModelError, openai.APIError, httpx.HTTPError, OSError, TimeoutError))
