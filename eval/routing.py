"""The routing set: does the product understand what kind of answer a question wants, and about what?

Each labelled question (eval/datasets/test/routing.yaml, written blind) gives the route a careful
reader would take (grade, list, timeline, ...) and its slots: the authorities, the report type, the
time asked about, the judged area and whether it is a follow-up. The product is asked the question
for real and its answer's trace is read back into the same labels (`observed_labels`), so the score
is what the product did, not what a separate classifier thinks. Scored: route accuracy, each slot's
accuracy, all-correct accuracy, for originals and paraphrases apart, and a route confusion matrix.
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from core.models import JUDGEMENT_AREAS, REPORT_TYPES, Turn
from core.protocols import QuestionAnswerer
from eval.dataset import DatasetError, load_yaml

ROUTES: tuple[str, ...] = (
    "passage",
    "grade",
    "date",
    "inspector",
    "focus",
    "improvements",
    "list",
    "movement",
    "mentions",
    "timeline",
    "comparison",
    "overview",
    "catalog",
    "refuse",
)
SLOTS: tuple[str, ...] = ("authorities", "report_type", "time", "area", "follow_up")
ROUTING_FIELDS = frozenset(
    {"id", "question", "history", "route", "authorities", "report_type", "time", "area", "follow_up", "paraphrase_of"}
)
# Refusals decided before any search: the question is not one the reports could answer.
_REFUSAL_ROUTES = frozenset({"off-topic", "personal", "authority-not-indexed", "next-inspection"})
# The trace's route names that differ from the label names.
_ROUTE_NAMES = {"moves": "movement", "next-inspection": "refuse", "why-graded": "passage"}

Time = str | tuple[date | None, date | None]  # "none", "latest", "earliest" or a (from, to) range


@dataclass(frozen=True)
class RoutingCase:
    """One labelled question."""

    id: str
    question: str
    route: str
    authorities: tuple[str, ...] = ()
    report_type: str | None = None
    time: Time = "none"
    area: str | None = None
    follow_up: bool = False
    history: tuple[Turn, ...] = ()
    paraphrase_of: str | None = None


@dataclass(frozen=True)
class Labels:
    """What the product understood, in the routing set's terms."""

    route: str
    authorities: tuple[str, ...]
    report_types: tuple[str, ...]
    time: Time
    areas: tuple[str, ...]
    follow_up: bool


