"""Codecs of KPI partials: the plain encoders and decoders of `services.projector.kpi_codec` against
the codecs generated per record class (with ``exec``) that they replaced, in the same run.

    .venv/bin/python -m bench.codecs                           # 100,000 events, 15 repetitions (~30 s)
    .venv/bin/python -m bench.codecs --events 20000 --repeat 5  # quick run
    .venv/bin/python -m bench.codecs --json c.json

The book is the KPI fold (`projections.kpi_fold.fold`) of the simulator's history
(`services.simulator`, seed 7, cut after ``--events`` events, as `bench.projection` builds it):
one partial per key, activity counters and timelines of lead, deal, customer, quota and objective
records. Both codecs first encode every partial of the book and must give the same bytes, and
decode them back to the same partials. Then each repetition times, for each codec in turn (the
order alternates between repetitions), four passes over the whole book:

- **encode**: partial to its stored dict (`kpi_codec.encode_partial`);
- **decode**: stored dict to partial (`kpi_codec.decode_partial`);
- **encode + orjson**, **orjson + decode**: what the projector does per partial it writes or
  reads, ``ReadModel.encode`` (``orjson.dumps([offset, dict])``) and ``ReadModel.decode``.

Garbage collection is off while a pass is timed (as in `timeit`; the objects made at set-up are
frozen). Printed per pass and codec: the min and median seconds over the repetitions, records
per second (timeline records; partials per second too) at the median, and the ratio of the new
codec's throughput to the old one's (above 1: the new is faster), at the min and at the median.

The baseline, ``generated_*`` below, is a copy of the generator `projections.kpi_records` held
until the codecs moved to the projector, kept here so the comparison survives it.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import types
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Union, get_args, get_origin, get_type_hints

from events import Envelope
from projections.kpi_counters import KpiCounters
from projections.kpi_fold import ACTIVITY, Partial, fold
from projections.kpi_records import RECORD_TYPES, Timeline
from projections.positions import Positioned
from sales.process import load_process
from services.projector import kpi_codec
from services.projector.readmodels import ReadModel, read_models
from services.simulator import simulate_envelopes

ROOT = Path(__file__).resolve().parents[1]

# --- the baseline: the generated codecs, as they were in projections/kpi_records.py -------------


def _encode(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):  # a datetime is a date too
        return value.isoformat()
    if isinstance(value, tuple):
        return [_encode(item) for item in value]
    return value


def _decode(value: Any, hint: Any) -> Any:
    origin, args = get_origin(hint), get_args(hint)
    if origin in (Union, types.UnionType):
        return None if value is None else _decode(value, next(arg for arg in args if arg is not type(None)))
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_decode(item, args[0]) for item in value)
        return tuple(_decode(item, arg) for item, arg in zip(value, args, strict=True))
    if hint is Decimal:
        return Decimal(value)
    if hint is datetime:
        return datetime.fromisoformat(value)
    if hint is date:
        return date.fromisoformat(value)
    return value


_HINTS: dict[type[Any], dict[str, Any]] = {}


def _decode_fields(cls: type[Any], data: dict[str, Any]) -> Any:
    hints = _HINTS[cls]
    return cls(**{f.name: _decode(data[f.name], hints[f.name]) for f in fields(cls) if f.name in data})


_AS_IS = (str, bool, int)
_CLASS = {Decimal: "_Decimal", datetime: "_datetime", date: "_date"}
_CONVERTED = {Decimal: "str({v})", datetime: "{v}.isoformat()", date: "{v}.isoformat()"}
_PARSED = {
    Decimal: "_Decimal({v})",
    datetime: "_datetime.fromisoformat({v})",
    date: "_date.fromisoformat({v})",
}


def _optional(hint: Any) -> tuple[Any, bool]:
    args = get_args(hint)
    if get_origin(hint) in (Union, types.UnionType) and len(args) == 2 and type(None) in args:
        return next(arg for arg in args if arg is not type(None)), True
    return hint, False


def _stored_as_is(hint: Any) -> bool:
    if get_origin(hint) in (Union, types.UnionType):
        return all(arg is type(None) or _stored_as_is(arg) for arg in get_args(hint))
    return hint in _AS_IS


def _encoding(name: str, hint: Any) -> str:
    value = f"r.{name}"
    if _stored_as_is(hint):
        return value
    inner, _ = _optional(hint)
    if inner not in _CONVERTED:
        return f"_encode({value})"
    converted = _CONVERTED[inner].format(v=value)
    return f"({converted} if {value}.__class__ is {_CLASS[inner]} else _encode({value}))"


def _decoding(name: str, hint: Any) -> str:
    value = f"d[{name!r}]"
    if _stored_as_is(hint):
        return value
    inner, optional = _optional(hint)
    if inner not in _PARSED:
        return f"_decode({value}, _hints[{name!r}])"
    parsed = _PARSED[inner].format(v=value)
    return f"(None if {value} is None else {parsed})" if optional else parsed


def _generate(cls: type[Any]) -> tuple[Callable[[Any], dict[str, Any]], Callable[[dict[str, Any]], Any]]:
    hints = _HINTS[cls] = get_type_hints(cls)
    names = [f.name for f in fields(cls)]
    encoded = ", ".join([f'"record": {cls.__name__!r}', *(f"{n!r}: {_encoding(n, hints[n])}" for n in names)])
    if hasattr(cls, "__post_init__"):
        build = [f"return _cls({', '.join(_decoding(n, hints[n]) for n in names)})"]
    else:
        build = ["r = _new(_cls)", *(f"_set(r, {n!r}, {_decoding(n, hints[n])})" for n in names), "return r"]
    source = "\n".join(
        [
            "def encode(r):",
            f"    return {{{encoded}}}",
            "def decode(d):",
            "    try:",
            *(f"        {line}" for line in build),
            "    except KeyError:",
            "        return _decode_fields(_cls, d)",
        ]
    )
    namespace: dict[str, Any] = {
        "_cls": cls,
        "_new": object.__new__,
        "_set": object.__setattr__,
        "_hints": hints,
        "_encode": _encode,
        "_decode": _decode,
        "_decode_fields": _decode_fields,
        "_Decimal": Decimal,
        "_datetime": datetime,
        "_date": date,
    }
    exec(compile(source, f"<kpi_records codec {cls.__name__}>", "exec"), namespace)
    return namespace["encode"], namespace["decode"]


_ENCODERS: dict[type, Callable[[Any], dict[str, Any]]] = {}
_DECODERS: dict[str, Callable[[dict[str, Any]], Any]] = {}
for _name, _cls in RECORD_TYPES.items():
    _ENCODERS[_cls], _DECODERS[_name] = _generate(_cls)


def _counters_to_dict(counters: KpiCounters) -> dict[str, int]:
    """``KpiCounters.to_dict`` as the old path called it."""
    return {
        "calls": counters.calls,
        "connected_calls": counters.connected_calls,
        "talk_seconds": counters.talk_seconds,
        "emails_sent": counters.emails_sent,
        "emails_replied": counters.emails_replied,
        "meetings": counters.meetings,
        "meeting_seconds": counters.meeting_seconds,
        "social_touches": counters.social_touches,
        "research_minutes": counters.research_minutes,
    }


def _counters_from_dict(data: dict[str, Any]) -> KpiCounters:
    """``KpiCounters.from_dict`` as the old path called it."""
    get = data.get
    return KpiCounters(
        int(get("calls", 0)),
        int(get("connected_calls", 0)),
        int(get("talk_seconds", 0)),
        int(get("emails_sent", 0)),
        int(get("emails_replied", 0)),
        int(get("meetings", 0)),
        int(get("meeting_seconds", 0)),
        int(get("social_touches", 0)),
        int(get("research_minutes", 0)),
    )


def generated_encode_partial(partial: Partial) -> dict[str, Any]:
    """The old ``kpi_fold.encode_partial`` (``partial.to_dict()``): records through generated code."""
    if isinstance(partial, KpiCounters):
        return _counters_to_dict(partial)
    encoders = _ENCODERS
    return {"records": [encoders[type(record)](record) for record in partial.records]}


def generated_decode_partial(key: str, data: dict[str, Any]) -> Partial:
    """The old ``kpi_fold.decode_partial``."""
    if key.startswith(ACTIVITY + "|"):
        return _counters_from_dict(data)
    decoders = _DECODERS
    return Timeline(tuple([decoders[item["record"]](item) for item in data.get("records", ())]))


def revision() -> str:
    """The git commit measured, with "+dirty" when the code under test has uncommitted changes."""

    def git(*args: str) -> str:
        env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0"}  # read only: not even the index's stat cache
        done = subprocess.run(["git", *args], cwd=ROOT, env=env, capture_output=True, text=True)
        return done.stdout.strip()

    changed = git("status", "--porcelain", "--", "projections", "services/projector", "bench/codecs.py")
    return git("rev-parse", "--short", "HEAD") + ("+dirty" if changed else "")


def machine() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "load_average_at_start": [round(v, 2) for v in os.getloadavg()],
    }


# --- workload ------------------------------------------------------------------------------------


def history(count: int, seed: int) -> list[Envelope]:
    """The first `count` events of a simulated sales org (as `bench.projection.history`)."""
    leads = count // 8 + 100
    reps = max(20, leads // 150)
    return list(itertools.islice(simulate_envelopes(seed, reps, leads, date(2026, 1, 5)), count))


@dataclass(frozen=True)
class Codec:
    name: str
    encode: Callable[[Partial], dict[str, Any]]
    decode: Callable[[str, dict[str, Any]], Partial]
    model: ReadModel


@dataclass(frozen=True)
class Book:
    events: int
    partials: list[tuple[str, Partial]]
    positioned: list[Positioned[Any]]
    stored: list[tuple[str, dict[str, Any]]]
    stored_bytes: list[tuple[str, bytes]]

    @property
    def records(self) -> int:
        return sum(len(part.records) for _, part in self.partials if isinstance(part, Timeline))


def codecs(tz: str) -> tuple[Codec, Codec]:
    kpis = next(model for model in read_models(load_process(None), tz) if model.name == "kpis")
    old = replace(kpis, to_dict=generated_encode_partial, from_dict=generated_decode_partial)
    return (
        Codec("generated (old)", generated_encode_partial, generated_decode_partial, old),
        Codec("plain (new)", kpi_codec.encode_partial, kpi_codec.decode_partial, kpis),
    )


def book(count: int, seed: int, tz: str, old: Codec, new: Codec) -> Book:
    """The KPI book of the history, checked to be stored byte for byte alike by both codecs."""
    events = history(count, seed)
    partials = list(fold(events, tz).partials.items())
    positioned = [Positioned(part, offset) for offset, (_, part) in enumerate(partials)]
    stored_bytes = []
    for (key, _), at in zip(partials, positioned, strict=True):
        written = new.model.encode(at)
        if written != old.model.encode(at):
            raise AssertionError(f"the codecs store {key} differently")
        for codec in (old, new):
            if codec.model.decode(key, written) != at:
                raise AssertionError(f"{codec.name} does not read {key} back")
        stored_bytes.append((key, written))
    stored = [(key, new.encode(part)) for key, part in partials]
    return Book(len(events), partials, positioned, stored, stored_bytes)


# --- measure -------------------------------------------------------------------------------------

PASSES = ("encode", "decode", "encode + orjson", "orjson + decode")


def passes(codec: Codec, data: Book) -> dict[str, Callable[[], object]]:
    encode, decode, model = codec.encode, codec.decode, codec.model
    return {
        "encode": lambda: [encode(part) for _, part in data.partials],
        "decode": lambda: [decode(key, stored) for key, stored in data.stored],
        "encode + orjson": lambda: [model.encode(at) for at in data.positioned],
        "orjson + decode": lambda: [model.decode(key, stored) for key, stored in data.stored_bytes],
    }


def timed(run: Callable[[], object]) -> float:
    gc.collect()
    gc.disable()
    try:
        started = time.perf_counter()
        run()
        return time.perf_counter() - started
    finally:
        gc.enable()


def measure(data: Book, old: Codec, new: Codec, repeat: int) -> dict[str, Any]:
    runs = {codec.name: passes(codec, data) for codec in (old, new)}
    seconds: dict[str, dict[str, list[float]]] = {name: {p: [] for p in PASSES} for name in runs}
    for warm_up in runs.values():  # one untimed pass each
        for run in warm_up.values():
            run()
    for repetition in range(repeat):
        order = (old, new) if repetition % 2 == 0 else (new, old)
        for name in PASSES:
            for codec in order:
                seconds[codec.name][name].append(timed(runs[codec.name][name]))
    records, partials = data.records, len(data.partials)
    result: dict[str, Any] = {}
    for name in PASSES:
        per_codec: dict[str, Any] = {}
        for codec in (old, new):
            times = seconds[codec.name][name]
            median = statistics.median(times)
            per_codec[codec.name] = {
                "min_s": round(min(times), 4),
                "median_s": round(median, 4),
                "records_per_s": round(records / median),
                "partials_per_s": round(partials / median),
                "seconds": [round(t, 4) for t in times],
            }
        before, after = seconds[old.name][name], seconds[new.name][name]
        result[name] = {
            **per_codec,
            "ratio_new_old_min": round(min(before) / min(after), 3),
            "ratio_new_old_median": round(statistics.median(before) / statistics.median(after), 3),
        }
    return result


# --- reporting -----------------------------------------------------------------------------------


def table(result: dict[str, Any], old: Codec, new: Codec) -> str:
    lines = [
        f"book: {result['events']:,} events -> {result['partials']:,} partials"
        f" ({result['timelines']:,} timelines holding {result['records']:,} records,"
        f" {result['partials'] - result['timelines']:,} counters), {result['stored_bytes']:,} bytes stored;"
        " both codecs store identical bytes",
        f"{result['repeat']} repetitions; ratio = new throughput / old throughput (above 1: new faster)",
        "",
        f"{'pass':<16} {'codec':<16} {'min s':>8} {'median s':>9} {'records/s':>11} {'partials/s':>11}",
    ]
    for name in PASSES:
        measured = result["passes"][name]
        for codec in (old, new):
            m = measured[codec.name]
            lines.append(
                f"{name:<16} {codec.name:<16} {m['min_s']:>8.4f} {m['median_s']:>9.4f}"
                f" {m['records_per_s']:>11,} {m['partials_per_s']:>11,}"
            )
        lines.append(
            f"{'':<16} {'ratio new/old':<16} {measured['ratio_new_old_min']:>8.3f}"
            f" {measured['ratio_new_old_median']:>9.3f}"
        )
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=100_000, help="events folded (default 100000)")
    parser.add_argument("--repeat", type=int, default=15, help="timed repetitions (default 15)")
    parser.add_argument("--seed", type=int, default=7, help="simulator seed")
    parser.add_argument("--tz", default="Europe/London", help="organisation time zone of the fold")
    parser.add_argument("--json", type=Path, help="also write the results as JSON to this path")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    started, host, commit = datetime.now(UTC), machine(), revision()
    old, new = codecs(args.tz)
    data = book(args.events, args.seed, args.tz, old, new)
    gc.freeze()
    result: dict[str, Any] = {
        "events": data.events,
        "partials": len(data.partials),
        "timelines": sum(isinstance(part, Timeline) for _, part in data.partials),
        "records": data.records,
        "stored_bytes": sum(len(stored) for _, stored in data.stored_bytes),
        "repeat": args.repeat,
        "passes": measure(data, old, new, args.repeat),
        "date": started.isoformat(timespec="seconds"),
        "command": " ".join(
            [".venv/bin/python -m bench.codecs", *(argv if argv is not None else sys.argv[1:])]
        ),
        "commit": commit,
        "machine": host,
    }
    print(table(result, old, new))
    print(f"\n{result['command']}  ({commit}, {host['cpus']} CPUs, load {host['load_average_at_start']})")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
