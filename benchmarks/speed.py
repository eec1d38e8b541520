"""Speed, memory and scale of docqa, with side-by-side ratios measured in one run.

    python benchmarks/speed.py [--sizes 1000,10000,100000] [--big] [--paragraphs 600] [--repeats 3]

Indexing and cold-start figures run the real CLI as new processes. Indexing: the first 600 SQuAD
paragraphs, one document each; `qa index build` and a plain sentence-transformers process encoding
the same paragraphs run alternately, so a loaded machine slows both alike; the figure is their ratio. The 10k/100k (and 1M with
--big) latency figures fill the store with chunks whose vectors are real vectors of the sample
plus small noise (embedding 100k chunks for real takes half an hour on 2 cores); the figures say so.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SQUAD = ROOT.parent / "shared" / "data" / "squad-dev-v1.1-part.json"
TIME = "/usr/bin/time"


def sentence_pool() -> tuple[list[str], list[str]]:
    """Real English sentences and questions (SQuAD), or a small grammar when the data is missing."""
    if SQUAD.exists():
        data = json.loads(SQUAD.read_text())["data"]
        sentences, questions = [], []
        for article in data:
            for para in article["paragraphs"]:
                sentences += [s for s in re.split(r"(?<=[.!?])\s+", para["context"]) if len(s) > 20]
                questions += [qa["question"] for qa in para["qas"]]
        return sentences, questions
    rng = random.Random(0)
    nouns = ["harbor", "council", "river", "museum", "railway", "school", "market", "bridge"]
    verbs = ["opened", "closed", "rebuilt", "expanded", "visited", "funded"]
    sentences = [f"The {rng.choice(nouns)} was {rng.choice(verbs)} in {rng.randint(1800, 2020)} "
                 f"by {rng.randint(2, 900)} workers." for _ in range(5000)]
    return sentences, [f"When was the {n} {v}?" for n in nouns for v in verbs]


def write_corpus(folder: Path, n_docs: int, sentences: list[str], seed: int = 0) -> None:
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n_docs):
        paragraphs = [" ".join(rng.sample(sentences, rng.randint(4, 8))) for _ in range(rng.randint(2, 5))]
        (folder / f"doc-{i:05d}.txt").write_text("\n\n".join(paragraphs))


def timed(cmd: list[str], env: dict | None = None) -> tuple[float, float, str]:
    """(wall seconds, peak RSS MB, stdout) of a new process."""
    started = time.perf_counter()
    result = subprocess.run([TIME, "-f", "%M", *cmd], capture_output=True, text=True, cwd=ROOT,
                            env={**os.environ, **(env or {})})
    wall = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(f"{cmd} failed:\n{result.stderr[-2000:]}")
    rss = int(result.stderr.strip().splitlines()[-1]) / 1024
    return wall, rss, result.stdout


def current_db(index: Path) -> Path:
    manifest = json.loads((index / "manifest.json").read_text())
    return index / manifest["generation"] / "docqa.sqlite"


ST_SCRIPT = """
import pathlib, sys
from sentence_transformers import SentenceTransformer
texts = [p.read_text() for p in sorted(pathlib.Path(sys.argv[1]).glob("*.txt"))]
model = SentenceTransformer(sys.argv[2], device="cpu")
model.encode(texts, batch_size=32, normalize_embeddings=True)
print(len(texts))
"""


def squad_paragraphs(folder: Path, n: int) -> int:
    """The first `n` SQuAD paragraphs, one text file each, as the product's users would index them."""
    folder.mkdir(parents=True, exist_ok=True)
    paragraphs = [(article["title"], i, para["context"]) for article in json.loads(SQUAD.read_text())["data"]
                  for i, para in enumerate(article["paragraphs"])][:n]
    for title, i, text in paragraphs:
        (folder / f"{title}-{i:03d}.txt").write_text(text)
    return len(paragraphs)

SERVE_SCRIPT = """
import sys
from qa import Answerer, Index, Retriever
answerer = Answerer(Retriever(Index.open(sys.argv[1])))
for line in open(sys.argv[2]):
    answerer.ask(line.strip())
"""


def percentiles(values: list[float]) -> tuple[float, float]:
    arr = np.array(values) * 1000
    return float(np.percentile(arr, 50)), float(np.percentile(arr, 95))