def load_routing(path: Path) -> list[RoutingCase]:
    """Read and validate a routing set; every problem names the file, question and field."""
    try:
        raw = load_yaml(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DatasetError(f"{path}: routing set not found") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise DatasetError(f"{path}: cannot read the routing set: {error}") from None
    if not isinstance(raw, Mapping) or not isinstance(raw.get("questions"), list):
        raise DatasetError(f"{path}: expected a top-level 'questions:' list")
    cases: list[RoutingCase] = []
    seen: set[str] = set()
    for position, item in enumerate(raw["questions"], start=1):
        case = _parse(item, path, position)
        if case.id in seen:
            raise DatasetError(f"{path}: question {case.id!r}: field 'id': duplicate id")
        seen.add(case.id)
        cases.append(case)
    for case in cases:
        if case.paraphrase_of is not None and case.paraphrase_of not in seen:
            raise DatasetError(f"{path}: question {case.id!r}: field 'paraphrase_of': no question {case.paraphrase_of!r}")
    return cases


def _parse(item: Any, path: Path, position: int) -> RoutingCase:
    name = item.get("id") if isinstance(item, Mapping) else None
    where = f"{path}: question {name or f'#{position}'!r}"
    if not isinstance(item, Mapping):
        raise DatasetError(f"{where}: expected a mapping")
    unknown = set(item) - ROUTING_FIELDS
    if unknown:
        raise DatasetError(f"{where}: unknown field(s) {sorted(unknown)}")
    for field_name in ("id", "question", "route"):
        if not isinstance(item.get(field_name), str) or not item[field_name].strip():
            raise DatasetError(f"{where}: field {field_name!r}: a non-empty string is required")
    if item["route"] not in ROUTES:
        raise DatasetError(f"{where}: field 'route': {item['route']!r} is not one of {', '.join(ROUTES)}")
    authorities = item.get("authorities") or []
    if not isinstance(authorities, list) or not all(isinstance(a, str) and a.strip() for a in authorities):
        raise DatasetError(f"{where}: field 'authorities': a list of names is required")
    report_type = item.get("report_type")
    if report_type is not None and report_type not in REPORT_TYPES:
        raise DatasetError(f"{where}: field 'report_type': {report_type!r} is not a report type")
    area = item.get("area")
    if area is not None and area not in JUDGEMENT_AREAS:
        raise DatasetError(f"{where}: field 'area': {area!r} is not a judgement area")
    follow_up = item.get("follow_up", False)
    if not isinstance(follow_up, bool):
        raise DatasetError(f"{where}: field 'follow_up': true or false")
    history = item.get("history") or []
    if not isinstance(history, list) or not all(
        isinstance(t, Mapping) and isinstance(t.get("user"), str) and set(t) <= {"user", "assistant"} for t in history
    ):
        raise DatasetError(f"{where}: field 'history': a list of {{user, assistant}} turns")
    paraphrase_of = item.get("paraphrase_of")
    if paraphrase_of is not None and not isinstance(paraphrase_of, str):
        raise DatasetError(f"{where}: field 'paraphrase_of': an id or null")
    return RoutingCase(
        id=item["id"],
        question=item["question"],
        route=item["route"],
        authorities=tuple(authorities),
        report_type=report_type,
        time=_time(item.get("time", "none"), where),
        area=area,
        follow_up=follow_up,
        history=tuple(Turn(user=t["user"], assistant=str(t.get("assistant") or "")) for t in history),
        paraphrase_of=paraphrase_of,
    )


def _time(value: Any, where: str) -> Time:
    if value is None:
        return "none"
    if isinstance(value, str) and value in ("none", "latest", "earliest"):
        return value
    if isinstance(value, Mapping) and set(value) <= {"from", "to"}:
        ends: list[date | None] = []
        for key in ("from", "to"):
            end = value.get(key)
            if end is None:
                ends.append(None)
            elif isinstance(end, date):
                ends.append(end)
            else:
                try:
                    ends.append(date.fromisoformat(str(end)))
                except ValueError:
                    raise DatasetError(f"{where}: field 'time.{key}': {end!r} is not a YYYY-MM-DD date") from None
        if ends[0] is None and ends[1] is None:
            return "none"
        return (ends[0], ends[1])
    raise DatasetError(f"{where}: field 'time': none, latest, earliest or {{from, to}}")


def route_of(trace: Mapping[str, Any]) -> str:
    """The route an answer took, in the routing set's names."""
    if trace.get("refusal") in _REFUSAL_ROUTES:
        return "refuse"
    route = str(trace.get("route") or "passage").split("+")[0]
    if route.startswith("structured:"):
        route = route.split(":", 1)[1]
    return _ROUTE_NAMES.get(route, route)


def observed_labels(trace: Mapping[str, Any]) -> Labels:
    """The labels an answer's trace shows: its route, and the plan as first understood (before any widening)."""
    from chatbot.structured import wanted_areas  # the product's own reading of the judged areas

    plan = trace.get("asked") or trace.get("plan") or {}
    start, end = plan.get("published_from"), plan.get("published_to")
    time_read: Time
    if start or end:
        time_read = (date.fromisoformat(start) if start else None, date.fromisoformat(end) if end else None)
    elif plan.get("latest") or plan.get("latest_count"):
        time_read = "latest"
    elif plan.get("earliest"):
        time_read = "earliest"
    else:
        time_read = "none"
    return Labels(
        route=route_of(trace),
        authorities=tuple(plan.get("authorities") or ()),
        report_types=tuple(plan.get("report_types") or ()),
        time=time_read,
        areas=tuple(wanted_areas(str(plan.get("standalone") or plan.get("question") or ""))),
        follow_up=bool(plan.get("follow_up")),
    )


def _name_key(name: str) -> str:
    """An authority name compared loosely: case, '&', punctuation and a trailing 'council' do not matter."""
    text = name.casefold().replace("&", " and ")
    text = re.sub(r"\b(?:city|borough|county|metropolitan|district|council|of|the|london)\b", " ", text)
    return " ".join(re.findall(r"[a-z0-9]+", text))


def slot_results(case: RoutingCase, seen: Labels) -> dict[str, bool]:
    """Whether each slot was read as labelled."""
    time_ok = seen.time == case.time
    return {
        "authorities": sorted(map(_name_key, case.authorities)) == sorted(map(_name_key, seen.authorities)),
        "report_type": (case.report_type in seen.report_types) if case.report_type else not seen.report_types,
        "time": time_ok,
        "area": (case.area in seen.areas) if case.area else not seen.areas,
        "follow_up": case.follow_up == seen.follow_up,
    }


def _describe_time(value: Time) -> str:
    if isinstance(value, str):
        return value
    start, end = value
    return f"{start.isoformat() if start else '...'} to {end.isoformat() if end else '...'}"


@dataclass(frozen=True)
class RoutingResult:
    case: RoutingCase
    seen: Labels
    slots: dict[str, bool]
    latency_s: float

    @property
    def route_ok(self) -> bool:
        return self.taken == self.case.route

    @property
    def taken(self) -> str:
        """The route taken, in the label's terms: the product answers a comparison with no topic ("compare Bury
        and Wakefield") with each authority's overview side by side, so an overview of two or more authorities
        counts as either label."""
        side_by_side = {"overview", "comparison"}
        if {self.seen.route, self.case.route} <= side_by_side and len(self.seen.authorities) >= 2:
            return self.case.route
        return self.seen.route

    @property
    def all_ok(self) -> bool:
        return self.route_ok and all(self.slots.values())

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.case.id,
            "question": self.case.question,
            "paraphrase_of": self.case.paraphrase_of,
            "expected": {
                "route": self.case.route,
                "authorities": list(self.case.authorities),
                "report_type": self.case.report_type,
                "time": _describe_time(self.case.time),
                "area": self.case.area,
                "follow_up": self.case.follow_up,
            },
            "observed": {
                "route": self.seen.route,
                "authorities": list(self.seen.authorities),
                "report_types": list(self.seen.report_types),
                "time": _describe_time(self.seen.time),
                "areas": list(self.seen.areas),
                "follow_up": self.seen.follow_up,
            },
            "route_taken": self.taken,
            "route_ok": self.route_ok,
            "slots_ok": self.slots,
            "latency_s": round(self.latency_s, 4),
        }


