"""ONNX models the project serves on ONNX Runtime without torch (the reranker, the ONNX encoders), and how they are made.

Serving (onnxruntime and tokenizers only): `load_tokenizer`, `open_session`, `read_manifest` (a model file is trusted
only when its sha256 matches the manifest written beside it). Making (needs torch and onnx, `pip install -e '.[train]'`;
torch is imported inside the functions): `export_onnx`, `quantise_int8`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

OPSET = 17


class ModelFilesError(Exception):
    """A model's files are missing, unreadable or do not match their manifest; the message says which. Callers turn
    it into their own error with the way to rebuild the files."""


class ModelFilesMissing(ModelFilesError):
    """A model's file is not there at all (never built, or built elsewhere)."""


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_manifest(model: Path, manifest: Path, others: Sequence[Path] = (), *, verify: bool = True) -> dict[str, Any]:
    """The manifest beside `model`, after checking that every file is there and (when `verify`) that the model's
    sha256 is the one the manifest records. Raises ModelFilesError saying what is wrong."""
    for path in (model, *others, manifest):
        if not path.is_file():
            raise ModelFilesMissing(f"file {path} is missing")
    try:
        recorded: dict[str, Any] = json.loads(manifest.read_text(encoding="utf-8"))
        expected = recorded["model_sha256"]
    except (ValueError, KeyError, TypeError) as error:
        raise ModelFilesError(f"manifest {manifest} cannot be read ({error})") from error
    if verify and file_sha256(model) != expected:
        raise ModelFilesError(f"weights {model} do not match their manifest (damaged or replaced)")
    return recorded


def load_tokenizer(path: Path):
    from tokenizers import Tokenizer

    return Tokenizer.from_file(str(path))


def open_session(path: Path, threads: int | None = None):
    """An ONNX Runtime session on the CPU, quiet; `threads` caps its intra-op threads (default: one per core)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    if threads:
        options.intra_op_num_threads = threads
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def export_onnx(
    module, sample: Mapping[str, np.ndarray], path: Path, input_axes: Mapping[int, str], outputs: Mapping[str, Mapping[int, str]]
) -> None:
    """A torch module to ONNX (opset 17, the TorchScript exporter). `sample` names the inputs in the module's argument
    order; `input_axes` are their dynamic axes (one name per axis, shared by every input, so the graph knows they
    agree); `outputs` names the outputs with their dynamic axes."""
    import torch

    module.eval()
    names = list(sample)
    torch.onnx.export(
        module,
        tuple(torch.from_numpy(sample[name]) for name in names),
        str(path),
        input_names=names,
        output_names=list(outputs),
        dynamic_axes={name: dict(input_axes) for name in names} | {name: dict(axes) for name, axes in outputs.items()},
        opset_version=OPSET,
        dynamo=False,
    )


def quantise_int8(source: Path, target: Path, *, per_channel: bool = False, op_types: Sequence[str] | None = None) -> None:
    """Dynamic int8 quantisation of the weights (activations are quantised at run time), of every operator type that
    ONNX Runtime can quantise or only of `op_types`."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(
        str(source),
        str(target),
        weight_type=QuantType.QInt8,
        per_channel=per_channel,
        op_types_to_quantize=list(op_types) if op_types else None,
        # nodes that the transformer optimiser fused (com.microsoft domain) defeat shape inference: their outputs are float
        extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
    )
