"""Issue 12, "Trust between the parts": which peers a worker asks, how both ends authenticate, how
much of an answer is read and which partials of it are merged (`services.queries.peers`, `fanout`)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiohttp import web
from pydantic import SecretStr

from sales.process import default_process
from services.projector.readmodels import ReadModel, read_models
from services.queries import fanout
from services.queries.fanout import PARTIALS, PeerError, fetch, fetch_checked, own_partials, peer_session
from services.queries.peers import (
    REQUEST_HEADER,
    RESPONSE_HEADER,
    Malformed,
    PeerAuth,
    TooLarge,
    allowed,
    chosen_peers,
    merged,
    read_capped,
    taken,
    validated,
)
from services.settings import Settings, peer_allowlist, settings_table
from services.web.routes import Call

SECRET = "s3cret-peer-key-" + "x" * 16
MODELS = {model.name: model for model in read_models(default_process(), "UTC")}
ACTIVITY = MODELS["rep-activity"]
DEFAULT = peer_allowlist(Settings().peer_urls)


# --- allowlist -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:6066", "http://127.0.0.1:7000/", "http://localhost:1", "https://[::1]:8443"],
)
def test_the_default_allowlist_takes_loopback_workers(url: str) -> None:
    assert allowed(url, DEFAULT)


@pytest.mark.parametrize(
    "url",
    [
        "http://203.0.113.7:6066",  # another machine: not listed
        "http://127.0.0.2:6066",  # only the loopback names listed
        "http://user:pw@127.0.0.1:6066",  # user info
        "http://127.0.0.1:6066/elsewhere",  # a path: a worker announces its base URL
        "http://127.0.0.1:6066/?q=1",
        "ftp://127.0.0.1:21",
        "http://127.0.0.1:notaport",
        "127.0.0.1:6066",
        "",
    ],
)
def test_the_default_allowlist_refuses_anything_else(url: str) -> None:
    assert not allowed(url, DEFAULT)


def test_allowlist_entries_by_host_port_and_scheme() -> None:
    entries = peer_allowlist("http://10.0.0.5:6066, worker-b:7000, Worker-C")
    assert allowed("http://10.0.0.5:6066", entries)
    assert not allowed("https://10.0.0.5:6066", entries)  # scheme given: only that one
    assert not allowed("http://10.0.0.5:6067", entries)
    assert allowed("https://worker-b:7000", entries) and not allowed("http://worker-b:7001", entries)
    assert allowed("http://worker-c:1234", entries) and allowed("http://worker-c", entries)
    assert peer_allowlist("") == ()
    for bad in ("ftp://x", "x:port", "http://u:p@x:1", "x/path"):
        with pytest.raises(ValueError):
            peer_allowlist(bad)
        with pytest.raises(ValueError):
            Settings(peer_urls=bad)


def test_peers_are_the_allowed_members_owning_partitions_each_refusal_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    directory: dict[str, list[Any]] = {
        "http://127.0.0.1:1": [0, 1],  # this worker
        "http://127.0.0.1:2": [2, 99, -1, True, "3"],  # only 2 is a partition
        "http://127.0.0.1:3": [],  # owns nothing
        "http://mallory.example:6066": [3],  # not allowed
    }
    with caplog.at_level(logging.WARNING):
        for _ in range(3):
            peers = chosen_peers(directory, "http://127.0.0.1:1", DEFAULT, 4)
            assert peers == [("http://127.0.0.1:2", frozenset({2}))]
    refused = [r for r in caplog.records if "mallory.example" in r.getMessage()]
    assert len(refused) == 1 and "SALESLEDGER_PEER_URLS" in refused[0].getMessage()


def test_at_most_as_many_peers_as_partitions_are_asked() -> None:
    directory = {f"http://127.0.0.1:{port}": [0] for port in range(1000, 1100)}
    assert len(chosen_peers(directory, "http://127.0.0.1:1", DEFAULT, 4)) == 4


# --- authentication ------------------------------------------------------------------------


def test_a_signed_request_and_answer_check_with_the_same_secret_only() -> None:
    auth, other = PeerAuth(SECRET.encode()), PeerAuth(b"another-secret-of-16+chars")
    path = PARTIALS.format(name="pipeline")
    header, nonce = auth.sign_request("GET", path, now=1_000_000)
    assert SECRET not in header and SECRET not in repr(auth)
    assert auth.check_request("GET", path, header, now=1_000_010) == nonce
    assert other.check_request("GET", path, header, now=1_000_010) is None
    assert auth.check_request("GET", PARTIALS.format(name="kpis"), header, now=1_000_010) is None
    assert auth.check_request("POST", path, header, now=1_000_010) is None
    assert auth.check_request("GET", path, header, now=1_000_000 + 301) is None  # too old
    last_changed = header[:-1] + ("1" if header.endswith("0") else "0")  # (a random MAC may end in 0)
    for forged in ("", "Bearer " + SECRET, header.replace("m=", "m=0"), last_changed):
        assert auth.check_request("GET", path, forged, now=1_000_010) is None
    mac = auth.sign_answer(nonce, b'{"partials":[],"partitions":[]}')
    assert auth.check_answer(nonce, b'{"partials":[],"partitions":[]}', mac)
    assert not auth.check_answer(nonce, b'{"partials":[],"partitions":[0]}', mac)
    assert not auth.check_answer("0" * 32, b'{"partials":[],"partitions":[]}', mac)
    assert not other.check_answer(nonce, b'{"partials":[],"partitions":[]}', mac)
    assert not auth.check_answer(nonce, b"{}", "")


def test_the_secret_setting_is_masked_checked_and_empty_means_unset() -> None:
    settings = Settings(peer_secret=SECRET)
    assert SECRET not in repr(settings) and SECRET not in str(settings)
    assert SECRET not in settings_table(settings)
    assert Settings(peer_secret="").peer_secret is None
    with pytest.raises(ValueError) as refused:
        Settings(peer_secret="short-secret")
    assert "short-secret" not in str(refused.value)


# --- reading -------------------------------------------------------------------------------


async def chunks(
    count: int | None, size: int = 1000, pulled: list[int] | None = None
) -> AsyncIterator[bytes]:
    n = 0
    while count is None or n < count:
        n += 1
        if pulled is not None:
            pulled.append(n)
        yield b"x" * size


async def test_a_body_within_the_cap_is_read_whole() -> None:
    assert await read_capped(chunks(5), 5000) == b"x" * 5000


async def test_a_body_past_the_cap_stops_being_read_at_the_cap() -> None:
    pulled: list[int] = []
    with pytest.raises(TooLarge):
        await read_capped(chunks(None, pulled=pulled), 10_000)  # endless
    assert len(pulled) == 11
    early: list[int] = []
    with pytest.raises(TooLarge):
        await read_capped(chunks(1, pulled=early), 10_000, declared=10_001)
    assert early == []  # refused on its declared length, nothing read


# --- shape ---------------------------------------------------------------------------------


def body(partials: Any, partitions: Any) -> bytes:
    return orjson.dumps({"partials": partials, "partitions": partitions})


def activity(calls: int) -> dict[str, int]:
    return {"calls": calls, "connected_calls": 0, "talk_seconds": 0, "leads_captured": 0}


def test_a_well_formed_answer_is_decoded_with_the_models_own_decoder() -> None:
    answer = validated(body([[1, "rep-a", [7, activity(3)]]], [1, 2]), ACTIVITY, 4)
    assert answer.partitions == {1, 2}
    ((partition, key, stored, state),) = answer.partials
    assert (partition, key, stored) == (1, "rep-a", [7, activity(3)]) and state.calls == 3


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        (b"not json", "not JSON"),
        (b"[]", "not an object"),
        (body([], [4]), "partitions"),  # beyond the topic's partitions
        (body([], [-1]), "partitions"),
        (body([], [True]), "partitions"),
        (body([], ["0"]), "partitions"),
        (body([], [1, 1]), "twice"),
        (body([], None), "partitions"),
        (body([[2, "rep-a", [7, activity(3)]]], [1]), "not one the answer covers"),
        (body([[1, "rep-a", [7, "a string"]]], [1]), "does not decode"),
        (body([[1, "rep-a", [7, {"calls": "many"}]]], [1]), "does not decode"),
        (body([[1, "rep-a", ["7", activity(1)]]], [1]), "no offset"),
        (body([[1, 5, [7, activity(1)]]], [1]), "is not \\[partition"),
        (body([[1, "rep-a"]], [1]), "is not \\[partition"),
    ],
)
def test_a_malformed_answer_is_refused_whole(raw: bytes, why: str) -> None:
    with pytest.raises(Malformed, match=why):
        validated(raw, ACTIVITY, 4)


def test_a_peer_contributes_only_partitions_it_owns_that_nobody_covers_yet() -> None:
    answer = validated(body([[p, f"rep-{p}", [1, activity(p)]] for p in (0, 1, 2)], [0, 1, 2]), ACTIVITY, 4)
    covered = {0}  # this worker's
    got = taken(answer, claims={0, 1}, covered=covered)  # the directory gives it 0 and 1
    assert got.partitions == {1} and [p[1] for p in got.partials] == ["rep-1"] and covered == {0, 1}


def test_merging_drops_a_malformed_body_with_a_warning_so_coverage_drops(
    caplog: pytest.LogCaptureFixture,
) -> None:
    bodies = [
        ("this worker", frozenset(range(4)), body([[0, "rep-a", [1, activity(1)]]], [0])),
        ("http://127.0.0.1:2", frozenset({1}), body([[1, "rep-b", [1, "bad"]]], [1])),
        ("http://127.0.0.1:3", frozenset({2}), body([[2, "rep-c", [1, activity(2)]]], [2])),
        ("http://127.0.0.1:4", frozenset({2, 3}), body([[2, "rep-mallory", [1, activity(999_999)]]], [2])),
    ]
    covered: set[int] = set()
    with caplog.at_level(logging.WARNING):
        answers = merged(ACTIVITY, bodies, 4, covered)
    assert covered == {0, 2}
    assert [key for a in answers for _, key, _, _ in a.partials] == ["rep-a", "rep-c"]
    assert any("http://127.0.0.1:2" in r.getMessage() for r in caplog.records)


# --- both ends, on a loopback server --------------------------------------------------------


class Stub:
    """Just enough of a `Projector` for the partials endpoint."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.models: tuple[ReadModel, ...] = (ACTIVITY,)

    def owned(self) -> set[int]:
        return {1}

    def partials(self, model: str) -> Any:
        return lambda: ([(1, "rep-a", orjson.dumps([4, activity(2)]))], [1])


