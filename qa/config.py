"""Every setting in one place: argument, then environment variable, then the documented default.

Every QA_* variable is read here and nowhere else, so a value that does not parse becomes one
`UserInputError` naming the variable and what it takes, never a traceback deep in a backend.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from .errors import UserInputError

DEFAULT_MODEL = "all-MiniLM-L6-v2"
REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    """Retrieval and answering defaults; the reader's threshold is calibrated by training/calibrate.py."""

    k: int = 5  # passages shown with an answer
    mode: str = "hybrid"  # dense | bm25 | hybrid
    candidates: int = 30  # per retriever, before fusion
    rrf_k: int = 60  # reciprocal rank fusion constant
    bm25_weight: float = 1.5  # weight of the BM25 ranking in the fusion (dense: 1); tuned on the benchmark
    max_quotes: int = 3
    reader: str = "on"  # on: the shipped reader decides; off: the heuristic scorer alone; or a folder
    reader_candidates: int = 16  # sentences the reader reads per question (latency cap)
    threshold: float | None = None  # abstain below this; None: the reader's calibrated one (or 0.5 with it off)
    chunk_tokens: int = 200  # target chunk length in model tokens (hard limit: the model's window)
    overlap_tokens: int = 40  # sentences carried over from the previous chunk, up to this many tokens
    max_file_mb: float = 20.0  # larger files are skipped with a reason


@dataclass(frozen=True)
class Kind:
    """How one variable's text becomes a value; `expected` is said to the person when it cannot."""

    parse: Callable[[str], Any]
    expected: str


def _integer(low: int, high: int | None = None) -> Kind:
    def parse(text: str) -> int:
        value = int(text)
        if value < low or (high is not None and value > high):
            raise ValueError(text)
        return value

    bound = f"from {low} to {high}" if high is not None else f"of {low} or more"
    return Kind(parse, f"a whole number {bound}")


def _number(low: float | None = None, high: float | None = None, *, above: bool = False) -> Kind:
    def parse(text: str) -> float:
        value = float(text)
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError(text)
        if low is not None and (value <= low if above else value < low):
            raise ValueError(text)
        if high is not None and value > high:
            raise ValueError(text)
        return value

    if low is None:
        return Kind(parse, "a number")
    bound = f"above {low:g}" if above else f"of {low:g} or more"
    return Kind(parse, f"a number {bound}" + (f" and at most {high:g}" if high is not None else ""))


def _choice(*options: str) -> Kind:
    def parse(text: str) -> str:
        if text not in options:
            raise ValueError(text)
        return text

    return Kind(parse, "one of " + ", ".join(options))


def _text(expected: str) -> Kind:
    return Kind(str, expected)


def _auth(text: str) -> tuple[str, str]:
    user, sep, password = text.partition(":")
    if not sep or not user or not password:
        raise ValueError(text)
    return user, password


# Every QA_* variable docqa reads; README's list is checked against these names.
VARIABLES: dict[str, Kind] = {
    "QA_INDEX": _text("an index folder"),
    "QA_MODEL": _text("a model name or folder"),
    "QA_BACKEND": _choice("auto", "onnx", "torch"),
    "QA_THREADS": _integer(1),
    "QA_CACHE_DIR": _text("a folder"),
    "QA_K": _integer(1, 50),
    "QA_MODE": _choice("hybrid", "dense", "bm25"),
    "QA_THRESHOLD": _number(),
    "QA_READER": _text("on, off, or the folder of a trained reader"),
    "QA_BM25_WEIGHT": _number(0.0),
    "QA_MAX_FILE_MB": _number(0.0, above=True),
    "QA_HOST": _text("an address to listen on"),
    "QA_PORT": _integer(1, 65535),
    "QA_AUTH": Kind(_auth, "USER:PASSWORD, e.g. alice:s3cret"),
    "QA_MAX_UPLOAD_MB": _number(0.1, 1000.0),
}

