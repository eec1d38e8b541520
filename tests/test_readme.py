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


def test_ci_runs_readmes_test_command_as_a_line_of_its_own_in_a_fresh_venv() -> None:
    tests = re.findall(r"```bash\n(.*?)```", README, re.S)[1].strip()
    lines = [line.strip() for line in (REPO / ".ci" / "run").read_text().splitlines()]
    assert tests in lines
    venv = lines.index("python3 -m venv .ci-venv --clear")
    activate = lines.index("source .ci-venv/bin/activate")
    assert venv < activate < lines.index(tests)
    assert ".ci-venv/" in (REPO / ".gitignore").read_text().splitlines()


def _code_files() -> list[Path]:
    return sorted((REPO / "qa").glob("*.py")) + sorted((REPO / "ui").glob("*.py"))


def test_readme_lists_exactly_the_settings_the_code_reads() -> None:
    from qa.config import VARIABLES

    in_code = {name for path in _code_files() for name in re.findall(r"\bQA_[A-Z0-9_]+", path.read_text())}
    in_readme = set(re.findall(r"\bQA_[A-Z0-9_]+", README))
    assert in_code == set(VARIABLES), "every QA_* name in qa/ and ui/ must be resolved in qa/config.py"
    assert in_readme == set(VARIABLES)
    table = dict(re.findall(r"^\| `(QA_[A-Z0-9_]+)` \|.*\| (.+?) \|$", README, re.M))
    assert set(table) == set(VARIABLES), "README's settings table has a row per variable"


def test_readme_settings_defaults_match_the_code() -> None:
    from qa.config import SETTING_VARIABLES, Settings

    table = dict(re.findall(r"^\| `(QA_[A-Z0-9_]+)` \|.*\| `?([^`|]+?)`? \|$", README, re.M))
    for field, name in SETTING_VARIABLES.items():
        default = getattr(Settings(), field)
        if default is None:  # decided elsewhere (the reader's calibrated threshold): README says so
            assert "calibrated" in table[name], name
            continue
        assert type(default)(table[name]) == default, name
    assert table["QA_PORT"] == "7860" and table["QA_HOST"] == "127.0.0.1"


def test_only_config_reads_the_environment() -> None:
    readers = [path.name for path in _code_files() if path.name != "config.py"
               and re.search(r"os\.environ\.get|os\.getenv|os\.environ\[|\benv\(", path.read_text())]
    assert readers == []


def test_readme_ivf_threshold_is_the_codes() -> None:
    from qa.store import IVF_THRESHOLD

    found = re.search(r"From ([\d,]+) chunks the vectors move to an approximate IVF index", README)
    assert found, "README must say from how many chunks the IVF index is used"
    assert int(found.group(1).replace(",", "")) == IVF_THRESHOLD
    back = re.search(r"back to\s+exact search below ([\d,]+)", README)
    assert back and int(back.group(1).replace(",", "")) == IVF_THRESHOLD // 2