def signed(auth: PeerAuth, name: str) -> tuple[Call, str]:
    header, nonce = auth.sign_request("GET", PARTIALS.format(name=name))
    return Call(path={"name": name}, headers={REQUEST_HEADER.lower(): header}), nonce


def test_without_a_secret_set_processes_sharing_a_data_directory_share_one_made_there(tmp_path: Path) -> None:
    worker, cli = PeerAuth.of(Settings(data_dir=tmp_path)), PeerAuth.of(Settings(data_dir=tmp_path))
    assert worker is not None and cli is not None
    header, nonce = cli.sign_request("GET", "/v1/internal/partials/kpis")
    assert worker.check_request("GET", "/v1/internal/partials/kpis", header) == nonce
    made = tmp_path / "peer.secret"
    assert made.stat().st_mode & 0o777 == 0o600 and len(made.read_bytes()) == 64
    elsewhere = PeerAuth.of(Settings(data_dir=tmp_path / "elsewhere"))
    assert (
        elsewhere is not None and elsewhere.check_request("GET", "/v1/internal/partials/kpis", header) is None
    )
    configured = PeerAuth.of(Settings(data_dir=tmp_path, peer_secret=SecretStr(SECRET)))
    assert (
        configured is not None
        and configured.check_request("GET", "/v1/internal/partials/kpis", header) is None
    )


