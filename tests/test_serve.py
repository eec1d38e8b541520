"""`qa serve` on a port another program holds: one line that says which flag picks another."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import run_qa
from qa.errors import UserInputError


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


@pytest.mark.parametrize("how", ["flag", "env"])
def test_serve_on_a_busy_port_is_one_line_before_any_work(busy_port: int, tmp_path: Path,
                                                          how: str) -> None:
    index = tmp_path / "index"
    args = ["serve", "--index", str(index)] + (["--port", str(busy_port)] if how == "flag" else [])
    env = {"QA_PORT": str(busy_port)} if how == "env" else None
    result = run_qa(*args, env=env)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert result.stderr.strip() == (f"Error: Port {busy_port} on 127.0.0.1 is already in use: "
                                     f"pick another with --port, e.g. --port {busy_port + 1}.")
    assert "docqa is at" not in result.stdout + result.stderr
    assert not index.exists(), "the port must be checked before the index is built"


def test_serve_on_an_unknown_host_is_one_line(tmp_path: Path) -> None:
    result = run_qa("serve", "--host", "no-such-host.invalid", "--index", str(tmp_path / "index"))
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "--host" in result.stderr


def test_page_turns_gradios_port_failure_into_a_user_error(seeds_index, busy_port: int) -> None:
    """If the port is taken between the check and the launch, gradio's OSError becomes one line."""
    from ui.app import serve

    said: list[str] = []
    with pytest.raises(UserInputError, match="pick another with --port"):
        serve(seeds_index.path, port=busy_port, on_ready=lambda: said.append("ready"))
    assert said == []
