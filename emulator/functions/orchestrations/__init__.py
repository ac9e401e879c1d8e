"""Durable orchestrations, the pure core: history, the SDK's answer, replay, the API's JSON.

Nothing here does I/O, reads the clock or makes random ids: the shells (``durable_engine``,
``durable_api``, ``durable_store``) pass ``now`` and id factories in. docs/durable.md lists the
platform facts this code relies on and where each is published.
"""

from .actions import Action, ActionType, OrchestratorResult, RetryPolicy, parse_orchestrator_result
from .api_routes import ApiOperation, ApiRoute, match_api_route, query_bool, query_int, query_time
from .history import (
    EventType,
    HistoryEvent,
    OrchestrationStatus,
    format_status_time,
    format_time,
    parse_time,
)
from .replay import (
    ActivityWork,
    Decision,
    EntityRequest,
    Episode,
    Known,
    Notify,
    StartInstance,
    context_json,
    decide,
    decide_failure,
    decide_terminated,
    unknown_function_message,
)
from .status import (
    BASE_PATH,
    InstanceRecord,
    check_status_body,
    client_payload,
    entity_status_json,
    history_json,
    management_urls,
    parse_token,
    status_code_for,
    status_json,
)

__all__ = [
    "BASE_PATH",
    "Action",
    "ActionType",
    "ActivityWork",
    "ApiOperation",
    "ApiRoute",
    "Decision",
    "EntityRequest",
    "Episode",
    "EventType",
    "HistoryEvent",
    "InstanceRecord",
    "Known",
    "Notify",
    "OrchestrationStatus",
    "OrchestratorResult",
    "RetryPolicy",
    "StartInstance",
    "check_status_body",
    "client_payload",
    "context_json",
    "decide",
    "decide_failure",
    "decide_terminated",
    "entity_status_json",
    "format_status_time",
    "format_time",
    "history_json",
    "management_urls",
    "match_api_route",
    "parse_orchestrator_result",
    "parse_time",
    "parse_token",
    "query_bool",
    "query_int",
    "query_time",
    "status_code_for",
    "status_json",
    "unknown_function_message",
]
