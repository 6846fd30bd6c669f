"""The query side decodes a partial again only when its offset moved (`FannedOut._decode_own`)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from projections.positions import Positioned
from sales.process import load_process
from services.projector.readmodels import read_models
from services.queries.fanout import FannedOut

MODEL = next(
    model for model in read_models(load_process(None), "Europe/Berlin") if model.name == "rep-activity"
)


def test_an_unchanged_partial_is_not_decoded_again_and_a_changed_one_is() -> None:
    decoded: list[str] = []

    def counting(key: str, data: dict[str, Any]) -> Any:
        decoded.append(key)
        return MODEL.from_dict(key, data)

    model = replace(MODEL, from_dict=counting)
    empty = MODEL.empty("rep-ada")
    first = [
        (0, "rep-ada", MODEL.encode(Positioned(empty, 7))),
        (1, "rep-sam", MODEL.encode(Positioned(MODEL.empty("rep-sam"), 3))),
    ]
    side = FannedOut(projector=None)  # type: ignore[arg-type]  # only the decoding is exercised
    assert [key for key, _ in side._decode_own(model, first)] == ["rep-ada", "rep-sam"]
    assert decoded == ["rep-ada", "rep-sam"]
    again = side._decode_own(model, first)
    assert decoded == ["rep-ada", "rep-sam"] and [key for key, _ in again] == ["rep-ada", "rep-sam"]
    moved = [(0, "rep-ada", MODEL.encode(Positioned(empty, 8))), first[1]]
    side._decode_own(model, moved)
    assert decoded == ["rep-ada", "rep-sam", "rep-ada"]
    assert [key for key, _ in side._decode_own(model, moved[:1])] == ["rep-ada"]  # a partial gone is gone


def test_over_the_limit_nothing_is_kept() -> None:
    side = FannedOut(projector=None, cache_limit=1)  # type: ignore[arg-type]
    partials = [(0, key, MODEL.encode(Positioned(MODEL.empty(key), 1))) for key in ("rep-a", "rep-b")]
    assert len(side._decode_own(MODEL, partials)) == 2
    assert side._decoded == {}
