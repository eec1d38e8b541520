"""`Embedder`: text to unit vectors. The default runs the bundled model as int8 ONNX (about twice as
fast as torch, cosine 0.99 to its vectors); sentence-transformers on torch is the fallback and the
reference. Heavy packages are imported inside the backends, never when this module is imported.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import threading
import warnings
from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .config import resolve_cache_dir, resolve_model, resolve_threads
from .errors import ModelNotFound, OnnxExportError, UserInputError
from .tokenizer import Tokenizer, load_tokenizer, resolve_model_dir

Step = Callable[[int], None]


class Embedder(ABC):
    """One seam for every embedding runtime: a batch forward pass giving token states."""

    name: str
    backend: str
    dim: int
    tokenizer: Tokenizer

    @abstractmethod
    def _forward(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray, list[list[tuple[int, int]]]]:
        """(hidden states B×L×D, attention mask B×L, per text the char offsets of its L tokens;
        special and padding tokens have offsets (0, 0) and are told apart by `_content`)."""

    def _batches(self, texts: list[str], batch_size: int):
        """Texts of similar length together: a batch ends at `batch_size` or where a text is over
        half as long again as the batch's first. Little padding is less work, and since int8
        activations are quantised per batch, a vector then barely depends on its batch mates."""
        return length_buckets([len(t) for t in texts], batch_size)

    def embed(self, texts: list[str], *, batch_size: int = 32, progress: Step | None = None) -> np.ndarray:
        """(n, dim) float32 L2-normalised: mean pooling over all tokens, as sentence-transformers does."""
        vectors, _ = self._run(texts, None, batch_size, progress)
        return vectors

    def embed_with_spans(self, texts: list[str], spans: list[list[tuple[int, int]]], *,
                         batch_size: int = 32, progress: Step | None = None) -> tuple[np.ndarray, list[np.ndarray]]:
        """Text vectors plus, from the same pass, one vector per character span (its tokens' mean)."""
        return self._run(texts, spans, batch_size, progress)

    def _run(self, texts: list[str], spans: list[list[tuple[int, int]]] | None, batch_size: int,
             progress: Step | None) -> tuple[np.ndarray, list[np.ndarray]]:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        span_out: list[np.ndarray] = [np.zeros((0, self.dim), np.float32)] * len(texts)
        for batch in self._batches(texts, batch_size):
            hidden, mask, offsets = self._forward([texts[i] for i in batch])
            m = mask[..., None].astype(np.float32)
            pooled = (hidden * m).sum(axis=1) / np.maximum(m.sum(axis=1), 1e-9)
            out[batch] = _normalise(pooled)
            if spans is not None:
                for row, i in enumerate(batch):
                    span_out[i] = self._pool_spans(hidden[row], mask[row], offsets[row], spans[i], out[i])
            if progress:
                progress(len(batch))
        return out, span_out

    @staticmethod
    def _pool_spans(hidden: np.ndarray, mask: np.ndarray, offsets: list[tuple[int, int]],
                    spans: list[tuple[int, int]], fallback: np.ndarray) -> np.ndarray:
        starts = np.array([a for a, _ in offsets])
        ends = np.array([b for _, b in offsets])
        content = (mask > 0) & (ends > starts)
        vectors = np.empty((len(spans), hidden.shape[-1]), dtype=np.float32)
        for n, (a, b) in enumerate(spans):
            inside = content & (starts < b) & (ends > a)
            vectors[n] = hidden[inside].mean(axis=0) if inside.any() else fallback
        return _normalise(vectors)


def length_buckets(lengths: list[int], batch_size: int, *, stretch: float = 1.5,
                   slack: int = 40) -> list[list[int]]:
    """Indices sorted by length, cut into batches of at most `batch_size` whose longest item is
    at most `stretch` times (plus `slack`) the shortest."""
    order = sorted(range(len(lengths)), key=lengths.__getitem__)
    batches: list[list[int]] = []
    for i in order:
        if batches and len(batches[-1]) < batch_size and \
                lengths[i] <= lengths[batches[-1][0]] * stretch + slack:
            batches[-1].append(i)
        else:
            batches.append([i])
    return batches


def _normalise(x: np.ndarray) -> np.ndarray:
    return (x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)).astype(np.float32)


