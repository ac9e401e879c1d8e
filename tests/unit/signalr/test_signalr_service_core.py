"""The service object without sockets: bounded queues, broadcast, negotiate entries, the CLI."""

from __future__ import annotations

import pytest

from emulator.signalr import ConfigError, ServiceConfig
from emulator.signalr.__main__ import build_config, parse_args
from emulator.signalr.protocol.errors import Conflict, NotFound
from emulator.signalr.protocol.messages import Invocation
from emulator.signalr.service import SignalRService, handshake_timeout

HANDSHAKE = {"json": b'{"protocol":"json","version":1}\x1e',
             "messagepack": b'{"protocol":"messagepack","version":1}\x1e'}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make_service(**overrides) -> tuple[SignalRService, Clock]:
    clock = Clock()
    counter = iter(range(1, 10_000))
    service = SignalRService(ServiceConfig(**overrides), clock=clock,
                             new_id=lambda: f"id{next(counter)}")
    return service, clock


def open_connection(service: SignalRService, protocol: str = "json"):
    connection = service.open_connection(hub="chat", transport="WebSockets", claims={},
                                         client_query="")
    connection.core.receive_data(HANDSHAKE[protocol])
    connection.core.events_received()
    connection.flush()
    connection.outbox.drain()
    service.state.add_connection("chat", connection, now=0)
    return connection


async def test_service_drops_only_the_slow_client_when_its_queue_is_full():
    service, _ = make_service(send_queue_size=2)
    slow, fast = open_connection(service), open_connection(service)
    aborted: list[str] = []
    slow.abort_transport = lambda: aborted.append(slow.connection_id)
    message = Invocation(target="m", arguments=[1])
    for _ in range(3):
        service.send([slow, fast], message)
        fast.outbox.drain()
    assert aborted == [slow.connection_id]
    assert slow.outbox.closed and not fast.outbox.closed
    assert service.send([slow, fast], message) == 1
    assert fast.outbox.drain() == [b'{"type":1,"target":"m","arguments":[1]}\x1e']


async def test_service_broadcast_encodes_once_per_protocol(monkeypatch):
    service, _ = make_service()
    connections = [open_connection(service, p) for p in ("json", "json", "messagepack")]
    calls: list[str] = []
    for protocol_type in {type(c.protocol) for c in connections}:
        original = protocol_type.encode

        def counting(self, message, _original=original):
            calls.append(self.name)
            return _original(self, message)

        monkeypatch.setattr(protocol_type, "encode", counting)
    assert service.send(connections, Invocation(target="m")) == 3
    assert sorted(calls) == ["json", "messagepack"]
    assert connections[0].outbox.drain()[0] is connections[1].outbox.drain()[0]


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
    service.open_connection(hub="chat", transport="WebSockets", claims={}, client_query="",
                            pending=service.claim(fresh.connection_token, "chat"))
    with pytest.raises(Conflict):
        service.claim(fresh.connection_token, "chat")


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


async def test_service_skips_clients_whose_protocol_cannot_carry_the_message():
    service, _ = make_service()
    json_client = open_connection(service, "json")
    msgpack_client = open_connection(service, "messagepack")
    message = Invocation(target="m", arguments=[b"\x00\x01"])
    assert service.send([json_client, msgpack_client], message) == 1
    assert json_client.outbox.drain() == []
    assert len(msgpack_client.outbox.drain()) == 1
