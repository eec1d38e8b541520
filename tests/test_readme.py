"""README.md stays true: its set-up commands, its Python example, and CI running its test command."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import REPO

README = (REPO / "README.md").read_text()


def test_readme_opens_with_two_setup_commands_and_ci_runs_the_test_one() -> None:
    blocks = re.findall(r"```bash\n(.*?)```", README, re.S)
    main, tests = blocks[0].strip(), blocks[1].strip()
    assert main.startswith("pip install torch==2.13.0") and main.endswith("qa serve")
    assert tests.startswith("pip install torch==2.13.0") and "pytest" in tests
    assert tests in (REPO / ".ci" / "run").read_text()


def test_python_example_runs(tmp_path: Path) -> None:
    code = re.search(r"## Use it from Python\n\n```python\n(.*?)```", README, re.S).group(1)
    shutil.copytree(REPO / "seeds", tmp_path / "seeds")
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    assert "4,000" in result.stdout
    assert "seeds/voa-al-sina-prison.txt" in result.stdout