# Settings fields that an environment variable may set.
SETTING_VARIABLES = {"k": "QA_K", "mode": "QA_MODE", "threshold": "QA_THRESHOLD", "reader": "QA_READER",
                     "max_file_mb": "QA_MAX_FILE_MB", "bm25_weight": "QA_BM25_WEIGHT"}


def env(name: str, default: str | None = None) -> str | None:
    """The raw text of an environment variable; empty counts as unset."""
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def read(name: str) -> Any:
    """The parsed value of QA_* variable `name`, or None when it is unset."""
    raw = env(name)
    if raw is None:
        return None
    kind = VARIABLES[name]
    try:
        return kind.parse(raw.strip())
    except ValueError:
        raise UserInputError(f"{name}={raw!r} is not valid: it takes {kind.expected}. "
                             f"Change it or unset it.") from None


def resolve(name: str, given: Any, default: Any) -> Any:
    """The argument when given, else the environment variable `name`, else `default`."""
    if given is not None:
        return given
    value = read(name)
    return default if value is None else value


def resolve_index_path(path: str | os.PathLike[str] | None = None) -> Path:
    """--index, then QA_INDEX, then ./index."""
    return Path(resolve("QA_INDEX", path or None, "index")).expanduser()


def resolve_model(model: str | None = None) -> str:
    """--model, then QA_MODEL, then the bundled all-MiniLM-L6-v2."""
    return resolve("QA_MODEL", model or None, DEFAULT_MODEL)


def requested_model(model: str | None = None) -> str | None:
    """--model, then QA_MODEL; None means the index's own model (the bundled one for a new index)."""
    return resolve("QA_MODEL", model or None, None)


def resolve_backend(backend: str | None = None) -> str:
    """--backend, then QA_BACKEND, then auto (ONNX where the model allows it, else torch)."""
    return resolve("QA_BACKEND", backend, "auto")


def resolve_threads(threads: int | None = None) -> int:
    """Threads for the ONNX runtime: the argument, then QA_THREADS, then every core."""
    return resolve("QA_THREADS", threads, os.cpu_count() or 1)


def resolve_cache_dir(path: str | os.PathLike[str] | None = None) -> Path:
    """Where the exported ONNX model is kept: the argument, then QA_CACHE_DIR, then ~/.cache/docqa."""
    return Path(resolve("QA_CACHE_DIR", path, Path.home() / ".cache" / "docqa")).expanduser()


def resolve_serve(*, host: str | None = None, port: int | None = None, auth: str | None = None,
                  max_upload_mb: float | None = None) -> dict[str, Any]:
    """`qa serve`'s options: each argument, then QA_HOST, QA_PORT, QA_AUTH, QA_MAX_UPLOAD_MB,
    then 127.0.0.1, 7860, no login, 20 MB. `auth` comes back as (user, password) or None."""
    credentials = None
    if auth is not None:
        try:
            credentials = _auth(auth)
        except ValueError:
            raise UserInputError("--auth takes USER:PASSWORD, e.g. --auth alice:s3cret") from None
    return {"host": resolve("QA_HOST", host, "127.0.0.1"),
            "port": resolve("QA_PORT", port, 7860),
            "auth": resolve("QA_AUTH", credentials, None),
            "max_upload_mb": resolve("QA_MAX_UPLOAD_MB", max_upload_mb, 20.0)}


def default_documents() -> Path:
    """./seeds when it exists, else the seeds folder of this checkout."""
    here = Path("seeds")
    return here if here.is_dir() else REPO_ROOT / "seeds"


def load_settings(**overrides: object) -> Settings:
    """Defaults, then QA_* environment variables, then explicit overrides that are not None."""
    settings = Settings()
    for field, name in SETTING_VARIABLES.items():
        value = read(name)
        if value is not None:
            settings = replace(settings, **{field: value})
    given = {key: value for key, value in overrides.items() if value is not None}
    return replace(settings, **given)


def fault_point() -> str | None:
    """DOCQA_FAULT: the named point inside a commit where the tests make a build crash (test-only)."""
    return env("DOCQA_FAULT")
