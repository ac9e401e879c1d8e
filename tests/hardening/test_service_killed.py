"""``kill -9`` of the stack under a client with stateful reconnect: every invocation in flight
settles (a result, or an error the page can show), none hangs."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.conftest import ARTIFACTS
from tests.support.node_client import NodeClient, NodeClientError
from tests.support.stack import start_stack
from tests.support.timeouts import TIMEOUT

pytestmark = [pytest.mark.node]


@pytest.mark.parametrize("restart", [False, True], ids=["stays-down", "restarted"])
async def test_invocations_in_flight_settle_when_the_service_is_killed(
    tmp_path: Path, restart: bool
) -> None:
    """Invocations sent just before a ``kill -9`` all come back, as results or errors, whether
    the stack stays down or is started again at once on the same ports."""
    log = ARTIFACTS / f"test_service_killed_{restart}.stack.log"
    stack = await start_stack(data_dir=tmp_path / "data", log_path=log)
    again = None
    try:
        async with NodeClient(stack.api_url, name="ann", reconnect=True, stateful=True,
                              listen="newMessage") as ann:
            await ann.invoke("broadcast", "warm up")
            calls = [asyncio.ensure_future(ann.invoke("broadcast", f"m{n}")) for n in range(60)]
            await ann.wait_message("newMessage", lambda a: a[0]["text"] == "m0")
            stack.process.send_signal(signal.SIGKILL)
            if restart:
                await stack.process.wait()
                again = await start_stack(
                    data_dir=tmp_path / "data", log_path=log,
                    service_port=_port(stack.service_url),
                    extra_args=("--host-port", str(_port(stack.host_url))))
            done, pending = await asyncio.wait(calls, timeout=TIMEOUT * 3)
            assert not pending, f"{len(pending)} invocations never settled"
            outcomes = [call.exception() or call.result() for call in done]
            unexpected = [o for o in outcomes
                          if isinstance(o, BaseException) and not isinstance(o, NodeClientError)]
            assert not unexpected, unexpected
    finally:
        await stack.stop()
        if again is not None:
            await again.stop()


def _port(url: str) -> int:
    port = urlsplit(url).port
    assert port is not None
    return port
