"""Every setting in one place: argument, then environment variable, then the documented default."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

DEFAULT_MODEL = "all-MiniLM-L6-v2"
REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    """Retrieval and answering defaults; `threshold` is calibrated by benchmarks/quality.py."""

    k: int = 5  # passages shown with an answer
    mode: str = "hybrid"  # dense | bm25 | hybrid
    candidates: int = 30  # per retriever, before fusion
    rrf_k: int = 60  # reciprocal rank fusion constant
    bm25_weight: float = 1.5  # weight of the BM25 ranking in the fusion (dense: 1); tuned on the benchmark
    max_quotes: int = 3
    reader: str = "on"  # on: the shipped reader decides; off: the heuristic scorer alone; or a folder
    reader_candidates: int = 16  # sentences the reader reads per question (latency cap)
    threshold: float = 0.5  # heuristic scorer only: below this best score it abstains (the reader's is in its file)
    chunk_tokens: int = 200  # target chunk length in model tokens (hard limit: the model's window)
    overlap_tokens: int = 40  # sentences carried over from the previous chunk, up to this many tokens
    max_file_mb: float = 20.0  # larger files are skipped with a reason


def env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def resolve_index_path(path: str | os.PathLike[str] | None = None) -> Path:
    """--index, then QA_INDEX, then ./index."""
    return Path(path or env("QA_INDEX", "index")).expanduser()


def resolve_model(model: str | None = None) -> str:
    """--model, then QA_MODEL, then the bundled all-MiniLM-L6-v2."""
    return model or env("QA_MODEL", DEFAULT_MODEL) or DEFAULT_MODEL


def default_documents() -> Path:
    """./seeds when it exists, else the seeds folder of this checkout."""
    here = Path("seeds")
    return here if here.is_dir() else REPO_ROOT / "seeds"


def load_settings(**overrides: object) -> Settings:
    """Defaults, then QA_* environment variables, then explicit overrides that are not None."""
    settings = Settings()
    for name, kind in (("k", int), ("mode", str), ("reader", str), ("threshold", float), ("max_file_mb", float),
                       ("bm25_weight", float)):
        value = env(f"QA_{name.upper()}")
        if value is not None:
            settings = replace(settings, **{name: kind(value)})
    given = {key: value for key, value in overrides.items() if value is not None}
    return replace(settings, **given)