def synthetic_index(path: Path, real: Path, size: int, index_type: str = "auto") -> None:
    """An index of `size` chunks made from the real sample's chunks, vectors plus noise."""
    from qa import store
    from qa.models import Chunk, Document, Page, Sentence

    db = sqlite3.connect(current_db(real))
    real_ix = store.read_vectors(current_db(real).parent / store.VECTORS)
    rows = db.execute('SELECT id, text, tokens FROM chunks ORDER BY id').fetchall()
    sentences = {}
    for cid, start, end, text, blob, cstart in db.execute(
            'SELECT s.chunk_id, s.start, s."end", s.text, s.vector, c.start FROM sentences s '
            'JOIN chunks c ON c.id = s.chunk_id ORDER BY s.chunk_id, s.start'):
        sentences.setdefault(cid, []).append(
            (Sentence(1, start - cstart, end - cstart, text), np.frombuffer(blob, np.float16)))
    rng = np.random.default_rng(0)
    writer = store.Writer(path, model="all-MiniLM-L6-v2", dim=real_ix.d, backend="onnx")
    for n in range(size):
        cid, text, tokens = rows[n % len(rows)]
        vector = real_ix.reconstruct(cid) + rng.normal(0, 0.03, real_ix.d).astype(np.float32)
        vector /= np.linalg.norm(vector)
        sents = sentences[cid]
        chunk = Chunk(1, 0, len(text), text, tuple(s for s, _ in sents), tokens)
        doc = Document(f"/synthetic/{n}.txt", f"synthetic/{n}.txt", "txt", str(n), (Page(1, text),))
        writer.add_document(doc, [chunk], vector[None, :], [np.vstack([v for _, v in sents])])
    writer.commit(index_type=index_type)


def latency(index_path: Path, questions: list[str], n: int = 200) -> dict[str, float]:
    from qa import Answerer, Index, Retriever

    index = Index.open(index_path)
    retriever = Retriever(index)
    answerer = Answerer(retriever)
    for q in questions[:10]:
        answerer.ask(q)
    search, answer = [], []
    for q in questions[10:10 + n]:
        retriever._cache.clear()
        t = time.perf_counter()
        retriever.search(q, 5)
        search.append(time.perf_counter() - t)
        retriever._cache.clear()
        t = time.perf_counter()
        answerer.ask(q)
        answer.append(time.perf_counter() - t)
    status = index.status()
    return {"search": percentiles(search), "answer": percentiles(answer),
            "bytes_per_chunk": status["size_bytes"] / status["chunks"], "chunks": status["chunks"]}


