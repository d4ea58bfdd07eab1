"""The declared route table: which kind of answer a question gets, in order, and why.

`QAPipeline._ask` reads the question once into a plan, scopes it (authorities indexed, dates, report types), and
then walks `ROUTES` in order: each route is a name, a decision on the routing context (the plan and its scope, never
the answer), a handler, and the rule in words. The first route whose decision holds and whose handler answers wins;
a handler that cannot answer (returns None) lets the walk go on. A route may also rewrite the plan for those after it
(`ranked-as-graded`). The trace records the routes whose decision held (`routes_tried`), the one taken (`route`) and
its rule (`route_reason`). When none answers, the passage search answers (the pipeline's last step).

Each route's rules in full are in `docs/routes.md`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from chatbot.query import QueryPlan
from core.models import Answer

if TYPE_CHECKING:
    from chatbot.pipeline import QAPipeline


@dataclass
class Routing:
    """What every route decides on: the plan as scoped, the time first asked, the reports in scope, the trace so far."""

    plan: QueryPlan
    asked: QueryPlan  # before the time scope was widened (no report in the window asked)
    report_ids: Sequence[str] | None
    trace: dict[str, object]
    started: float
    widened: bool
    notes: dict[str, Any] = field(default_factory=dict)  # what a decision worked out for its handler


@dataclass(frozen=True)
class Route:
    """One entry of the table."""

    name: str
    decide: Callable[[QAPipeline, Routing], bool]
    handle: Callable[[QAPipeline, Routing], Answer | None]
    rule: str  # the decision in words, for the trace and docs/routes.md


def run_routes(pipeline: QAPipeline, routing: Routing, routes: Sequence[Route]) -> Answer | None:
    """Walk the table: the first route whose decision holds and whose handler answers; None leaves it to the
    passage search. The trace records every route whose decision held, in order."""
    tried: list[str] = []
    routing.trace["routes_tried"] = tried
    for route in routes:
        if not route.decide(pipeline, routing):
            continue
        tried.append(route.name)
        answer = route.handle(pipeline, routing)
        if answer is not None:
            answer.trace.setdefault("route_reason", route.rule)
            answer.trace.setdefault("routes_tried", list(tried))
            return answer
    return None


def describe(routes: Sequence[Route]) -> list[tuple[str, str]]:
    """(name, rule) of each route, in the order they are tried."""
    return [(route.name, route.rule) for route in routes]