async def test_the_partials_endpoint_answers_signed_requests_only(tmp_path: Path) -> None:
    auth = PeerAuth(SECRET.encode())
    projector: Any = Stub(Settings(peer_secret=SecretStr(SECRET)))
    lone: Any = Stub(Settings(data_dir=tmp_path))
    call, nonce = signed(auth, "rep-activity")
    reply = await own_partials(projector, call)
    assert reply.status == 200 and reply.raw is not None
    assert auth.check_answer(nonce, reply.raw, reply.headers[RESPONSE_HEADER])
    assert validated(reply.raw, ACTIVITY, 4).partitions == {1}

    refused = [
        await own_partials(projector, Call(path={"name": "rep-activity"})),
        await own_partials(projector, Call(path={"name": "rep-activity"}, headers={"Authorization": SECRET})),
        await own_partials(projector, signed(PeerAuth(b"another-secret-of-16+chars"), "rep-activity")[0]),
        await own_partials(projector, Call(path={"name": "nothing"})),  # unsigned: not even a 404
        await own_partials(lone, call),  # another secret (its own machine's): not a peer
    ]
    assert [r.status for r in refused] == [401] * 5
    for r in refused:
        assert SECRET not in r.encoded().decode() and not r.headers
    assert (await own_partials(projector, signed(auth, "nothing")[0])).status == 404  # once signed


