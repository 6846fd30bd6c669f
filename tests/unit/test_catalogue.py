"""The catalogue: every type and version has a sample that parses forever, and the docs match the code."""

from __future__ import annotations

import copy
import json
import re
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from events import EVENT_TYPES, Reason, Rejection, parse_event, serialize_event
from events.activities import MeetingHeld
from events.catalogue import LATEST_VERSION, UPCASTERS
from events.deals import DealWon, Stage
from events.incentives import CommissionAdjusted, CompPlanAssigned, CompPlanPublished
from events.parse import parse_document
from events.schema import (
    catalogue_schema,
    catalogue_table,
    event_json_schema,
    partition_field,
    schema_files,
    with_catalogue_table,
)
from events.versions import Upcasters

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "tests" / "data" / "events"
SAMPLE_NAME = re.compile(r"(?P<type>[A-Za-z]+)\.v(?P<version>[0-9]+)\.json")


def sample(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((SAMPLES / f"{name}.json").read_text(encoding="utf-8"))
    return document


def sample_files() -> list[Path]:
    return sorted(SAMPLES.glob("*.json"))


def latest_sample_names() -> list[str]:
    return [f"{name}.v{version}" for name, version in LATEST_VERSION.items()]


def rejection_of(document: dict[str, Any]) -> Rejection:
    with pytest.raises(Rejection) as caught:
        parse_event(json.dumps(document))
    return caught.value


def fields_of(rejection: Rejection) -> list[str]:
    return [error.field for error in rejection.errors]


# --- every version of every type has a sample, and it keeps parsing --------------------------------


def test_samples_cover_every_version_of_every_type_and_nothing_else() -> None:
    found = set()
    for path in sample_files():
        match = SAMPLE_NAME.fullmatch(path.name)
        assert match, f"sample file {path.name} is not named <Type>.v<N>.json"
        found.add((match["type"], int(match["version"])))
    expected = {(name, v) for name, latest in LATEST_VERSION.items() for v in range(1, latest + 1)}
    assert found == expected


@pytest.mark.parametrize("path", sample_files(), ids=lambda p: p.stem)
def test_sample_parses_to_its_type_at_the_latest_version(path: Path) -> None:
    event_type = SAMPLE_NAME.fullmatch(path.name)["type"]  # type: ignore[index]
    event = parse_event(path.read_bytes())
    assert isinstance(event, EVENT_TYPES[event_type])
    assert event.schemaversion == LATEST_VERSION[event_type]


@pytest.mark.parametrize("path", sample_files(), ids=lambda p: p.stem)
def test_serialized_sample_parses_back_equal_and_serializes_to_the_same_bytes(path: Path) -> None:
    event = parse_event(path.read_bytes())
    again = parse_event(serialize_event(event))
    assert again == event
    assert serialize_event(again) == serialize_event(event)


@pytest.mark.parametrize("name", latest_sample_names())
def test_partition_key_is_the_aggregate_named_in_the_docs(name: str) -> None:
    event = parse_event(json.dumps(sample(name)))
    key_field = partition_field(type(event))
    assert event.partition_key == event.model_dump()["data"][key_field]
    assert event.partition_key == event.subject  # the samples name their aggregate as subject


def test_every_model_pins_the_version_the_registry_says_is_latest() -> None:
    for name, model in EVENT_TYPES.items():
        assert model.model_fields["schemaversion"].default == LATEST_VERSION[name], name


# --- versioning ----------------------------------------------------------------------------------


def test_meeting_held_v1_is_upcast_to_seconds_without_touching_the_original() -> None:
    v1 = sample("MeetingHeld.v1")
    original = copy.deepcopy(v1)
    event = parse_document(v1)
    assert isinstance(event, MeetingHeld)
    assert event.schemaversion == 2
    assert event.data.duration_seconds == 45 * 60
    assert event.data.kind == "discovery" and event.data.attendee_count == 3
    assert v1 == original


def test_upcast_document_carries_the_latest_version_and_the_new_field() -> None:
    upcast = UPCASTERS.upcast(sample("MeetingHeld.v1"))
    assert upcast["schemaversion"] == 2
    assert upcast["data"]["duration_seconds"] == 2700
    assert "duration_minutes" not in upcast["data"]


def test_v1_meeting_without_minutes_is_rejected_naming_the_v1_field() -> None:
    document = sample("MeetingHeld.v1")
    del document["data"]["duration_minutes"]
    rejection = rejection_of(document)
    assert rejection.reason is Reason.INVALID
    assert fields_of(rejection) == ["data.duration_minutes"]


def test_v2_meeting_without_a_version_is_read_as_v1_and_rejected() -> None:
    document = sample("MeetingHeld.v2")
    del document["schemaversion"]
    assert fields_of(rejection_of(document)) == ["data.duration_seconds"]


def test_meeting_from_the_future_is_unsupported() -> None:
    assert rejection_of({**sample("MeetingHeld.v2"), "schemaversion": 3}).reason is Reason.UNSUPPORTED_VERSION


def test_comp_plan_v1_is_upcast_with_v1_meaning_written_out_without_touching_the_original() -> None:
    v1 = sample("CompPlanPublished.v1")
    original = copy.deepcopy(v1)
    upcast = UPCASTERS.upcast(v1)
    assert upcast["schemaversion"] == 2 and v1 == original
    rules = {rule["rule_id"]: rule for rule in upcast["data"]["rules"]}
    assert rules["base-commission"]["scope"] == rules["accelerator"]["scope"] == "period_to_date"
    assert rules["quarterly-cap"]["per_deal"] is False and rules["win-rate-bonus"]["min_observations"] == 0
    assert not any("decelerator" in rule or rule["kind"] == "draw" for rule in rules.values())
    event = parse_document(v1)
    assert isinstance(event, CompPlanPublished) and event.schemaversion == 2


@pytest.mark.parametrize(
    ("rule", "field", "value"),
    [
        (0, "scope", "per_deal"),
        (2, "decelerator", {"floor_percent": "50", "rate_percent": "1"}),
        (3, "per_deal", True),
        (5, "min_observations", 10),
    ],
)
def test_v1_plan_carrying_a_field_new_in_v2_is_rejected_naming_it(rule: int, field: str, value: Any) -> None:
    document = sample("CompPlanPublished.v1")
    document["data"]["rules"][rule][field] = value
    rejection = rejection_of(document)
    assert fields_of(rejection) == [f"data.rules.{rule}.{field}"]
    assert "new in schemaversion 2" in rejection.message


def test_v2_plan_without_a_version_is_read_as_v1_and_rejected() -> None:
    document = sample("CompPlanPublished.v2")
    del document["schemaversion"]
    assert fields_of(rejection_of(document)) == ["data.rules.0.scope"]


def test_a_v1_plan_assignment_reads_as_v2_with_no_overlay_and_refuses_one() -> None:
    v1 = sample("CompPlanAssigned.v1")
    event = parse_document(v1)
    assert isinstance(event, CompPlanAssigned) and event.schemaversion == 2 and event.data.overlay is None
    v1["data"]["overlay"] = {"team_ids": ["team-emea"]}
    rejection = rejection_of(v1)
    assert fields_of(rejection) == ["data.overlay"] and "new in schemaversion 2" in rejection.message


def test_an_overlay_names_a_team_or_a_territory_and_a_positive_share() -> None:
    event = parse_document(sample("CompPlanAssigned.v2"))
    assert isinstance(event, CompPlanAssigned) and event.data.overlay is not None
    assert event.data.overlay.team_ids == ("team-emea-mm",) and event.data.overlay.share_percent == 50
    document = sample("CompPlanAssigned.v2")
    document["data"]["overlay"] = {"team_ids": [], "territory_ids": []}
    assert "at least one team or territory" in rejection_of(document).message
    document["data"]["overlay"] = {"territory_ids": ["terr-emea-dach"], "share_percent": "0"}
    assert fields_of(rejection_of(document)) == ["data.overlay.share_percent"]


def test_a_plan_has_at_most_one_draw_and_no_cap_names_it() -> None:
    document = sample("CompPlanPublished.v2")
    draw = {"kind": "draw", "rule_id": "second-draw", "amount": "1000.00", "recoverable": False}
    document["data"]["rules"].append(draw)
    assert "at most one draw" in rejection_of(document).message
    document = sample("CompPlanPublished.v2")
    document["data"]["rules"][4]["applies_to"] = ["ramp-draw"]
    assert "caps come before the draw" in rejection_of(document).message


def test_a_decelerator_has_a_multiplier_or_a_replacement_rate_not_both() -> None:
    document = sample("CompPlanPublished.v2")
    document["data"]["rules"][0]["decelerator"]["multiplier_percent"] = "50"
    assert fields_of(rejection_of(document)) == ["data.rules.0.marginal_tiers.decelerator"]


def test_an_adjustment_is_never_a_negative_amount_its_direction_says_which_way() -> None:
    document = sample("CommissionAdjusted.v1")
    document["data"]["amount"]["amount"] = "-250.00"
    assert fields_of(rejection_of(document)) == ["data.amount.amount"]
    document["data"].update(amount={"amount": "250.00", "currency": "EUR"}, direction="deduct")
    event = parse_event(json.dumps(document))
    assert isinstance(event, CommissionAdjusted) and event.partition_key == "rep-ada"


def test_upcasters_must_start_at_version_one_without_gaps() -> None:
    def step(document: dict[str, Any]) -> dict[str, Any]:
        return document

    with pytest.raises(ValueError, match="no gap"):
        Upcasters({("MeetingHeld", 2): step})
    assert Upcasters({("X", 1): step, ("X", 2): step}).latest("X") == 3


def test_every_upcaster_belongs_to_a_known_type() -> None:
    assert {name for name, _ in UPCASTERS.steps} <= set(EVENT_TYPES)


# --- business rules in the contracts -------------------------------------------------------------


def deal_won(*shares: str) -> dict[str, Any]:
    document = sample("DealWon.v1")
    splits = [{"rep_id": f"rep-{i}", "share_percent": share} for i, share in enumerate(shares)]
    document["data"]["credit_splits"] = splits
    return document


@pytest.mark.parametrize("shares", [("100",), ("50", "50"), ("33.33", "33.33", "33.34"), ("70", "30.0000")])
def test_credit_splits_totalling_exactly_100_percent_are_accepted(shares: tuple[str, ...]) -> None:
    event = parse_event(json.dumps(deal_won(*shares)))
    assert isinstance(event, DealWon)
    assert sum(split.share_percent for split in event.data.credit_splits) == 100


def test_credit_splits_totalling_99_percent_are_rejected_naming_the_field() -> None:
    rejection = rejection_of(deal_won("50", "49"))
    assert rejection.reason is Reason.INVALID
    assert fields_of(rejection) == ["data.credit_splits"]
    assert "must total exactly 100%, not 99%" in rejection.message


def test_one_rep_twice_in_the_credit_splits_is_rejected() -> None:
    document = deal_won("50", "50")
    document["data"]["credit_splits"][1]["rep_id"] = "rep-0"
    assert fields_of(rejection_of(document)) == ["data.credit_splits"]


def test_negative_money_is_rejected_naming_the_amount() -> None:
    document = sample("DealWon.v1")
    document["data"]["amount"]["amount"] = "-112500.00"
    assert fields_of(rejection_of(document)) == ["data.amount.amount"]


@pytest.mark.parametrize("written", ['"1e5"', '" 100"', '"1_000"', '"+5"', "true", '"NaN"', '"12.34567"'])
def test_money_that_is_not_a_plain_exact_decimal_is_rejected(written: str) -> None:
    raw = json.dumps(sample("DealWon.v1")).replace('"112500.00"', written, 1)
    with pytest.raises(Rejection) as caught:
        parse_event(raw)
    assert fields_of(caught.value) == ["data.amount.amount"]


@pytest.mark.parametrize(
    ("written", "exact", "canonical"),
    [
        ("112500.10", Decimal("112500.10"), '"112500.10"'),
        ("99999999999999.9999", Decimal("99999999999999.9999"), '"99999999999999.9999"'),
        ("1.125E5", Decimal("112500"), '"112500"'),
        ("112500", Decimal("112500"), '"112500"'),
        ('"0.00"', Decimal("0"), '"0.00"'),
        ('"0.0000000"', Decimal("0"), '"0.0000"'),
        ("-0.0", Decimal("0"), '"0.0"'),
        ('"10.000000"', Decimal("10"), '"10.000000"'),
    ],
)
def test_money_as_a_json_number_is_exact_and_written_back_as_a_string(
    written: str, exact: Decimal, canonical: str
) -> None:
    raw = json.dumps(sample("DealWon.v1")).replace('"112500.00"', written, 1)
    event = parse_event(raw)
    assert isinstance(event, DealWon)
    assert event.data.amount.amount == exact
    assert f'"amount":{canonical}' in serialize_event(event).decode()


def test_currency_must_be_three_upper_case_letters() -> None:
    document = sample("DealWon.v1")
    document["data"]["amount"]["currency"] = "eur"
    assert fields_of(rejection_of(document)) == ["data.amount.currency"]


def test_naive_time_is_rejected() -> None:
    assert fields_of(rejection_of({**sample("DealWon.v1"), "time": "2026-11-12T17:45:00"})) == ["time"]


@pytest.mark.parametrize(
    "written", ["2026-07-01T00:00:00", "01/07/2026", "2026-7-1", 1782864000, "2026-02-30"]
)
def test_business_dates_are_plain_calendar_days(written: object) -> None:
    document = sample("TerritoryAssigned.v1")
    document["data"]["effective_from"] = written
    assert fields_of(rejection_of(document)) == ["data.effective_from"]


def test_effective_to_before_effective_from_is_rejected() -> None:
    document = sample("TerritoryAssigned.v1")
    document["data"]["effective_to"] = "2026-06-30"
    assert fields_of(rejection_of(document)) == ["data.effective_to"]


@pytest.mark.parametrize(
    "period",
    [
        {"kind": "quarter", "start": "2026-10-01", "end": "2026-12-30"},
        {"kind": "quarter", "start": "2026-10-02", "end": "2026-12-31"},
        {"kind": "month", "start": "2026-02-01", "end": "2026-03-31"},
        {"kind": "custom", "start": "2026-10-01", "end": "2026-09-30"},
    ],
)
def test_a_period_must_fit_its_kind_and_not_end_before_it_starts(period: dict[str, str]) -> None:
    document = sample("QuotaAssigned.v1")
    document["data"]["period"] = period
    assert fields_of(rejection_of(document)) == ["data.period.end"]


def test_fiscal_quarters_and_years_may_start_in_any_month() -> None:
    document = sample("QuotaAssigned.v1")
    document["data"]["period"] = {"kind": "year", "start": "2026-02-01", "end": "2027-01-31"}
    parse_event(json.dumps(document))


def test_stage_changes_accept_configured_stage_names() -> None:
    document = sample("DealStageChanged.v1")
    document["data"].update(from_stage="closing", to_stage="legal_review")
    parse_event(json.dumps(document))


@pytest.mark.parametrize("to_stage", [Stage.WON, Stage.LOST])
def test_a_deal_is_closed_by_won_or_lost_not_by_a_stage_change(to_stage: Stage) -> None:
    document = sample("DealStageChanged.v1")
    document["data"]["to_stage"] = str(to_stage)
    rejection = rejection_of(document)
    assert fields_of(rejection) == ["data.to_stage"]
    assert "DealWon or DealLost" in rejection.message


def test_a_reopened_deal_leaves_a_closed_stage() -> None:
    document = sample("DealStageChanged.v1")
    document["data"].update(from_stage="lost", to_stage="closing")
    parse_event(json.dumps(document))


@pytest.mark.parametrize("name", ["Prospecting", "Closed Won", "won-deal", ""])
def test_stage_names_are_lower_snake_case(name: str) -> None:
    document = sample("DealStageChanged.v1")
    document["data"]["to_stage"] = name
    assert fields_of(rejection_of(document)) == ["data.to_stage"]


@pytest.mark.parametrize(
    ("kpi", "target"),
    [
        ("revenue", "500000"),
        ("win_rate", {"amount": "30", "currency": "EUR"}),
        ("win_rate", "130"),
        ("calls", "10.5"),
    ],
)
def test_an_objective_target_is_in_the_unit_of_its_kpi(kpi: str, target: object) -> None:
    document = sample("ObjectiveSet.v1")
    document["data"].update(kpi=kpi, target=target)
    assert fields_of(rejection_of(document)) == ["data.target"]


def test_a_money_objective_takes_money() -> None:
    document = sample("ObjectiveSet.v1")
    document["data"].update(kpi="revenue", target={"amount": "2000000", "currency": "EUR"})
    parse_event(json.dumps(document))


def test_comp_plan_tiers_must_start_at_zero_and_rise() -> None:
    document = sample("CompPlanPublished.v1")
    document["data"]["rules"][0]["tiers"][2]["threshold"] = "10000"
    assert fields_of(rejection_of(document)) == ["data.rules.0.marginal_tiers.tiers"]


def test_a_cap_must_name_rules_of_the_plan() -> None:
    document = sample("CompPlanPublished.v1")
    document["data"]["rules"][3]["applies_to"] = ["base-commission", "no-such-rule"]
    rejection = rejection_of(document)
    assert fields_of(rejection) == ["data.rules"]
    assert "no-such-rule" in rejection.message


# --- published docs are generated from the code ---------------------------------------------------


def test_committed_json_schemas_are_what_the_code_generates() -> None:
    directory = ROOT / "docs" / "schemas"
    committed = {path.name: path.read_text(encoding="utf-8") for path in directory.glob("*.json")}
    assert committed == schema_files(), "run: python -m events.schema docs/schemas docs/events.md"


def test_events_doc_table_is_what_the_code_generates() -> None:
    text = (ROOT / "docs" / "events.md").read_text(encoding="utf-8")
    assert catalogue_table() in text
    assert with_catalogue_table(text) == text, "run: python -m events.schema docs/schemas docs/events.md"


@pytest.mark.parametrize("name", latest_sample_names())
def test_samples_satisfy_the_published_json_schemas(name: str) -> None:
    from jsonschema import Draft202012Validator  # imported here so the rest of the file runs without it

    document = sample(name)
    checker = Draft202012Validator.FORMAT_CHECKER
    Draft202012Validator(event_json_schema(name.split(".")[0]), format_checker=checker).validate(document)
    Draft202012Validator(catalogue_schema(), format_checker=checker).validate(document)


def test_a_v1_meeting_does_not_claim_to_satisfy_the_v2_schema() -> None:
    from jsonschema import Draft202012Validator

    assert not Draft202012Validator(event_json_schema("MeetingHeld")).is_valid(sample("MeetingHeld.v1"))


# --- property: any valid variation of a sample survives the round trip ---------------------------

IDENTIFIER = r"^[A-Za-z0-9._:@/-]+$"  # the pattern of events.envelope.Identifier
# Fields whose value is tied to another field's (sums, orderings, units): a mutation of one of
# these may be rejected, and that rejection must name one of the coupled fields below.
COUPLED = re.compile(r"data\.(target|(period|window|term)\.end|to_stage|rules\.\d+\.kpi_bonus\.threshold)")
KEEP = {"share_percent", "threshold"}  # coupled across list items; mutating them is mostly noise


def resolve(schema: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = defs[schema["$ref"].rsplit("/", 1)[1]]
    return schema


def is_decimal(schema: dict[str, Any]) -> bool:
    return any(branch.get("type") == "number" for branch in schema.get("anyOf", []))


def branch_for(value: Any, schema: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    """The branch of a union schema that describes ``value``."""
    branches = [
        resolve(b, defs) for b in schema.get("anyOf", schema.get("oneOf", [])) if b.get("type") != "null"
    ]
    if isinstance(value, dict):
        return next(b for b in branches if b.get("type") == "object" and tagged_as(value, b))
    return next(b for b in branches if b.get("type") != "object")


def tagged_as(value: dict[str, Any], schema: dict[str, Any]) -> bool:
    """Whether ``value`` has the constant properties (the union tag) ``schema`` requires."""
    consts = {k: p["const"] for k, p in schema["properties"].items() if "const" in p}
    return all(value.get(k) == v for k, v in consts.items())


class Mutator:
    """Draws a variation of a valid document, guided by its JSON Schema."""

    def __init__(self, draw: st.DrawFn, defs: dict[str, Any]) -> None:
        self.draw, self.defs = draw, defs
        self.ids: dict[str, str] = {}

    def __call__(self, value: Any, schema: dict[str, Any], key: str = "") -> Any:
        schema = resolve(schema, self.defs)
        if value is None or key in KEEP or "const" in schema:
            return value
        if is_decimal(schema):
            return self.draw(self.decimals(schema)) if self.draw(st.booleans()) else value
        if "anyOf" in schema or "oneOf" in schema:
            return self(value, branch_for(value, schema, self.defs), key)
        if isinstance(value, dict):
            props = schema["properties"]
            return {k: self(v, props[k], k) if k in props else v for k, v in value.items()}
        if isinstance(value, list):
            return [self(item, schema["items"]) for item in value]
        if schema.get("pattern") == IDENTIFIER:
            return self.renamed(value)
        if not self.draw(st.booleans()):
            return value
        return self.draw(self.leaf(value, schema))

    def leaf(self, value: Any, schema: dict[str, Any]) -> st.SearchStrategy[Any]:
        if "enum" in schema:
            return st.sampled_from(schema["enum"])
        if isinstance(value, bool):
            return st.booleans()
        if isinstance(value, int):
            return st.integers(schema.get("minimum"), schema.get("maximum"))
        if schema.get("format") == "date-time":
            return aware_datetimes()
        if schema.get("format") == "date":
            return st.just(value)  # every date here is ordered against another one
        if "pattern" in schema:
            return st.from_regex(schema["pattern"], fullmatch=True).filter(
                lambda s: len(s) <= schema.get("maxLength", 64)
            )
        return st.text(min_size=schema.get("minLength", 0), max_size=min(schema.get("maxLength", 40), 40))

    def renamed(self, identifier: str) -> str:
        """A consistent renaming: equal ids stay equal and different ids stay different."""
        if identifier not in self.ids:
            taken = set(self.ids.values())
            fresh = (
                st.from_regex(r"[A-Za-z0-9._:@/-]{1,40}", fullmatch=True)
                if self.draw(st.booleans())
                else st.just(identifier)
            )
            self.ids[identifier] = self.draw(fresh.filter(lambda s: s not in taken))
        return self.ids[identifier]

    def decimals(self, schema: dict[str, Any]) -> st.SearchStrategy[Any]:
        number = next(b for b in schema["anyOf"] if b.get("type") == "number")
        places = self.draw(st.integers(0, 4))
        low = Decimal(str(number.get("minimum", number.get("exclusiveMinimum", 0))))
        high = Decimal(str(number.get("maximum", 10**13)))
        values = st.decimals(
            min_value=low, max_value=high, places=places, allow_nan=False, allow_infinity=False
        )
        values = values.filter(lambda d: "exclusiveMinimum" not in number or d > low)
        # Written as the canonical string, or as a JSON number when a float holds it exactly.
        return values.flatmap(
            lambda d: st.sampled_from([str(d), float(d)] if len(d.as_tuple().digits) <= 15 else [str(d)])
        )


def aware_datetimes() -> st.SearchStrategy[str]:
    offsets = st.integers(-23 * 60 - 59, 23 * 60 + 59).map(lambda m: timezone(timedelta(minutes=m)))
    moments = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1), timezones=offsets)
    return moments.map(datetime.isoformat)


@st.composite
def variations(draw: st.DrawFn, name: str) -> dict[str, Any]:
    schema = event_json_schema(name.split(".")[0])
    document: dict[str, Any] = Mutator(draw, schema.get("$defs", {}))(sample(name), schema)
    return document


@pytest.mark.parametrize("name", latest_sample_names())
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_valid_variation_of_a_sample_survives_the_round_trip(name: str, data: st.DataObject) -> None:
    document = data.draw(variations(name))
    try:
        event = parse_event(json.dumps(document))
    except Rejection as rejection:
        assert all(COUPLED.match(field) for field in fields_of(rejection)), rejection.as_dict()
        assume(False)
        raise
    assert parse_event(serialize_event(event)) == event
    assert serialize_event(parse_event(serialize_event(event))) == serialize_event(event)
