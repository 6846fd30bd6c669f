"""Every link in the docs resolves inside the repository, and every module they name exists.

A newcomer follows the docs through the code: a link to a moved file or a module renamed in a
refactor sends them nowhere, so both are checked here.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = sorted([ROOT / "README.md", *(ROOT / "docs").glob("*.md"), *(ROOT / "clients").glob("*/README.md")])
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
MODULE = re.compile(r"`((?:events|sales|projections|services|bench)(?:\.[a-z_][a-z0-9_]*)+)`")
IMPORTED = re.compile(
    r"^\s*from ((?:events|sales|projections|services|salesledger_publisher)[\w.]*) import", re.M
)
PATH = re.compile(r"`((?:events|sales|projections|services|bench|tests|clients|docs)/[\w./-]*)`")


def links(doc: Path) -> list[str]:
    return [target for target in LINK.findall(doc.read_text(encoding="utf-8")) if "://" not in target]


def resolves(dotted: str) -> bool:
    """A module, or an attribute of one (``services.projector.service.Projector``)."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            module = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        target: object = module
        for name in parts[cut:]:
            if not hasattr(target, name):
                return False
            target = getattr(target, name)
        return True
    return False


@pytest.mark.parametrize("doc", DOCS, ids=lambda doc: str(doc.relative_to(ROOT)))
def test_every_relative_link_resolves_inside_the_repository(doc: Path) -> None:
    broken = []
    for target in links(doc):
        path = (doc.parent / target.split("#")[0]).resolve()
        if not target.startswith("#") and (not path.exists() or (ROOT not in path.parents and path != ROOT)):
            broken.append(target)
    assert not broken, f"{doc.name} links to what is not in the repository: {broken}"


@pytest.mark.parametrize("doc", DOCS, ids=lambda doc: str(doc.relative_to(ROOT)))
def test_every_module_the_docs_name_exists(doc: Path) -> None:
    text = doc.read_text(encoding="utf-8")
    named = sorted(set(MODULE.findall(text)) | set(IMPORTED.findall(text)))
    missing = [name for name in named if not resolves(name)]
    assert not missing, f"{doc.name} names modules or attributes that do not exist: {missing}"


def test_the_docs_have_links_to_check() -> None:
    assert sum(len(links(doc)) for doc in DOCS) >= 10


@pytest.mark.parametrize("doc", DOCS, ids=lambda doc: str(doc.relative_to(ROOT)))
def test_every_repository_path_the_docs_name_exists(doc: Path) -> None:
    named = sorted(set(PATH.findall(doc.read_text(encoding="utf-8"))))
    missing = [path for path in named if not (ROOT / path).exists()]
    assert not missing, f"{doc.name} names paths that do not exist: {missing}"
