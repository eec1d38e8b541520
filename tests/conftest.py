"""Shared fixtures: the real bundled model, a real index of seeds/ built once per test session."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REPO = Path(__file__).resolve().parent.parent
SEEDS = REPO / "seeds"


@pytest.fixture(scope="session")
def seeds_index(tmp_path_factory: pytest.TempPathFactory):
    """An index of the seed article, built with the real pipeline; tests must not modify it."""
    from qa import Index

    return Index.build([SEEDS], path=tmp_path_factory.mktemp("seeds") / "index")


@pytest.fixture(scope="session")
def answerer(seeds_index):
    from qa import Answerer, Retriever

    return Answerer(Retriever(seeds_index))


def run_qa(*args: str, cwd: Path | None = None, input: str | None = None,
           env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the `qa` entry point as a new process, the way a person does."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "qa", *args], cwd=cwd or REPO, input=input,
                          capture_output=True, text=True, env=full_env, timeout=600)
