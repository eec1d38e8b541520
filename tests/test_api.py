"""The page's API for scripts: gradio_client calls /ask and gets the answer as JSON."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from server import build_seeds_index, running_server

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("api")
    index = build_seeds_index(root / "index")
    with running_server(index, root / "serve.log") as url:
        yield url


@pytest.fixture(scope="module")
def client(server: str):
    gradio_client = pytest.importorskip("gradio_client")
    return gradio_client.Client(server, verbose=False)


def test_ask_returns_the_answer_as_json(client) -> None:
    result = client.predict("How many IS fighters were held in the prison?", api_name="/ask")
    assert isinstance(result, dict)
    assert set(result) >= {"question", "answer", "abstained", "quotes", "passages"}
    assert result["question"] == "How many IS fighters were held in the prison?"
    assert result["abstained"] is False
    assert any("4,000" in quote["text"] for quote in result["quotes"])
    quote = next(q for q in result["quotes"] if "4,000" in q["text"])
    assert quote["source"].endswith("voa-al-sina-prison.txt") and quote["page"] == 1
    passage = result["passages"][quote["citation"] - 1]
    assert quote["text"] in passage["text"]


def test_ask_abstains_as_json(client) -> None:
    result = client.predict("What is the recipe for sourdough bread?", api_name="/ask")
    assert result["abstained"] is True
    assert result["quotes"] == []
    assert result["passages"]


def test_only_ask_is_public(client) -> None:
    endpoints = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert list(endpoints) == ["/ask"]