def run_routing(answerer: QuestionAnswerer, cases: Sequence[RoutingCase]) -> list[RoutingResult]:
    """Ask every question (with its history, no filters) and read back what the product understood.

    The labels name only indexed authorities (a council not covered is labelled by its route, `refuse`),
    so an authority the product names that the index does not hold is left out of its reading too.
    """
    indexed = {_name_key(r.metadata.local_authority) for r in answerer.reports() if r.metadata.local_authority}
    results = []
    for case in cases:
        started = time.perf_counter()
        answer = answerer.ask(case.question, case.history, None)
        seen = observed_labels(answer.trace)
        seen = replace(seen, authorities=tuple(a for a in seen.authorities if _name_key(a) in indexed))
        results.append(RoutingResult(case, seen, slot_results(case, seen), time.perf_counter() - started))
    return results


def _accuracy(results: Sequence[RoutingResult]) -> dict[str, float | int | None]:
    count = len(results)

    def share(flags: Sequence[bool]) -> float | None:
        return round(sum(flags) / len(flags), 4) if flags else None

    summary: dict[str, float | int | None] = {"questions": count, "route": share([r.route_ok for r in results])}
    for slot in SLOTS:
        summary[slot] = share([r.slots[slot] for r in results])
    summary["all"] = share([r.all_ok for r in results])
    return summary


