"""Settings: argument, then QA_* variable, then default; a bad value is one clear UserInputError."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from qa import config
from qa.config import Settings, load_settings, resolve_serve, resolve_threads
from qa.errors import UserInputError


@pytest.mark.parametrize(("name", "value", "kind"), [
    ("QA_K", "five", "a whole number from 1 to 50"),
    ("QA_K", "0", "a whole number from 1 to 50"),
    ("QA_THRESHOLD", "abc", "a number"),
    ("QA_THRESHOLD", "nan", "a number"),
    ("QA_MAX_FILE_MB", "-1", "a number above 0"),
    ("QA_BM25_WEIGHT", "-0.5", "a number of 0 or more"),
    ("QA_MODE", "fuzzy", "one of hybrid, dense, bm25"),
])
def test_bad_setting_names_the_variable_and_the_kind(monkeypatch: pytest.MonkeyPatch, name: str,
                                                     value: str, kind: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(UserInputError) as caught:
        load_settings()
    assert str(caught.value) == f"{name}={value!r} is not valid: it takes {kind}. Change it or unset it."


@pytest.mark.parametrize(("name", "value"), [
    ("QA_PORT", "x"), ("QA_PORT", "70000"), ("QA_MAX_UPLOAD_MB", "big"), ("QA_AUTH", "alice"),
])
def test_bad_serve_setting_is_a_user_error(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(UserInputError, match=f"^{name}="):
        resolve_serve()


@pytest.mark.parametrize("value", ["abc", "0", "-2", "1.5"])
def test_bad_threads_is_a_user_error(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("QA_THREADS", value)
    with pytest.raises(UserInputError, match="QA_THREADS=.*a whole number of 1 or more"):
        resolve_threads()


def test_threads_default_to_every_core_and_the_variable_counts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("QA_THREADS", raising=False)
    assert resolve_threads() == (os.cpu_count() or 1)
    monkeypatch.setenv("QA_THREADS", " 3 ")
    assert resolve_threads() == 3
    assert resolve_threads(1) == 1


def test_argument_then_variable_then_default(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in config.VARIABLES:
        monkeypatch.delenv(name, raising=False)
    assert load_settings() == Settings()
    monkeypatch.setenv("QA_K", "7")
    monkeypatch.setenv("QA_THRESHOLD", "0.25")
    monkeypatch.setenv("QA_MODE", "")  # empty counts as unset
    settings = load_settings(threshold=0.75)
    assert (settings.k, settings.threshold, settings.mode) == (7, 0.75, "hybrid")
    monkeypatch.setenv("QA_PORT", "8123")
    monkeypatch.setenv("QA_AUTH", "alice:s3cret")
    assert resolve_serve(host="0.0.0.0") == {"host": "0.0.0.0", "port": 8123,
                                              "auth": ("alice", "s3cret"), "max_upload_mb": 20.0}
    assert resolve_serve(port=9000, auth="bob:pw")["port"] == 9000
    assert resolve_serve(auth="bob:pw")["auth"] == ("bob", "pw")


def test_auth_argument_without_password_is_refused() -> None:
    with pytest.raises(UserInputError, match="--auth takes USER:PASSWORD"):
        resolve_serve(auth="alice")


def test_paths_and_backend(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("QA_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("QA_INDEX", str(tmp_path / "idx"))
    monkeypatch.setenv("QA_BACKEND", "torch")
    monkeypatch.delenv("QA_MODEL", raising=False)
    assert config.resolve_cache_dir() == tmp_path / "cache"
    assert config.resolve_index_path() == tmp_path / "idx"
    assert config.resolve_backend() == "torch"
    assert config.resolve_backend("onnx") == "onnx"
    assert config.requested_model() is None
    assert config.resolve_model() == config.DEFAULT_MODEL
    monkeypatch.setenv("QA_BACKEND", "gpu")
    with pytest.raises(UserInputError, match="QA_BACKEND='gpu'.*one of auto, onnx, torch"):
        config.resolve_backend()


def test_bad_threads_is_not_hidden_by_the_torch_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    """The default backend falls back to torch when ONNX fails; a setting mistake must not be swallowed."""
    from qa.embedding import load_embedder

    monkeypatch.setenv("QA_THREADS", "many")
    monkeypatch.setattr("qa.embedding._CACHE", {})
    with pytest.raises(UserInputError, match="QA_THREADS='many'"):
        load_embedder(backend="auto")
