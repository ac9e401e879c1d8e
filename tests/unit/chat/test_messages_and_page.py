from __future__ import annotations

from chat import content_security_policy, keyed_message_id, new_message, service_origins


def test_new_message_payload_is_camel_case_with_utc_time() -> None:
    message = new_message(id="m1", sender="ada", connection_id="c1", text="hi", now=1_700_000_000.5)
    assert message.to_payload() == {
        "id": "m1",
        "sender": "ada",
        "connectionId": "c1",
        "text": "hi",
        "time": "2023-11-14T22:13:20.500Z",
    }


def test_new_message_without_a_user_is_anonymous() -> None:
    assert (
        new_message(id="m", sender=None, connection_id="c", text="t", now=0).sender == "anonymous"
    )


def test_service_origins_reads_endpoint_and_port() -> None:
    text = "Endpoint=http://localhost;Port=8888;AccessKey=k;Version=1.0;"
    assert service_origins(text) == ["http://localhost:8888", "ws://localhost:8888"]


def test_service_origins_prefers_client_endpoint_and_reads_https() -> None:
    text = "Endpoint=https://a.service.signalr.net;ClientEndpoint=https://proxy.example;AccessKey=k"
    assert service_origins(text) == ["https://proxy.example", "wss://proxy.example"]


def test_service_origins_identity_based_and_unreadable() -> None:
    assert service_origins(None, "https://s.service.signalr.net") == [
        "https://s.service.signalr.net",
        "wss://s.service.signalr.net",
    ]
    assert service_origins("garbage") == []


def test_content_security_policy_forbids_inline_script() -> None:
    policy = content_security_policy(connect_origins=["http://localhost:8888"], script_origins=[])
    directives = dict(part.split(" ", 1) for part in policy.split("; "))
    assert directives["script-src"] == "'self'"
    assert directives["connect-src"] == "'self' http://localhost:8888"
    assert directives["object-src"] == "'none'"
    assert "unsafe-inline" not in policy


def test_message_id_sorts_by_time_within_a_millisecond() -> None:
    from chat import message_id

    first = message_id(1_700_000_000.0001, "ff")
    second = message_id(1_700_000_000.0002, "00")
    assert first < second
    assert first.endswith("-ff")


def test_private_and_group_payloads_carry_their_markers() -> None:
    private = new_message(id="m", sender="a", connection_id="c", text="t", now=0,
                          is_private=True, recipient="b").to_payload()
    assert (private["isPrivate"], private["recipient"]) == (True, "b")
    group = new_message(id="m", sender="a", connection_id="c", text="t", now=0,
                        group="g").to_payload()
    assert group["group"] == "g" and "isPrivate" not in group


def test_service_origins_keeps_ipv6_brackets() -> None:
    text = "Endpoint=http://[::1];Port=8888;AccessKey=k;Version=1.0;"
    assert service_origins(text) == ["http://[::1]:8888", "ws://[::1]:8888"]


def test_keyed_message_id_is_the_same_on_every_retry_and_per_sender() -> None:
    first = keyed_message_id("u:ada", "k1")
    assert first == keyed_message_id("u:ada", "k1")
    assert first != keyed_message_id("u:bob", "k1") != keyed_message_id("u:ada", "k2")
    assert first.startswith("k-") and len(first) == 34