def summarise(results: Sequence[RoutingResult]) -> dict[str, Any]:
    """Accuracy overall, for originals and paraphrases, per expected route; and the route confusion matrix."""
    confusion: dict[str, Counter[str]] = {}
    for result in results:
        confusion.setdefault(result.case.route, Counter())[result.taken] += 1
    return {
        "overall": _accuracy(results),
        "originals": _accuracy([r for r in results if r.case.paraphrase_of is None]),
        "paraphrases": _accuracy([r for r in results if r.case.paraphrase_of is not None]),
        "by_route": {route: _accuracy([r for r in results if r.case.route == route]) for route in ROUTES},
        "confusion": {expected: dict(row) for expected, row in sorted(confusion.items())},
    }


def routing_markdown(summary: Mapping[str, Any], results: Sequence[RoutingResult]) -> str:
    """routing.md: accuracy table, per-route table, confusion matrix and every misread question."""
    columns = ("questions", "route", *SLOTS, "all")
    lines = ["# Routing set: what the product understood", "", "| set | " + " | ".join(columns) + " |"]
    lines.append("|---|" + "---|" * len(columns))
    for name in ("overall", "originals", "paraphrases"):
        lines.append(f"| {name} | " + " | ".join(_cell(summary[name].get(c)) for c in columns) + " |")
    lines += ["", "## By expected route", "", "| route | " + " | ".join(columns) + " |", "|---|" + "---|" * len(columns)]
    for route, accuracy in summary["by_route"].items():
        if accuracy["questions"]:
            lines.append(f"| {route} | " + " | ".join(_cell(accuracy.get(c)) for c in columns) + " |")
    observed = sorted({seen for row in summary["confusion"].values() for seen in row})
    lines += ["", "## Route confusion matrix (rows: expected, columns: taken)", ""]
    lines.append("| expected \\ taken | " + " | ".join(observed) + " |")
    lines.append("|---|" + "---|" * len(observed))
    for expected, row in summary["confusion"].items():
        lines.append(f"| {expected} | " + " | ".join(str(row.get(seen, "")) for seen in observed) + " |")
    wrong = [r for r in results if not r.all_ok]
    lines += ["", f"## Misread questions ({len(wrong)})", ""]
    for result in wrong:
        record = result.to_json()
        misses = [slot for slot, ok in result.slots.items() if not ok]
        if not result.route_ok:
            misses.insert(0, "route")
        lines.append(f"- `{result.case.id}` {_safe(result.case.question)}")
        for slot in misses:
            expected = record["expected"].get(slot if slot != "report_type" else "report_type")
            key = {"report_type": "report_types", "area": "areas"}.get(slot, slot)
            lines.append(f"  - {slot}: expected {expected!r}, read {record['observed'].get(key)!r}")
    return "\n".join(lines).rstrip() + "\n"


def _cell(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, int):
        return str(value)
    return f"{value:.3f}"


def _safe(text: str) -> str:
    return " ".join(text.split()).replace("<", "&lt;").replace(">", "&gt;")


def write_routing(out_dir: Path, results: Sequence[RoutingResult]) -> dict[str, Path]:
    """Write routing.json and routing.md; returns their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    summary = summarise(results)
    paths = {"results": out_dir / "routing.json", "report": out_dir / "routing.md"}
    payload = {"summary": summary, "cases": [r.to_json() for r in results]}
    paths["results"].write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    paths["report"].write_text(routing_markdown(summary, results), encoding="utf-8")
    return paths
