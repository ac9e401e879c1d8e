"""The service's parts without sockets: the registry, sessions, fan-out, the liveness sweep
decisions, and the CLI's configuration."""

from __future__ import annotations

import pytest

from emulator.contracts.messages import Invocation
from emulator.errors import ConfigError, Conflict, NotFound
from emulator.signalr import ServiceConfig
from emulator.signalr.__main__ import build_config, parse_args
from emulator.signalr.protocol.connection import CloseReason, State
from emulator.signalr.sender import fan_out
from emulator.signalr.service import SignalRService, handshake_timeout
from emulator.signalr.session import Session, Wakeup

HANDSHAKE = {"json": b'{"protocol":"json","version":1}\x1e',
             "messagepack": b'{"protocol":"messagepack","version":1}\x1e'}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Recorder:
    """A transport attachment that records aborts instead of owning a socket."""

    def __init__(self) -> None:
        self.wakeup = Wakeup()
        self.aborted = False
        self.writing_since: float | None = None

    def wake(self) -> None:
        self.wakeup.set()

    def is_gone(self) -> bool:
        return False

    def abort(self) -> None:
        self.aborted = True


def make_service(**overrides) -> tuple[SignalRService, Clock]:
    clock = Clock()
    counter = iter(range(1, 10_000))
    service = SignalRService(ServiceConfig(**overrides), clock=clock, monotonic=clock,
                             new_id=lambda: f"id{next(counter)}")
    return service, clock


def open_session(service: SignalRService, protocol: str = "json") -> Session:
    session = service.open_session(hub="chat", transport="WebSockets", claims={},
                                   client_query="")
    session.attachment = Recorder()
    session.core.receive_data(HANDSHAKE[protocol], service.monotonic())
    session.core.events_received()
    session.core.data_to_send(0)
    service.state.add_connection("chat", session, now=0)
    return session


async def test_service_drops_only_the_slow_client_when_its_queue_is_full():
    service, _ = make_service(send_queue_size=2)
    slow, fast = open_session(service), open_session(service)
    message = Invocation(target="m", arguments=[1])
    for _ in range(3):
        fan_out([slow, fast], message)
        fast.core.data_to_send(0)
    assert slow.attachment.aborted and not fast.attachment.aborted
    assert slow.core.close_reason is CloseReason.SLOW_CLIENT
    assert fan_out([slow, fast], message) == 1
    assert fast.core.data_to_send(0) == [b'{"type":1,"target":"m","arguments":[1]}\x1e']


async def test_service_broadcast_encodes_once_per_protocol(monkeypatch):
    service, _ = make_service()
    sessions = [open_session(service, p) for p in ("json", "json", "messagepack")]
    calls: list[str] = []
    for protocol_type in {type(s.core.protocol) for s in sessions}:
        original = protocol_type.encode

        def counting(self, message, _original=original):
            calls.append(self.name)
            return _original(self, message)

        monkeypatch.setattr(protocol_type, "encode", counting)
    assert fan_out(sessions, Invocation(target="m")) == 3
    assert sorted(calls) == ["json", "messagepack"]
    assert sessions[0].core.data_to_send(0)[0] is sessions[1].core.data_to_send(0)[0]


async def test_service_broadcast_skips_closed_and_buffers_for_detached_sessions():
    service, _ = make_service()
    closed, detached = open_session(service), open_session(service)
    closed.core.close(CloseReason.CLIENT_CLOSED)
    detached.core.state = State.DETACHED  # as after a dropped stateful WebSocket
    assert fan_out([closed, detached], Invocation(target="m")) == 1


async def test_service_negotiate_entries_expire_and_are_single_use():
    service, clock = make_service(negotiate_ttl=5.0)
    entry = service.negotiate("chat", version=1)
    assert entry.connection_token != entry.connection_id
    with pytest.raises(NotFound):
        service.claim(entry.connection_token, "other")
    late = service.negotiate("chat", version=0)
    assert late.connection_token == late.connection_id
    clock.now += 6
    with pytest.raises(NotFound):
        service.claim(late.connection_token, "chat")
    fresh = service.negotiate("chat", version=1)
    session = service.open_session(hub="chat", transport="WebSockets", claims={},
                                   client_query="",
                                   pending=service.claim(fresh.connection_token, "chat"))
    assert service.registry.get(fresh.connection_token) is session
    with pytest.raises(Conflict):
        service.claim(fresh.connection_token, "chat")