class OnnxEmbedder(Embedder):
    """onnxruntime + tokenizers: 0.1 s to import, int8 weights quantised per channel."""

    backend = "onnx"

    def __init__(self, name: str, model_dir: Path) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer as HFTokenizer

        self.name, self.model_dir = name, model_dir
        self.tokenizer = load_tokenizer(name)
        self.dim = _dimension(model_dir)
        onnx_file = export_onnx(model_dir)
        if hasattr(ort, "disable_telemetry_events"):
            ort.disable_telemetry_events()  # no usage events, no look-ups: documents stay private
        options = ort.SessionOptions()
        options.intra_op_num_threads = resolve_threads()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        self.session = ort.InferenceSession(str(onnx_file), options, providers=["CPUExecutionProvider"])
        self.inputs = {i.name for i in self.session.get_inputs()}
        self.hf = HFTokenizer.from_file(str(model_dir / "tokenizer.json"))
        self.hf.enable_truncation(self.tokenizer.window)
        self.hf.enable_padding(pad_id=self.hf.token_to_id("[PAD]") or 0)
        self._lock = threading.Lock()

    def _forward(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray, list[list[tuple[int, int]]]]:
        with self._lock:  # the tokenizer's padding state is shared
            encodings = self.hf.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self.inputs:
            feeds["token_type_ids"] = np.zeros_like(ids)
        hidden = self.session.run(None, feeds)[0]
        offsets = [[(a, b) if not special else (0, 0)
                    for (a, b), special in zip(e.offsets, e.special_tokens_mask, strict=True)]
                   for e in encodings]
        return hidden, mask, offsets


class TorchEmbedder(Embedder):
    """sentence-transformers on torch: works for any model it can load; the reference vectors."""

    backend = "torch"

    def __init__(self, name: str, model_dir: Path) -> None:
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise ModelNotFound("The torch backend needs sentence-transformers: "
                                "pip install sentence-transformers") from exc
        from tokenizers import Tokenizer as HFTokenizer

        self.name, self.model_dir = name, model_dir
        try:
            self.model = SentenceTransformer(str(model_dir), device="cpu", local_files_only=True)
        except Exception as exc:
            raise ModelNotFound(f"Cannot load the model at {model_dir}: {exc}") from exc
        self.tokenizer = load_tokenizer(name)
        dimension = getattr(self.model, "get_embedding_dimension", None) or \
            self.model.get_sentence_embedding_dimension
        self.dim = int(dimension())
        self.hf = HFTokenizer.from_file(str(model_dir / "tokenizer.json"))
        self.hf.enable_truncation(min(self.tokenizer.window, self.model.max_seq_length))
        self.hf.no_padding()

    def _forward(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray, list[list[tuple[int, int]]]]:
        import torch

        features = (getattr(self.model, "preprocess", None) or self.model.tokenize)(texts)
        with torch.inference_mode():
            output = self.model.forward(features)
        hidden = output["token_embeddings"].float().numpy()
        mask = features["attention_mask"].numpy()
        length = hidden.shape[1]
        offsets = []
        for e in self.hf.encode_batch(texts):
            row = [(a, b) if not s else (0, 0) for (a, b), s in zip(e.offsets, e.special_tokens_mask, strict=True)]
            offsets.append((row + [(0, 0)] * length)[:length])
        return hidden, mask, offsets


def _dimension(model_dir: Path) -> int:
    for file, key in (("1_Pooling/config.json", "word_embedding_dimension"), ("config.json", "hidden_size")):
        path = model_dir / file
        if path.exists():
            value = json.loads(path.read_text()).get(key)
            if isinstance(value, int):
                return value
    raise ModelNotFound(f"Cannot tell the vector dimension of the model at {model_dir}.")


def onnx_supported(model_dir: Path) -> bool:
    """Mean-pooled, normalised BERT-like models export cleanly; others use torch."""
    pooling = model_dir / "1_Pooling" / "config.json"
    modules = model_dir / "modules.json"
    if not (pooling.exists() and modules.exists() and (model_dir / "tokenizer.json").exists()):
        return False
    config = json.loads(pooling.read_text())
    mean_only = config.get("pooling_mode_mean_tokens") and not any(
        config.get(k) for k in ("pooling_mode_cls_token", "pooling_mode_max_tokens",
                                "pooling_mode_mean_sqrt_len_tokens"))
    types = [m.get("type", "") for m in json.loads(modules.read_text())]
    return bool(mean_only) and any(t.endswith("Normalize") for t in types) and len(types) == 3


def cache_dir() -> Path:
    return resolve_cache_dir()


# Part of the cache key: changing how the model is exported, fused or quantised must re-export it.
ONNX_RECIPE = "opset17-eager-bertfused-int8-per-channel"


def onnx_cache_file(model_dir: Path) -> Path:
    """Where the int8 export of `model_dir` is cached, keyed by its weights file and `ONNX_RECIPE`."""
    weights = next((model_dir / n for n in ("model.safetensors", "pytorch_model.bin")
                    if (model_dir / n).exists()), None)
    if weights is None:
        raise ModelNotFound(f"No weights in {model_dir}.")
    stat = weights.stat()
    key = hashlib.sha256(f"{model_dir.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|{ONNX_RECIPE}".encode()).hexdigest()[:16]
    return cache_dir() / "onnx" / key / "model-int8.onnx"


