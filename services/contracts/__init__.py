"""The published contracts: OpenAPI for the HTTP API, AsyncAPI for the topics, a JSON Schema per event.

``python -m services.contracts docs/`` writes the committed copies (``docs/openapi.json``,
``docs/asyncapi.json``) from the default settings; a unit test keeps them fresh. Workers serve the
same documents built from their own settings (`services.contracts.handlers`).
"""

from __future__ import annotations

import sys
from pathlib import Path

from services.contracts.asyncapi import asyncapi_document
from services.contracts.common import default_settings, event_schemas, render
from services.contracts.openapi import openapi_document
from services.settings import Settings

__all__ = ["asyncapi_document", "default_settings", "event_schemas", "main", "openapi_document", "write"]


def write(directory: Path, settings: Settings | None = None) -> list[Path]:
    """Write the OpenAPI and AsyncAPI documents into `directory` (default settings unless given).

    The directory is created if missing, so a scratch target (``/tmp/x``) works for diffing
    a fresh generation against the committed copies.
    """
    settings = settings or default_settings()
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, document in (
        ("openapi.json", openapi_document(settings)),
        ("asyncapi.json", asyncapi_document(settings)),
    ):
        path = directory / name
        path.write_text(render(document))
        written.append(path)
    return written


def main(argv: list[str]) -> int:
    """`python -m services.contracts DIR`: (re)write the committed OpenAPI and AsyncAPI documents."""
    if len(argv) != 1:
        print("usage: python -m services.contracts DIRECTORY", file=sys.stderr)
        return 2
    for path in write(Path(argv[0])):
        print(f"wrote {path}")
    return 0