def ivf_recall(index_path: Path, questions: list[str]) -> dict[str, float]:
    import faiss

    from qa import Index, store

    index = Index.open(index_path)
    ids, vectors = store.all_vectors(index.snapshot.vectors)
    flat = faiss.IndexFlatIP(vectors.shape[1])  # exact search over the same vectors
    flat.add(vectors)
    ids = np.arange(len(vectors), dtype=np.int64)
    t = time.perf_counter()
    ivf = store.ivf_from(ids, vectors)
    build = time.perf_counter() - t
    queries = index.embedder.embed(questions[:200])
    _, exact = flat.search(queries, 10)
    times, hits = [], 0
    for qv, truth in zip(queries, exact, strict=True):
        t = time.perf_counter()
        _, found = ivf.search(qv[None, :], 10)
        times.append(time.perf_counter() - t)
        hits += len(set(found[0]) & set(truth))
    flat_bytes = len(faiss.serialize_index(flat))
    ivf_bytes = len(faiss.serialize_index(ivf))
    return {"recall@10": hits / (10 * len(queries)), "search": percentiles(times), "build_s": build,
            "flat_bytes_per_chunk": flat_bytes / len(ids), "ivf_bytes_per_chunk": ivf_bytes / len(ids)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--big", action="store_true", help="also 1,000,000 chunks")
    parser.add_argument("--paragraphs", type=int, default=600, help="SQuAD paragraphs in the indexing comparison")
    parser.add_argument("--repeats", type=int, default=3, help="alternating build / sentence-transformers pairs")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s] + ([1_000_000] if args.big else [])
    sentences, questions = sentence_pool()
    random.Random(1).shuffle(questions)
    from qa.tokenizer import resolve_model_dir

    model_dir = str(resolve_model_dir("all-MiniLM-L6-v2"))
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if "model name" in line), "?")
    print(f"machine: {os.cpu_count()} cores, {cpu}, "
          f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB")
    results: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        docs = tmp / "docs"
        if SQUAD.exists():
            n_docs = squad_paragraphs(docs, args.paragraphs)
        else:
            n_docs = args.paragraphs // 2
            write_corpus(docs, n_docs, sentences)
        real = tmp / "real"
        qa_cmd = [sys.executable, "-m", "qa"]
        timed([*qa_cmd, "index", "build", str(docs), "--index", str(tmp / "warm")])  # ONNX export, disk cache
        builds, plains, ratios = [], [], []
        for n in range(args.repeats):  # alternate, so load from other processes hits both alike
            build_s, build_rss, _ = timed([*qa_cmd, "index", "build", str(docs), "--index", str(tmp / f"b{n}")])
            st_s, st_rss, _ = timed([sys.executable, "-c", ST_SCRIPT, str(docs), model_dir])
            builds.append(build_s)
            plains.append(st_s)
            ratios.append(st_s / build_s)
        (tmp / "b0").rename(real)
        chunks = sqlite3.connect(current_db(real)).execute("SELECT count(*) FROM chunks").fetchone()[0]
        build_s, st_s, ratio = (statistics.median(v) for v in (builds, plains, ratios))
        results["indexing"] = (
            f"{n_docs} documents, {chunks} chunks: qa index build {build_s:.1f} s "
            f"({n_docs / build_s:.1f} documents/s, peak RSS {build_rss:.0f} MB); new process with "
            f"sentence-transformers encoding the same {n_docs} texts {st_s:.1f} s (peak RSS {st_rss:.0f} MB); "
            f"build ratio (sentence-transformers time / qa time) {ratio:.2f} (target >= 1.7; median of "
            f"{args.repeats} alternating pairs: {', '.join(f'{r:.2f}' for r in ratios)})")
        print(results["indexing"], flush=True)

        seeds = tmp / "seeds-index"
        timed([*qa_cmd, "index", "build", str(ROOT / "seeds"), "--index", str(seeds)])
        ask = [timed([*qa_cmd, "ask", "How many IS fighters were held in the prison?", "--index",
                      str(seeds)])[0] for _ in range(5)]
        helps = [timed([*qa_cmd, "--help"])[0] for _ in range(5)]
        results["cold start"] = (f"qa ask {statistics.median(ask):.2f} s (target <= 0.5), "
                                 f"qa --help {statistics.median(helps):.2f} s (target <= 0.5), median of 5")
        print(results["cold start"], flush=True)

        qfile = tmp / "questions.txt"
        qfile.write_text("\n".join(questions[:50]))
        for size in sizes:
            path = real if size == chunks else tmp / f"synthetic-{size}"
            if path != real:
                t = time.perf_counter()
                synthetic_index(path, real, size)
                made = time.perf_counter() - t
            else:
                made = 0.0
            lat = latency(path, questions)
            serve_s, serve_rss, _ = timed([sys.executable, "-c", SERVE_SCRIPT, str(path), str(qfile)])
            kind = "real" if path == real else f"synthetic vectors, stored in {made:.0f} s"
            results[f"{size} chunks"] = (
                f"search p50 {lat['search'][0]:.1f} ms p95 {lat['search'][1]:.1f} ms; answer p50 "
                f"{lat['answer'][0]:.1f} ms p95 {lat['answer'][1]:.1f} ms; {lat['bytes_per_chunk'] / 1024:.1f} "
                f"KiB on disk per chunk; serving peak RSS {serve_rss:.0f} MB ({kind})")
            print(f"{size}: {results[f'{size} chunks']}", flush=True)
            if size == 10_000:
                from qa import Index

                index = Index.open(path)
                new = tmp / "new-doc.txt"
                new.write_text(" ".join(random.Random(5).sample(sentences, 60)))
                from qa.chunking import chunk_document
                from qa.documents import load

                pieces = chunk_document(load(new), index.embedder.tokenizer)
                spans = [[(s.start - c.start, s.end - c.start) for s in c.sentences] for c in pieces]
                t = time.perf_counter()
                index.embedder.embed_with_spans([c.text for c in pieces], spans)
                alone = time.perf_counter() - t
                t = time.perf_counter()
                report = index.add([new])
                add = time.perf_counter() - t
                results["incremental"] = (
                    f"add one document ({report.chunks_embedded} chunks) to {size} chunks: {add:.2f} s; "
                    f"embedding it alone {alone:.2f} s; target <= {1.2 * alone + 1:.2f} s")
                print(results["incremental"], flush=True)
            if size >= 100_000:
                ivf = ivf_recall(path, questions)
                results[f"ivf {size}"] = (
                    f"IVF (float16) recall@10 vs exact {ivf['recall@10']:.3f}; search p50 "
                    f"{ivf['search'][0]:.2f} ms p95 {ivf['search'][1]:.2f} ms (vectors only); trained "
                    f"in {ivf['build_s']:.1f} s; vector bytes per chunk: flat {ivf['flat_bytes_per_chunk']:.0f}, "
                    f"IVF {ivf['ivf_bytes_per_chunk']:.0f}")
                print(results[f"ivf {size}"], flush=True)
    print("\nSummary")
    for key, value in results.items():
        print(f"- {key}: {value}")


if __name__ == "__main__":
    main()
