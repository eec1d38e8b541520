"""The bundled model on both runtimes: same vectors, sensible rankings, sentence vectors from one pass."""

from __future__ import annotations

import shutil
import warnings

import numpy as np
import pytest

from qa import embedding
from qa.embedding import export_onnx, load_embedder
from qa.errors import ModelNotFound, OnnxExportError
from qa.tokenizer import resolve_model_dir

SENTENCES = [
    "The makeshift detention facility held an estimated 4,000 IS fighters.",
    "The United Nations said as many as 45,000 residents were displaced.",
    "Basil grows best beside the greenhouse door.",
    "The lighthouse keeper is named Odalys Brenner.",
    "Coalition forces used Apache helicopters and Bradley fighting vehicles.",
]


@pytest.fixture(scope="module")
def onnx():
    return load_embedder(backend="onnx")


@pytest.fixture(scope="module")
def torch_embedder():
    return load_embedder(backend="torch")


def test_onnx_matches_sentence_transformers(onnx, torch_embedder) -> None:
    from sentence_transformers import SentenceTransformer

    reference = SentenceTransformer(str(resolve_model_dir("all-MiniLM-L6-v2")), device="cpu")
    expected = reference.encode(SENTENCES, normalize_embeddings=True)
    assert np.allclose(torch_embedder.embed(SENTENCES), expected, atol=1e-4)
    cosine = (onnx.embed(SENTENCES) * expected).sum(axis=1)
    assert cosine.min() > 0.98, cosine
    assert onnx.dim == torch_embedder.dim == 384
    assert (onnx.backend, torch_embedder.backend) == ("onnx", "torch")


@pytest.mark.parametrize("question,index", [("How many fighters were held?", 0),
                                            ("Who keeps the lighthouse?", 3),
                                            ("What helicopters were used?", 4)])
def test_question_ranks_its_sentence_first(onnx, question: str, index: int) -> None:
    scores = onnx.embed(SENTENCES) @ onnx.embed([question])[0]
    assert int(np.argmax(scores)) == index


def test_span_vectors_from_one_pass(onnx) -> None:
    text = " ".join(SENTENCES)
    spans, at = [], 0
    for s in SENTENCES:
        spans.append((at, at + len(s)))
        at += len(s) + 1
    vectors, span_vectors = onnx.embed_with_spans([text, SENTENCES[0]], [spans, [(0, 10)]])
    assert vectors.shape == (2, 384) and span_vectors[0].shape == (5, 384)
    assert np.allclose(np.linalg.norm(span_vectors[0], axis=1), 1, atol=1e-5)
    # int8 activations are quantised per batch, so padding moves vectors very slightly
    assert float(vectors[0] @ onnx.embed([text])[0]) > 0.99
    question = onnx.embed(["Who keeps the lighthouse?"])[0]
    assert int(np.argmax(span_vectors[0] @ question)) == 3


def test_long_input_is_truncated_not_refused(onnx) -> None:
    vector = onnx.embed(["word " * 2000])
    assert vector.shape == (1, 384) and np.isfinite(vector).all()


def test_onnx_export_is_cached(onnx) -> None:
    path = export_onnx(resolve_model_dir("all-MiniLM-L6-v2"))
    before = path.stat().st_mtime_ns
    assert export_onnx(resolve_model_dir("all-MiniLM-L6-v2")) == path
    assert path.stat().st_mtime_ns == before


def test_unknown_model_is_a_clear_error(tmp_path) -> None:
    with pytest.raises(ModelNotFound, match="nothing is downloaded"):
        load_embedder("someone/not-a-local-model")
    with pytest.raises(ModelNotFound):
        load_embedder(str(tmp_path))


def test_onnx_failure_falls_back_to_torch_with_one_warning_naming_the_cause(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("QA_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(embedding, "_CACHE", {})
    cached = embedding.onnx_cache_file(resolve_model_dir("all-MiniLM-L6-v2"))
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"not an ONNX model")  # e.g. a disk that filled up mid-write
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        embedder = load_embedder()
    assert embedder.backend == "torch"
    about_onnx = [str(w.message) for w in caught if "ONNX" in str(w.message)]
    assert len(about_onnx) == 1, about_onnx
    assert about_onnx[0].startswith("The ONNX runtime cannot run all-MiniLM-L6-v2 (")
    assert "INVALID_PROTOBUF" in about_onnx[0] and str(cached) in about_onnx[0]
    assert "embedding with torch instead" in about_onnx[0]


def test_failed_export_names_its_cause(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("QA_CACHE_DIR", str(tmp_path / "cache"))
    model_dir = tmp_path / "model"
    shutil.copytree(resolve_model_dir("all-MiniLM-L6-v2"), model_dir)
    (model_dir / "model.safetensors").write_bytes(b"truncated")
    with pytest.raises(OnnxExportError, match=r"Exporting .*model to ONNX failed: .*(safetensors|header)"):
        export_onnx(model_dir)
    assert not list((tmp_path / "cache").rglob("*.onnx"))


def test_length_buckets_keep_similar_lengths_together() -> None:
    from qa.embedding import length_buckets

    lengths = [500, 20, 30, 480, 25, 1000]
    batches = length_buckets(lengths, 2)
    assert sorted(i for b in batches for i in b) == list(range(6))
    assert all(len(b) <= 2 for b in batches)
    assert batches == [[1, 4], [2], [3, 0], [5]]