async def serve(port: int, handler: Any) -> web.AppRunner:
    app = web.Application()
    app.router.add_get("/{tail:.*}", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner


async def test_fetching_follows_no_redirect_reads_no_more_than_the_cap_and_checks_the_signature(
    unused_tcp_port: int, caplog: pytest.LogCaptureFixture
) -> None:
    auth, port = PeerAuth(SECRET.encode()), unused_tcp_port
    base, path = f"http://127.0.0.1:{port}", PARTIALS.format(name="rep-activity")
    good = body([[1, "rep-a", [1, activity(1)]]], [1])

    async def handler(request: web.Request) -> web.StreamResponse:
        mode = request.query.get("mode") or request.headers.get("X-Mode", "")
        nonce = auth.check_request("GET", request.path, request.headers.get(REQUEST_HEADER, ""))
        if request.path == "/signed" or (nonce is None and mode != "redirect"):
            return web.Response(status=401)
        if mode == "redirect":  # to a target that would pass: following it would be wrong
            raise web.HTTPFound(f"/signed?{request.query_string}")
        if mode == "huge":  # an endless body, with no length declared
            response = web.StreamResponse()
            await response.prepare(request)
            while True:
                await response.write(b" " * 65536)
        mac = auth.sign_answer(nonce, good) if mode == "good" and nonce else "0" * 64
        return web.Response(body=good, headers={RESPONSE_HEADER: mac})

    runner = await serve(port, handler)
    try:
        async with peer_session(5.0) as http:
            http.headers["X-Mode"] = "good"
            assert await fetch_checked(http, base, path, auth, 1 << 20) == good
            for mode, why in (
                ("forged", "signature"),
                ("redirect", "answered 302"),
                ("huge", "PEER_BODY_MAX"),
            ):
                http.headers["X-Mode"] = mode
                with pytest.raises(PeerError, match=why):
                    await fetch_checked(http, base, path, auth, 1 << 20)
            http.headers["X-Mode"] = "good"
            with caplog.at_level(logging.WARNING):
                assert await fetch(http, base, path, PeerAuth(b"another-secret-of-16+chars"), 1 << 20) is None
                assert await fetch(http, "http://127.0.0.1:1", path, auth, 1 << 20) is None
    finally:
        await runner.cleanup()
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "answered 401" in logged and SECRET not in logged


async def test_without_a_secret_a_worker_asks_no_peer(caplog: pytest.LogCaptureFixture) -> None:
    projector: Any = Stub(Settings(data_dir=Path("/proc/no-secret-can-be-made-here")))  # none set, none made
    projector.assignor = type(
        "A", (), {"url": "http://127.0.0.1:1", "directory": {"http://127.0.0.1:2": [0]}}
    )()
    fanout._unsigned_warned = False
    with caplog.at_level(logging.WARNING):
        assert await fanout.peer_bodies(projector, PARTIALS.format(name="rep-activity")) == []
        assert await fanout.peer_bodies(projector, PARTIALS.format(name="rep-activity")) == []
    assert sum("SALESLEDGER_PEER_SECRET is unset" in r.getMessage() for r in caplog.records) == 1
