"""FAISS files: read, create, convert between exact (flat) and approximate (IVF) search, write."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .errors import IndexCorrupt

IVF_THRESHOLD = 50_000  # chunks; from here exact search costs more than 20 ms a query on 2 cores


def read_vectors(file: Path) -> Any:
    import faiss

    try:
        return faiss.read_index(str(file))
    except Exception as exc:
        raise IndexCorrupt(f"{file} is not a readable FAISS index ({exc}); rebuild the index.") from exc


def write_vectors(index: Any, file: Path) -> None:
    import faiss

    faiss.write_index(index, str(file))


def new_faiss(dim: int, index_type: str) -> Any:
    import faiss

    if index_type == "flat":
        return faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
    raise ValueError(f"unknown index type {index_type!r}")


def all_vectors(index: Any) -> tuple[np.ndarray, np.ndarray]:
    """(ids, vectors) of every entry of a flat or IVF index."""
    import faiss

    if isinstance(index, faiss.IndexIDMap2):
        ids = faiss.vector_to_array(index.id_map).astype(np.int64)
        return ids, index.index.reconstruct_n(0, index.ntotal)
    ivf = faiss.extract_index_ivf(index)
    ids, vectors = [], []
    invlists = ivf.invlists
    for list_no in range(ivf.nlist):
        size = invlists.list_size(list_no)
        if not size:
            continue
        list_ids = faiss.rev_swig_ptr(invlists.get_ids(list_no), size).copy()
        ids.append(list_ids)
        vectors.append(np.vstack([index.reconstruct(int(i)) for i in list_ids]))
    if not ids:
        return np.zeros(0, np.int64), np.zeros((0, index.d), np.float32)
    return np.concatenate(ids), np.vstack(vectors)


def ivf_from(ids: np.ndarray, vectors: np.ndarray) -> Any:
    """An inverted-file index with float16 vectors: approximate, a third of the memory, fast at scale."""
    import faiss

    n, dim = vectors.shape
    nlist = max(16, int(4 * np.sqrt(n)))
    index = faiss.index_factory(dim, f"IVF{nlist},SQfp16", faiss.METRIC_INNER_PRODUCT)
    rng = np.random.default_rng(0)
    sample = vectors[rng.choice(n, size=min(n, nlist * 64), replace=False)]
    index.train(np.ascontiguousarray(sample, dtype=np.float32))
    index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), ids.astype(np.int64))
    faiss.extract_index_ivf(index).set_direct_map_type(faiss.DirectMap.Hashtable)
    faiss.extract_index_ivf(index).nprobe = max(8, nlist // 16)
    return index


def choose_type(current: str, total: int) -> str:
    """IVF from IVF_THRESHOLD vectors, back to flat below half of it (no flapping in between)."""
    if total >= IVF_THRESHOLD:
        return "ivf"
    if current == "ivf" and total < IVF_THRESHOLD // 2:
        return "flat"
    return current


def convert(index: Any, dim: int, index_type: str) -> Any:
    """The same vectors under the same ids in an index of `index_type`."""
    ids, vectors = all_vectors(index)
    if index_type == "ivf":
        return ivf_from(ids, vectors)
    flat = new_faiss(dim, index_type)
    if len(ids):
        flat.add_with_ids(vectors, ids)
    return flat
