"""Fuzzing the Functions host's pure cores: binding expressions, route templates, the SignalR
webhook body and headers, and the Durable entity batch format.

Contract: any input gives a value or the module's documented ``FunctionsHostError`` subclass
(which the host turns into a 4xx/5xx answer), never any other exception.
"""

from __future__ import annotations

import json
from typing import Any

import msgpack
import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from emulator.contracts import sign_connection_id
from emulator.contracts.protocols import PROTOCOLS
from emulator.errors import (
    BindingExpressionError,
    EntityError,
    IndexingError,
    WebhookError,
)
from emulator.functions.entities.protocol import (
    Operation,
    build_batch_request,
    check_entity_key,
    encode_signal_input,
    parse_batch_result,
)
from emulator.functions.expressions import binding_data_for_http, resolve, resolve_settings
from emulator.functions.routes import compile_route
from emulator.functions.webhook import (
    build_invocation_context,
    parse_claims,
    parse_client_query,
    parse_connection_body,
    parse_invocation_body,
    verify_upstream_signature,
)
from tests.fuzz.fuzzing import FUZZ, json_values

# -- binding expressions ------------------------------------------------------------------------

_template_text = st.text(alphabet=st.sampled_from(list("{}%.-_$abAB01 x")), max_size=30)


@FUZZ
@given(_template_text, st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=3))
def test_resolve_settings_any_template_text_or_binding_error(
    template: str, settings: dict[str, str]
) -> None:
    try:
        resolved = resolve_settings(template, settings)
    except BindingExpressionError:
        return
    assert isinstance(resolved, str)


@FUZZ
@given(_template_text, st.dictionaries(st.text(max_size=3), json_values, max_size=4),
       st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=3))
def test_resolve_any_template_and_data_text_or_binding_error(
    template: str, data: dict[str, Any], settings: dict[str, str]
) -> None:
    try:
        resolved = resolve(template, data, settings)
    except BindingExpressionError as error:
        assert "property doesn't exist" in str(error) or "app setting" in str(error)
        return
    assert isinstance(resolved, str)


@FUZZ
@given(st.dictionaries(st.text(max_size=6), st.text(max_size=6), max_size=3),
       st.dictionaries(st.text(max_size=6), st.text(max_size=6), max_size=3),
       st.one_of(st.binary(max_size=60), json_values.map(lambda v: json.dumps(v).encode())),
       st.sampled_from(["", "application/json", "text/plain"]))
def test_binding_data_for_http_any_request_then_resolve(
    headers: dict[str, str], query: dict[str, str], body: bytes, content_type: str
) -> None:
    """Any body and query build binding data; the user's own header resolves to its value,
    unless the body or the query has a field named ``headers``: that takes the name, as on
    Azure (the chat's negotiate refuses a body for that reason)."""
    headers = {**headers, "x-ms-client-principal-name": "<b>al\u00efce</b>"}
    data = binding_data_for_http(headers=headers, query=query, route_params={}, body=body,
                                 content_type=content_type)
    try:
        fields = json.loads(body)
    except ValueError:
        fields = None
    taken = [k for k in [*query, *(fields if isinstance(fields, dict) else ())]
             if k.lower() == "headers"]
    assume(not taken)
    assert resolve("{headers.X-MS-CLIENT-PRINCIPAL-NAME}", data, {}) == "<b>al\u00efce</b>"


# -- route templates ----------------------------------------------------------------------------

_route_text = st.text(alphabet=st.sampled_from(list("ab/{}?*:=()0123456789-int,.")), max_size=24)


@FUZZ
@given(_route_text, st.text(alphabet=st.sampled_from(list("ab/0123456789-.%")), max_size=20))
def test_compile_route_any_template_compiles_or_indexing_error(template: str, path: str) -> None:
    try:
        route = compile_route(template)
    except IndexingError:
        return
    matched = route.match(path)
    assert matched is None or isinstance(matched, dict)


# -- SignalR webhook ----------------------------------------------------------------------------

@FUZZ
@given(st.binary(max_size=200), st.sampled_from(["json", "messagepack"]))
def test_parse_invocation_body_any_bytes_invocation_or_webhook_error(body: bytes,
                                                                    protocol: str) -> None:
    try:
        message = parse_invocation_body(body, PROTOCOLS[protocol])
    except WebhookError as error:
        assert error.status_hint == 400
        return
    assert isinstance(message.target, str) and isinstance(message.arguments, list)


@FUZZ
@given(st.binary(max_size=200))
def test_parse_connection_body_never_raises(body: bytes) -> None:
    message = parse_connection_body(body)
    assert message.error is None or isinstance(message.error, str)