def export_onnx(model_dir: Path) -> Path:
    """Export the model to int8 ONNX once and cache it; later runs only read the cached file."""
    target = onnx_cache_file(model_dir)
    folder = target.parent
    if target.exists():
        return target
    folder.mkdir(parents=True, exist_ok=True)
    from filelock import FileLock

    with FileLock(folder / ".lock"):  # another process may be exporting the same model
        if target.exists():
            return target
        _export(model_dir, folder, target)
    return target


def _export(model_dir: Path, folder: Path, target: Path) -> None:
    """Run the export in a child process: torch's exporter and the quantiser print warnings and
    configure the root logger, and that must not leak into the caller's process."""
    root = str(Path(__file__).resolve().parent.parent)
    code = "import sys; sys.path.insert(0, sys.argv[1]); from qa.embedding import _export_here; _export_here(*sys.argv[2:])"
    result = subprocess.run([sys.executable, "-c", code, root, str(model_dir), str(folder), str(target)],
                            capture_output=True, text=True)
    if result.returncode != 0:
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        raise OnnxExportError(f"Exporting {model_dir} to ONNX failed: {lines[-1] if lines else result.returncode}")


def _export_here(model_dir_arg: str, folder_arg: str, target_arg: str) -> None:
    """torch -> ONNX (eager attention, whose graph onnxruntime's BERT fusions recognise) -> fused
    attention, LayerNorm and GELU -> int8 weights per channel (per tensor loses too much: cosine 0.95)."""
    import onnx
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.transformers.optimizer import optimize_model
    from transformers import AutoConfig, AutoModel

    model_dir, folder, target = Path(model_dir_arg), Path(folder_arg), Path(target_arg)

    class Wrapped(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inner = AutoModel.from_pretrained(str(model_dir), local_files_only=True,
                                                   attn_implementation="eager")

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.inner(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state

    model = Wrapped().eval()
    config = AutoConfig.from_pretrained(str(model_dir), local_files_only=True)
    sample = torch.ones((1, 8), dtype=torch.int64)
    plain = folder / f"model-fp32.{os.getpid()}.onnx"
    fused = folder / f"model-fused.{os.getpid()}.onnx"
    quantised = folder / f"model-int8.{os.getpid()}.onnx"
    axes = {0: "batch", 1: "sequence"}
    try:
        torch.onnx.export(model, (sample, sample, torch.zeros_like(sample)), str(plain),
                          input_names=["input_ids", "attention_mask", "token_type_ids"],
                          output_names=["last_hidden_state"],
                          dynamic_axes={"input_ids": axes, "attention_mask": axes,
                                        "token_type_ids": axes, "last_hidden_state": axes},
                          opset_version=17, dynamo=False)
        optimised = optimize_model(str(plain), model_type="bert", num_heads=config.num_attention_heads,
                                   hidden_size=config.hidden_size)
        optimised.save_model_to_file(str(fused))
        quantize_dynamic(str(fused), str(quantised), per_channel=True, weight_type=QuantType.QInt8,
                         extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
        os.replace(quantised, target)
    finally:
        for extra in (plain, fused, quantised, *folder.glob("*.onnx.data")):
            extra.unlink(missing_ok=True)


_CACHE: dict[tuple[str, str], Embedder] = {}
_CACHE_LOCK = threading.Lock()


def load_embedder(model: str | None = None, *, backend: str = "auto") -> Embedder:
    """The embedder for `model` (default: bundled all-MiniLM-L6-v2), shared within the process."""
    name = resolve_model(model)
    if backend not in ("auto", "onnx", "torch"):
        raise UserInputError(f"Unknown backend {backend!r}; choose auto, onnx or torch.")
    with _CACHE_LOCK:
        if (name, backend) in _CACHE:
            return _CACHE[(name, backend)]
        model_dir = resolve_model_dir(name)
        if backend == "onnx" or (backend == "auto" and onnx_supported(model_dir) and _has_onnxruntime()):
            try:
                embedder: Embedder = OnnxEmbedder(name, model_dir)
            except (ModelNotFound, UserInputError):
                raise
            except Exception as exc:
                if backend == "onnx":
                    raise
                warnings.warn(f"The ONNX runtime cannot run {name} ({type(exc).__name__}: {exc}); embedding "
                              "with torch instead, about half as fast and with slightly different vectors.",
                              RuntimeWarning, stacklevel=2)
                embedder = TorchEmbedder(name, model_dir)
        else:
            embedder = TorchEmbedder(name, model_dir)
        _CACHE[(name, backend)] = embedder
        return embedder


def _has_onnxruntime() -> bool:
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True

