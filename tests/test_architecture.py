"""The layers of docs/architecture.md hold, and the contracts that keep them can fail.

CI runs ``lint-imports`` as a step of its own; this runs it too, so the README's test command
checks the layers, and proves each contract breaks on the import it exists to forbid.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
# One import each contract exists to forbid: (module that imports, the import line).
VIOLATIONS = {
    "layers": ("store.db", "import service.intake"),
    "pure": ("crawler.pages.dom", "from ..spiders import base"),  # relative, still seen
    "pure-independent": ("cue.model", "import crawler.pages"),
    "no-protocols-below": ("service.intake", "import flask"),
    "api-without-parsers": ("api.search", "from crawler.pages import parse_page"),
}


def _contracts() -> list[dict[str, object]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    contracts: list[dict[str, object]] = config["contracts"]
    return contracts


def _lint(cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo"],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _copy_of_the_project(tmp_path: Path) -> Path:
    """The project's packages and its import-linter configuration, copied under ``tmp_path``."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    for package in config["root_packages"]:
        shutil.copytree(
            ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_project_keeps_every_contract() -> None:
    result = _lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Contracts: {len(_contracts())} kept, 0 broken." in result.stdout


def test_every_contract_has_a_violation_here() -> None:
    assert {str(contract["id"]) for contract in _contracts()} == set(VIOLATIONS)


def test_each_contract_breaks_on_what_it_forbids(tmp_path: Path) -> None:
    tree = _copy_of_the_project(tmp_path)
    for module, line in VIOLATIONS.values():
        path = tree.joinpath(*module.split(".")).with_suffix(".py")
        path.write_text(path.read_text() + line + "\n")
    result = _lint(tree)
    assert result.returncode != 0
    output = " ".join(result.stdout.split())  # lint-imports wraps long lines
    for contract in _contracts():
        name = re.escape(" ".join(str(contract["name"]).split()))
        assert re.search(name + " BROKEN", output), f"{contract['id']} held:\n{result.stdout}"
    for module, _line in VIOLATIONS.values():
        assert module in output, f"{module} not named:\n{result.stdout}"