_msgpack_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.floats()
    | st.text(max_size=8) | st.binary(max_size=8),
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.text(max_size=4) | st.integers(0, 5), inner, max_size=3),
    max_leaves=10,
)


@FUZZ
@given(st.lists(_msgpack_values, max_size=3))
@example(arguments=[b"\x00\x01"])
def test_webhook_any_msgpack_invocation_builds_context_or_webhook_error(
    arguments: list[Any]
) -> None:
    """What a MessagePack client can send reaches the function as JSON, or is a 400."""
    body = msgpack.packb([1, {}, "1", "broadcast", arguments, []], use_bin_type=True)
    try:
        message = parse_invocation_body(body, PROTOCOLS["messagepack"])
        context = build_invocation_context([("X-ASRS-Connection-Id", "c")], message)
    except WebhookError:
        return
    assert json.loads(context)["ConnectionId"] == "c"


def test_parse_invocation_body_deep_nesting_is_a_webhook_error() -> None:
    body = b'{"type":1,"target":"t","arguments":' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    with pytest.raises(WebhookError, match="not valid JSON"):
        parse_invocation_body(body, PROTOCOLS["json"])


@FUZZ
@given(st.text(max_size=60), st.text(max_size=60))
def test_webhook_query_and_claims_any_text(query: str, claims: str) -> None:
    parsed_query = parse_client_query(query)
    parsed_claims = parse_claims(claims)
    assert parsed_query is None or all(isinstance(v, str) for v in parsed_query.values())
    assert parsed_claims is None or all(isinstance(v, str) for v in parsed_claims.values())


@FUZZ
@given(st.text(max_size=30), st.one_of(st.none(), st.text(max_size=120)))
@example(connection_id="c", signature="sha256=\u00e9")
@example(connection_id="\udcff", signature="sha256=00")
def test_verify_upstream_signature_any_header_passes_or_401(
    connection_id: str, signature: str | None
) -> None:
    """Only the right HMAC passes; every other header (non-ASCII, surrogates) is a 401."""
    headers = {"X-ASRS-Connection-Id": connection_id}
    if signature is not None:
        headers["X-ASRS-Signature"] = signature
    try:
        verify_upstream_signature(headers, ["key-one"])
    except WebhookError as error:
        assert error.status_hint == 401
    else:
        assert signature == sign_connection_id(connection_id, ["key-one"])


# -- Durable entities ---------------------------------------------------------------------------

@FUZZ
@given(st.text(max_size=20))
def test_check_entity_key_any_text_ok_or_400(key: str) -> None:
    try:
        check_entity_key(key)
    except EntityError as error:
        assert error.status_hint == 400
        return
    assert not any(c in "/\\#?" or ord(c) < 32 for c in key)


@FUZZ
@given(st.binary(max_size=80), st.sampled_from(["", "application/json", "text/plain; x=json"]))
def test_encode_signal_input_any_body_json_text_or_400(body: bytes, content_type: str) -> None:
    try:
        encoded = encode_signal_input(body, content_type)
    except EntityError as error:
        assert error.status_hint == 400
        return
    assert encoded is None or json.loads(encoded) is not None or encoded == "null"


@FUZZ
@given(st.one_of(json_values, json_values.map(json.dumps), st.binary(max_size=40)),
       st.integers(min_value=0, max_value=3))
@example(value={"entityExists": True, "results": 5}, batch_size=1)
@example(value={"entityExists": True, "results": [{"duration": "slow"}]}, batch_size=1)
@example(value='{"entityExists": true, "results": [[' + "[" * 5000 + "]" * 5001 + "]}",
         batch_size=1)
def test_parse_batch_result_any_value_result_or_entity_error(value: Any, batch_size: int) -> None:
    """Whatever an entity function returns, the host stores a state or reports EntityError."""
    try:
        result = parse_batch_result(value, batch_size)
    except EntityError:
        return
    assert len(result.results) == batch_size


@FUZZ
@given(st.text(max_size=10), st.text(max_size=10), st.booleans(),
       st.one_of(st.none(), json_values.map(json.dumps)),
       st.lists(st.tuples(st.text(max_size=6), st.one_of(st.none(), json_values.map(json.dumps))),
                max_size=4))
def test_build_batch_request_any_batch_is_json_the_sdk_reads(
    name: str, key: str, exists: bool, state: str | None, ops: list[tuple[str, str | None]]
) -> None:
    text = build_batch_request(name, key, exists, state,
                               [Operation(name=n, input=i) for n, i in ops])
    data = json.loads(text)
    assert set(data) == {"self", "exists", "state", "batch"}
    assert [op["input"] for op in data["batch"]] == [i for _, i in ops]
