"""The page in a real Chromium: ask, follow up, upload, remove; document text never runs."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from server import REPO, build_seeds_index, running_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
PAGE_TIMEOUT = 120_000  # ms
ANSWER_TIMEOUT = 120_000  # ms; the first question may wait for the model to load

ZORBLAT = """The Zorblat Festival

The Zorblat festival is held in the town of Quendale every March.
Visitors build towers of blue pancakes and the tallest tower wins a copper kettle.
Organisers printed <img src=x onerror="window.__docqa_xss = 1"> on the posters by mistake.
A second poster said <script>window.__docqa_xss = 2</script> in large letters.
"""


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not Path(CHROMIUM).exists():
        pytest.skip("needs Debian's chromium at /usr/bin/chromium")
    return build_seeds_index(tmp_path_factory.mktemp("browser") / "index")


@pytest.fixture(scope="module")
def server(index_dir: Path) -> Iterator[str]:
    with running_server(index_dir, index_dir.parent / "serve.log") as url:
        yield url


@pytest.fixture(scope="module")
def page(server: str) -> Iterator[object]:
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        # The first load of the page's scripts can take long on a busy two-core machine.
        page.goto(server, timeout=PAGE_TIMEOUT)
        page.wait_for_selector("#qa-question textarea", timeout=PAGE_TIMEOUT)
        yield page
        browser.close()


def bot_messages(page):
    return page.locator('#qa-chat [data-testid="bot"]')


def ask(page, question: str) -> str:
    """Type a question, press Enter, and return the text of the new answer."""
    before = bot_messages(page).count()
    page.fill("#qa-question textarea", question)
    page.press("#qa-question textarea", "Enter")
    page.wait_for_function(
        "n => document.querySelectorAll('#qa-chat [data-testid=\"bot\"]').length > n",
        arg=before, timeout=ANSWER_TIMEOUT)
    page.wait_for_selector("#qa-sources .qa-passage", timeout=ANSWER_TIMEOUT)
    return bot_messages(page).last.inner_text()


def test_answer_quotes_and_highlights(page, tmp_path: Path) -> None:
    answer = ask(page, "How many IS fighters were held in the prison?")
    assert "4,000" in answer
    assert "voa-al-sina-prison.txt" in answer and "page 1" in answer
    assert page.get_by_text("4,000", exact=False).first.is_visible()
    # the reader's short answer, in bold above its quote
    assert "4,000" in bot_messages(page).last.locator("strong").first.inner_text()
    marks = page.locator("#qa-sources mark")
    assert any("4,000" in marks.nth(i).inner_text() for i in range(marks.count()))
    assert page.locator("#qa-sources .qa-cite").first.inner_text() == "[1]"

    shot = tmp_path / "answer.png"
    page.screenshot(path=str(shot), full_page=True)
    if os.environ.get("QA_SCREENSHOT") == "1":
        shutil.copyfile(shot, REPO / "docs" / "screenshot.png")


def test_follow_up_uses_history(page) -> None:
    ask(page, "Who is the spokesman of the SDF?")
    answer = ask(page, "What did he say about escapes?")
    assert "escaped" in answer
    assert "Shami" in answer


def test_clear_resets_chat_and_sources(page) -> None:
    ask(page, "Who is the spokesman of the SDF?")
    page.click("#qa-clear")
    page.wait_for_function(
        "() => document.querySelectorAll('#qa-chat [data-testid=\"bot\"]').length === 0")
    assert page.locator("#qa-sources .qa-passage").count() == 0


def test_abstains_plainly(page) -> None:
    answer = ask(page, "What is the recipe for sourdough bread?")
    assert "Not in your documents" in answer
    assert page.locator("#qa-sources .qa-not-answering").count() >= 1
    assert "not answering" in page.locator("#qa-sources").inner_text()


def test_upload_then_ask_then_remove(page, tmp_path: Path) -> None:
    doc = tmp_path / "zorblat-festival.txt"
    doc.write_text(ZORBLAT)
    page.set_input_files("#qa-upload input[type=file]", str(doc))
    page.wait_for_selector("#qa-doc-table td:has-text('zorblat-festival.txt')", timeout=ANSWER_TIMEOUT)
    assert "zorblat-festival.txt" in page.inner_text("#qa-status")

    answer = ask(page, "Where is the Zorblat festival held?")
    assert "Quendale" in answer
    assert "zorblat-festival.txt" in answer
    sources = page.inner_text("#qa-sources")
    assert "Quendale" in sources
    # Markup inside a document is shown as text and never runs.
    assert page.evaluate("() => window.__docqa_xss === undefined")
    assert "<img src=x onerror=" in sources and "<script>" in sources
    assert page.locator("#qa-sources img, #qa-sources script").count() == 0

    page.click("#qa-remove-choice input")
    page.get_by_role("option", name="uploads/zorblat-festival.txt").click()
    page.click("#qa-remove")
    page.wait_for_function(
        "() => !document.querySelector('#qa-doc-table').innerText.includes('zorblat-festival.txt')",
        timeout=ANSWER_TIMEOUT)
    answer = ask(page, "Where is the Zorblat festival held?")
    assert "Quendale" not in answer


def test_unreadable_upload_is_reported_and_discarded(page, index_dir: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.7 this is not really a PDF")
    before = page.inner_text("#qa-doc-table")
    page.set_input_files("#qa-upload input[type=file]", str(broken))
    page.wait_for_selector("#qa-status :text('broken.pdf')", timeout=ANSWER_TIMEOUT)
    assert "Not indexed" in page.inner_text("#qa-status")
    assert page.inner_text("#qa-doc-table") == before
    assert not (index_dir / "uploads" / "broken.pdf").exists()