async def test_service_asks_for_buffering_only_on_websockets():
    service, _ = make_service()
    for transport, expected in (("WebSockets", True), ("LongPolling", False),
                                ("ServerSentEvents", False)):
        pending = service.negotiate("chat", version=1, stateful=True)
        session = service.open_session(hub="chat", transport=transport, claims={},
                                       client_query="",
                                       pending=service.claim(pending.connection_token, "chat"))
        assert session.core.stateful_requested is expected
        assert session.core.sends_pings is (transport != "LongPolling")


async def test_service_sweep_finishes_a_closed_session_once_its_patience_ends():
    service, clock = make_service(client_timeout=30)
    session = open_session(service)
    finished: list[Session] = []
    service.finish_soon = finished.append  # type: ignore[method-assign]
    session.core.close(CloseReason.CLIENT_TIMEOUT)
    service._tick(session, clock.now)
    assert finished == [], "an attached transport first writes the Close"
    service._tick(session, clock.now + 30)
    assert finished == [session]
    assert session.attachment.aborted, "a transport that never finished is released"


async def test_service_sweep_drops_a_client_that_does_not_read():
    """A write blocked for the client timeout ends the transport (the client reads nothing)."""
    service, clock = make_service(client_timeout=30)
    session = open_session(service)
    session.attachment.writing_since = clock.now
    service._tick(session, clock.now + 29)
    assert not session.attachment.aborted
    service._tick(session, clock.now + 30)
    assert session.attachment.aborted
    assert session.core.close_reason is CloseReason.SLOW_CLIENT


async def test_service_sweep_finishes_a_detached_session_at_once_when_it_closes():
    service, clock = make_service(reconnect_grace=15)
    session = open_session(service)
    session.attachment = None
    session.core.buffer = object()  # type: ignore[assignment]
    session.core.state = State.DETACHED
    session.core.detached_at = clock.now
    finished: list[Session] = []
    service.finish_soon = finished.append  # type: ignore[method-assign]
    service._tick(session, clock.now + 14)
    assert finished == []
    service._tick(session, clock.now + 15)
    assert finished == [session]
    assert session.core.close_reason is CloseReason.NOT_REATTACHED


def test_cli_flags_override_connection_string_and_settings(tmp_path):
    settings = tmp_path / "settings.json"
    settings.write_text('{"UpstreamSettings": {"Templates": [{"UrlTemplate": "http://a"}]}}')
    config = build_config(parse_args([
        "--connection-string", "Endpoint=http://127.0.0.1;Port=9000;AccessKey=abc;Version=1.0;",
        "--settings", str(settings)]))
    assert (config.access_keys, config.host, config.port) == (("abc",), "127.0.0.1", 9000)
    assert config.upstream[0].url_template == "http://a"
    config = build_config(parse_args([
        "--connection-string", "Endpoint=http://127.0.0.1;AccessKey=abc;", "--port", "1",
        "--access-key", "k1", "--access-key", "k2", "--upstream", "http://u/{event}",
        "--settings", str(settings)]))
    assert (config.access_keys, config.port) == (("k1", "k2"), 1)
    assert [t.url_template for t in config.upstream] == ["http://u/{event}"]


def test_cli_refuses_malformed_connection_string():
    with pytest.raises(ConfigError, match="--connection-string"):
        build_config(parse_args(["--connection-string", "Endpoint=ftp://x;AccessKey=k"]))


@pytest.mark.parametrize(("claims", "expected"), [
    ({}, 15.0), ({"asrs.s.cht": "20"}, 20.0), ({"asrs.s.cht": 90}, 30.0),
    ({"asrs.s.cht": "x"}, 15.0), ({"asrs.s.cht": "-1"}, 15.0),
])
def test_service_handshake_timeout_from_claim(claims, expected):
    assert handshake_timeout(claims, 15.0) == expected


async def test_service_handshake_timeout_claim_reaches_the_core():
    service, _ = make_service()
    session = service.open_session(hub="chat", transport="WebSockets",
                                   claims={"asrs.s.cht": "20"}, client_query="")
    assert session.core.limits.handshake_timeout == 20.0
    assert service.config.limits.handshake_timeout == 15.0


async def test_service_skips_clients_whose_protocol_cannot_carry_the_message():
    service, _ = make_service()
    json_client = open_session(service, "json")
    msgpack_client = open_session(service, "messagepack")
    message = Invocation(target="m", arguments=[b"\x00\x01"])
    assert fan_out([json_client, msgpack_client], message) == 1
    assert json_client.core.data_to_send(0) == []
    assert len(msgpack_client.core.data_to_send(0)) == 1
