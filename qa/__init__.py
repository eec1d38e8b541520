"""docqa: ask questions of your own documents and get verbatim quoted answers.

    from qa import Index, Retriever, Answerer
    index = Index.build(["docs/"], path="index/")
    answer = Answerer(Retriever(index)).ask("How many fighters were held?")

Names are imported lazily so that `import qa` stays cheap (no torch, no FAISS until needed).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "Index": "qa.index", "DocumentInfo": "qa.index",
    "Retriever": "qa.retriever", "Answerer": "qa.answerer",
    "Answer": "qa.models", "Quote": "qa.models", "Passage": "qa.models", "Document": "qa.models",
    "Page": "qa.models", "Sentence": "qa.models", "Chunk": "qa.models", "BuildReport": "qa.models",
    "Skipped": "qa.models", "ShortAnswer": "qa.models",
    "Reader": "qa.reader", "Reading": "qa.reader", "load_reader": "qa.reader", "ReaderError": "qa.errors",
    "Settings": "qa.config", "load_settings": "qa.config",
    "QAError": "qa.errors", "IndexNotFound": "qa.errors", "IndexCorrupt": "qa.errors",
    "ModelMismatch": "qa.errors", "IndexLocked": "qa.errors", "DocumentError": "qa.errors",
    "ModelNotFound": "qa.errors", "UserInputError": "qa.errors",
    "Embedder": "qa.embedding", "load_embedder": "qa.embedding",
}
__all__ = [
    "Answer",
    "Answerer",
    "BuildReport",
    "Chunk",
    "Document",
    "DocumentError",
    "DocumentInfo",
    "Embedder",
    "Index",
    "IndexCorrupt",
    "IndexLocked",
    "IndexNotFound",
    "ModelMismatch",
    "ModelNotFound",
    "Page",
    "Passage",
    "QAError",
    "Quote",
    "Reader",
    "ReaderError",
    "Reading",
    "Retriever",
    "Sentence",
    "Settings",
    "ShortAnswer",
    "Skipped",
    "UserInputError",
    "load_embedder",
    "load_reader",
    "load_settings",
]

if TYPE_CHECKING:
    from .answerer import Answerer
    from .config import Settings, load_settings
    from .embedding import Embedder, load_embedder
    from .errors import (
        DocumentError,
        IndexCorrupt,
        IndexLocked,
        IndexNotFound,
        ModelMismatch,
        ModelNotFound,
        QAError,
        ReaderError,
        UserInputError,
    )
    from .index import DocumentInfo, Index
    from .models import (
        Answer,
        BuildReport,
        Chunk,
        Document,
        Page,
        Passage,
        Quote,
        Sentence,
        ShortAnswer,
        Skipped,
    )
    from .reader import Reader, Reading, load_reader
    from .retriever import Retriever


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'qa' has no attribute {name!r}")
