"""`qa --help`, `qa index status`, `qa ask` and the page's module never import torch or
sentence-transformers (5 s); the default embedder runs on onnxruntime."""

from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import REPO

PROBE = """
import sys
sys.argv = {argv!r}
{body}
heavy = sorted(m for m in ("torch", "sentence_transformers", "transformers") if m in sys.modules)
print("HEAVY:", ",".join(heavy))
"""
RUN_CLI = """
from qa.cli import main
try:
    main()
except SystemExit:
    pass
"""


def heavy_modules(argv: list[str], body: str = RUN_CLI) -> str:
    result = subprocess.run([sys.executable, "-c", PROBE.format(argv=argv, body=body)], cwd=REPO,
                            capture_output=True, text=True, timeout=300)
    line = [x for x in result.stdout.splitlines() if x.startswith("HEAVY:")]
    assert line, result.stderr
    return line[0].removeprefix("HEAVY:").strip()


@pytest.mark.parametrize("args", [["--help"], ["index", "status"], ["ask", "Who is the spokesman?"]])
def test_cli_stays_light(seeds_index, args: list[str]) -> None:
    argv = ["qa", *args] + (["--index", str(seeds_index.path)] if args != ["--help"] else [])
    assert heavy_modules(argv) == ""


def test_page_module_stays_light() -> None:
    assert heavy_modules(["x"], "import ui.app") == ""
