"""JSON-safe snapshots of the plain state dataclasses (strings, numbers, booleans, tuples of strings).

A snapshot carries ``state_version``; loading one of another version fails loudly instead of
guessing, so a change of state shape comes with an explicit upcaster or a rebuild from events.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from typing import Any, ClassVar, Protocol, TypeVar


class _Dataclass(Protocol):
    __dataclass_fields__: ClassVar[dict[str, Any]]


T = TypeVar("T", bound=_Dataclass)


def dump(state: _Dataclass, version: int) -> dict[str, Any]:
    """The state as a JSON-safe dict; tuples become lists."""
    values = {f.name: getattr(state, f.name) for f in fields(state)}
    return {"state_version": version} | {k: list(v) if isinstance(v, tuple) else v for k, v in values.items()}


def load(cls: type[T], data: Mapping[str, Any], version: int) -> T:
    """The state a `dump` wrote; lists become tuples again."""
    if data.get("state_version") != version:
        raise ValueError(f"{cls.__name__} snapshot version {data.get('state_version')!r} is not {version}")
    values = {f.name: data[f.name] for f in fields(cls)}
    return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in values.items()})
