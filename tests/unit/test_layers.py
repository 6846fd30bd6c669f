"""`make lint` enforces the house's layers: shown by adding a violation to a temporary copy."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
VENV = Path(sys.executable).parent.parent
PACKAGES = ("events", "sales", "projections", "services")


def copy_of_the_house(tmp_path: Path) -> Path:
    copy = tmp_path / "house"
    for package in PACKAGES:
        shutil.copytree(ROOT / package, copy / package, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "Makefile", "constraints.txt"):
        shutil.copy2(ROOT / name, copy / name)
    return copy


def make_lint(copy: Path) -> subprocess.CompletedProcess[str]:
    """`make lint` in ``copy`` with this venv, which is up to date (`-o`: never reinstalled)."""
    stamp = VENV / ".installed"
    return subprocess.run(
        ["make", "-s", "-C", str(copy), "lint", f"VENV={VENV}", "-o", str(stamp)],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(copy)},
        timeout=300,
    )


def lint_imports(copy: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(VENV / "bin" / "lint-imports"), "--no-cache"],
        cwd=copy,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(copy)},
        timeout=300,
    )


@pytest.fixture(scope="module")
def house(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not (VENV / ".installed").exists():
        pytest.fail(f"run from the project's venv ({VENV}/.installed missing): `make test` creates it")
    return copy_of_the_house(tmp_path_factory.mktemp("layers"))


def violate(house: Path, tmp_path: Path, module: str, line: str) -> Path:
    copy = tmp_path / "violated"
    shutil.copytree(house, copy)
    path = copy / module
    path.write_text(path.read_text() + f"\n{line}  # a violation added by the test\n")
    return copy


def test_the_layers_of_the_house_as_committed_are_kept(house: Path) -> None:
    result = lint_imports(house)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "BROKEN" not in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("sales/stages.py", "import services.settings", "Floors"),
        ("events/envelope.py", "import projections.org", "Floors"),
        ("projections/pipeline.py", "import services.metrics", "Floors"),
        ("projections/funnel.py", "import prometheus_client", "The pure floors"),
        ("sales/deal.py", "import eventsourcing.domain", "The pure floors"),
        ("services/projector/service.py", "import services.gate.http", "Rooms of services"),
        ("services/writemodel/recorder.py", "import services.bootstrap", "Rooms of services"),
    ],
)
def test_make_lint_fails_on_a_layer_violation(
    house: Path, tmp_path: Path, module: str, line: str, contract: str
) -> None:
    result = make_lint(violate(house, tmp_path, module, line))
    assert result.returncode != 0
    assert f"{contract}" in result.stdout and "BROKEN" in result.stdout, result.stdout + result.stderr
    importer = module.removesuffix(".py").replace("/", ".")
    assert f"{importer} -> {line.split()[1].split('.')[0]}" in result.stdout, result.stdout
