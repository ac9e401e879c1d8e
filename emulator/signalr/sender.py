"""Fan-out: one message to many sessions, encoded once per hub protocol (socketio's ``emit``).

A closed session is skipped (a detached one buffers for its reattach), and one that cannot
keep up is dropped by its own ``send_data``; neither stops the loop or delays the others.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ..contracts.messages import HubMessage
from .log import OnceLog, log
from .session import Session

__all__ = ["fan_out"]


def fan_out(sessions: Iterable[Session], message: HubMessage,
            encoded: Mapping[str, bytes] | None = None, *,
            refusals: OnceLog | None = None) -> int:
    """Queue ``message`` for every open session; the number of sessions it was queued for.

    ``encoded`` holds framings supplied ready-made (by protocol name); they are used as is.
    """
    framed = dict(encoded or {})
    count = 0
    for session in sessions:
        core = session.core
        protocol = core.protocol
        if protocol is None or not core.accepts_messages:
            continue
        data = framed.get(protocol.name)
        if data is None:
            try:
                data = protocol.encode(message)
            except (TypeError, ValueError, OverflowError) as exc:
                # e.g. bytes from a MessagePack REST body have no JSON form.
                (refusals or OnceLog()).warning(
                    log, f"encode:{protocol.name}",
                    "cannot encode a message for %s clients (%s); not sent to them",
                    protocol.name, type(exc).__name__)
                data = b""
            framed[protocol.name] = data
        if data and session.send_data(data):
            count += 1
    return count
