"""Which kind of answer a question wants, learned from labelled examples instead of trigger words.

The rules in `pipeline.py` route the wordings they were written for; a question they miss falls to the
passage search ("Date of Bury's most recent inspection?", "Fill me in on Rutland"). The route model is a
softmax classifier over the packaged MiniLM's embedding of the question, fitted on labelled questions
(`eval/datasets/dev/routing.yaml`, `routing_dc.yaml` and `routing_dd.yaml`, written by writers who never saw the code) by `make train-router`
into `chatbot/data/route_model.npz` (22 KB). Council names and years are taken out before embedding,
so the model reads the shape of the question, not which council it names.

It only ever adds a route: the pipeline asks it when the rules would search passages, and takes its
answer only when the model is sure (a probability threshold calibrated by 5-fold cross-validation on
the examples, for a precision of at least 0.93 on the routes it takes) and the route's own handler can answer;
otherwise the passage search goes on as before.

    python -m chatbot.intent build [DATASET.yaml ...]     # refit the model file (make train-router)
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from chatbot.authorities import Gazetteer
from chatbot.query import YEAR

log = logging.getLogger(__name__)

MODEL_FILE = Path(__file__).resolve().parent / "data" / "route_model.npz"
# the dev routing set, and its supplements: whole-service questions in councillors' words, narrow questions that sound
# general and improvement questions that avoid "improve" (the kinds the first set had few of); then narrow questions in
# the words councillors use of their own council ("the children we look after"), beside whole-service ones
DEFAULT_DATASETS = tuple(Path(__file__).resolve().parents[1] / "eval" / "datasets" / "dev" / name for name in ("routing.yaml", "routing_dc.yaml", "routing_dd.yaml"))
REGULARISATION = 16.0  # LogisticRegression's C, chosen by 5-fold cross-validation on the dev examples (0.73)
SEED = 17
TARGET_PRECISION = 0.93  # an override of the rules costs more than a missed route: take only near-certain ones


def route_text(question: str, gazetteer: Gazetteer) -> str:
    """The question as the route model reads it: council names and years out, so only its shape is left."""
    text = YEAR.sub(" ", gazetteer.strip(question))
    return " ".join(text.split()) or question


@dataclass(frozen=True)
class RouteGuess:
    """The route model's reading of a question."""

    route: str
    confidence: float  # the model's probability for that route
    sure: bool  # confident enough to take a route the rules did not


class RouteModel:
    """A softmax (multinomial logistic) classifier over the question's MiniLM embedding."""

    def __init__(self, weights: np.ndarray, bias: np.ndarray, routes: Sequence[str], *, threshold: float) -> None:
        weights = np.asarray(weights, dtype=np.float32)
        if weights.ndim != 2 or weights.shape[0] != len(routes) or np.asarray(bias).shape != (len(routes),):
            raise ValueError("the route model needs one row of weights and one bias per route")
        self.weights = weights
        self.bias = np.asarray(bias, dtype=np.float32)
        self.routes = tuple(routes)
        self.threshold = threshold

    @classmethod
    def load(cls, path: Path = MODEL_FILE) -> RouteModel | None:
        """The committed model, or None (with a warning) when the file is missing or unreadable: then the rules
        alone route, as before."""
        try:
            with np.load(path, allow_pickle=False) as data:
                routes = [str(r) for r in data["routes"]]
                return cls(data["weights"], data["bias"], routes, threshold=float(data["threshold"]))
        except (OSError, KeyError, ValueError) as error:
            log.warning("route model not loaded from %s (%s): the rules alone choose routes", path, error)
            return None

    def probabilities(self, vectors: np.ndarray) -> np.ndarray:
        logits = np.atleast_2d(np.asarray(vectors, dtype=np.float32)) @ self.weights.T + self.bias
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        return np.asarray(exp / exp.sum(axis=1, keepdims=True))

    def guess(self, vector: np.ndarray) -> RouteGuess:
        """The most probable route, and whether the model is sure of it."""
        probabilities = self.probabilities(vector)[0]
        best = int(probabilities.argmax())
        confidence = float(probabilities[best])
        return RouteGuess(route=self.routes[best], confidence=round(confidence, 4), sure=confidence >= self.threshold)


def calibrate(
    probabilities: np.ndarray, routes: Sequence[str], classes: Sequence[str], target: float = TARGET_PRECISION
) -> tuple[float, dict[str, float]]:
    """The lowest confidence at which held-out predictions of routes other than passage are right at least `target`
    of the time (probabilities from cross-validation); and the figures at that threshold."""
    predicted = [classes[i] for i in np.asarray(probabilities).argmax(axis=1)]
    confidence = np.asarray(probabilities).max(axis=1)
    accuracy = sum(p == t for p, t in zip(predicted, routes, strict=True)) / len(routes)
    for threshold in np.arange(0.30, 1.0001, 0.025):
        taken = [(p, t) for p, t, c in zip(predicted, routes, confidence, strict=True) if p != "passage" and c >= threshold]
        if taken and sum(p == t for p, t in taken) / len(taken) >= target:
            precision = sum(p == t for p, t in taken) / len(taken)
            return round(float(threshold), 3), {
                "held_out_accuracy": round(accuracy, 4),
                "precision_taken": round(precision, 4),
                "share_taken": round(len(taken) / len(routes), 4),
            }
    return 1.01, {"held_out_accuracy": round(accuracy, 4), "precision_taken": 1.0, "share_taken": 0.0}


def build(datasets: Sequence[Path], out: Path = MODEL_FILE, *, strength: float = REGULARISATION) -> dict[str, float]:
    """Embed the labelled questions, fit the classifier, calibrate its threshold by 5-fold cross-validation, and
    write the model file."""
    import yaml
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    from vectorstore.embeddings import MiniLMEmbedder

    gazetteer = Gazetteer()
    questions: list[str] = []
    routes: list[str] = []
    for path in datasets:
        for item in yaml.safe_load(path.read_text(encoding="utf-8"))["questions"]:
            questions.append(route_text(str(item["question"]), gazetteer))
            routes.append(str(item["route"]))
    vectors = MiniLMEmbedder().embed_documents(questions)
    classifier = LogisticRegression(C=strength, max_iter=5000)
    folds = StratifiedKFold(5, shuffle=True, random_state=SEED)
    held_out = cross_val_predict(classifier, vectors, routes, cv=folds, method="predict_proba")
    classes = sorted(set(routes))
    threshold, figures = calibrate(held_out, routes, classes)
    classifier.fit(vectors, routes)
    assert list(classifier.classes_) == classes
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        out,
        weights=classifier.coef_.astype(np.float32),
        bias=classifier.intercept_.astype(np.float32),
        routes=np.asarray(classes),
        threshold=np.float32(threshold),
    )
    return {"examples": len(routes), "threshold": threshold, **figures}


if __name__ == "__main__":
    if sys.argv[1:2] != ["build"]:
        sys.exit("usage: python -m chatbot.intent build [DATASET.yaml ...]")
    from core.offline import enforce_offline

    enforce_offline()
    print(build([Path(p) for p in sys.argv[2:]] or list(DEFAULT_DATASETS)))
