"""The layering the folders show (README "Architecture"): the import-linter contracts in
pyproject.toml hold for the tree, and they would catch a change that broke them; every
module's file name is used once and shadows no standard-library module; the `twinteller`
command lists every subcommand and each one loads."""

from __future__ import annotations

import importlib
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from twinteller.cli.main import COMMANDS

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("twinteller", "router", "zone", "trainer", "insights", "console", "legacy", "bench", "loadtest")
LINT_IMPORTS = str(Path(sys.executable).with_name("lint-imports"))


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [LINT_IMPORTS, "--no-cache"], cwd=root, env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def modules() -> list[Path]:
    return sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py") if "v1" not in p.parts)


@pytest.fixture(scope="module")
def copy_of_the_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Python files and the contracts, where a test may break them."""
    root = tmp_path_factory.mktemp("tree")
    for package in PACKAGES:
        shutil.copytree(ROOT / package, root / package, ignore=shutil.ignore_patterns("data", "static", "__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", root / "pyproject.toml")
    return root


def test_the_tree_keeps_every_contract() -> None:
    checked = lint_imports(ROOT)
    assert checked.returncode == 0, checked.stdout[-3000:]
    assert "0 broken" in checked.stdout


@pytest.mark.parametrize(
    ("module", "bad_import", "contract"),
    [
        ("twinteller/errors.py", "import router.app", "the shared library imports no process package"),
        ("twinteller/knowledge/text.py", "import trainer.training", "the shared library imports no process package"),
        ("insights/trends.py", "import zone.agent", "processes never import each other"),
        ("console/webapp.py", "import router.api.auth", "processes never import each other"),
        ("twinteller/config.py", "import twinteller.cli.main", "shared modules import neither the command line"),
        ("twinteller/etcd/keys.py", "import twinteller.knowledge.faqs", "the library: tools above the core"),
        ("router/conversation/turns.py", "import router.migration.shadow", "the router: composition root"),
        ("router/admin/audit_service.py", "import router.migration.guard", "the router: composition root"),
    ],
)
def test_a_forbidden_import_breaks_its_contract(
    copy_of_the_tree: Path, module: str, bad_import: str, contract: str
) -> None:
    path = copy_of_the_tree / module
    original = path.read_text()
    path.write_text(f"{original}\n{bad_import}  # noqa\n")
    try:
        checked = lint_imports(copy_of_the_tree)
    finally:
        path.write_text(original)
    assert checked.returncode == 1, checked.stdout[-3000:]
    # Each contract's report ends in KEPT or BROKEN; long names wrap over lines.
    reports = re.findall(r"(.*?) (KEPT|BROKEN)", " ".join(checked.stdout.split()))
    broken = [name for name, verdict in reports if verdict == "BROKEN"]
    assert any(contract in name for name in broken), broken


def test_every_module_file_name_is_used_once() -> None:
    seen: dict[str, list[str]] = {}
    for path in modules():
        if path.name not in ("__init__.py", "__main__.py"):
            seen.setdefault(path.stem, []).append(str(path.relative_to(ROOT)))
    assert {name: paths for name, paths in seen.items() if len(paths) > 1} == {}


def test_no_module_shadows_the_standard_library() -> None:
    names = {p.stem for p in modules()} | {p.parent.name for p in modules() if p.name == "__init__.py"}
    assert names & set(sys.stdlib_module_names) == set()


def test_the_command_names_every_subcommand_and_each_loads() -> None:
    listed = subprocess.run([sys.executable, "-m", "twinteller", "--help"], capture_output=True, text=True, timeout=60)
    assert listed.returncode == 0
    for name, command in COMMANDS.items():
        assert f"  {name} " in listed.stdout
        assert callable(getattr(importlib.import_module(command.module), command.function))


def test_an_unknown_command_is_bad_usage() -> None:
    refused = subprocess.run(
        [sys.executable, "-m", "twinteller", "nonsense"], capture_output=True, text=True, timeout=60
    )
    assert refused.returncode == 2
    assert "unknown command 'nonsense'" in refused.stderr
