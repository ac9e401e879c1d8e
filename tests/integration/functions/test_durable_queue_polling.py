"""``--queue-polling``: Durable work waits for the next poll of its Azure Storage queue.

The model itself is tested in tests/unit/functions/test_queue_polling.py; here, that the host
asks it for every message (entities by instance id, activities on the work-item queue), runs the
work only at the poll, reads the intervals from host.json, and still completes everything.
"""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

import pytest

from emulator.errors import ConfigError
from emulator.functions.durable import DURABLE
from tests.integration.functions.conftest import APPS
from tests.integration.functions.durable_support import API, poll_status
from tests.support.timeouts import TIMEOUT


class FarPolls:
    """Pollers whose next poll is an hour away; they record what they were asked about."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def control(self, instance_id: str, arrived: float) -> float:
        self.asked.append(instance_id)
        return arrived + 3600.0

    def work_item(self, arrived: float) -> float:
        self.asked.append("work item")
        return arrived + 3600.0


def app_with_polling(tmp_path: Path, app: str, provider: dict[str, object]) -> Path:
    folder = tmp_path / app
    shutil.copytree(APPS / app, folder)
    host_json = json.loads((folder / "host.json").read_text(encoding="utf-8"))
    host_json.setdefault("extensions", {})["durableTask"] = {"storageProvider": provider}
    (folder / "host.json").write_text(json.dumps(host_json), encoding="utf-8")
    return folder


async def test_a_signal_runs_only_at_the_next_poll_of_its_control_queue(make_host) -> None:
    host = await make_host("durable_entity_template", queue_polling=True)
    durable = host.app[DURABLE]
    assert durable.pollers is not None
    durable.pollers = FarPolls()
    status, _, _ = await host.request("POST", f"{API}/entities/Counter/k?op=add", data="5")
    assert status == 202
    await durable.wait_idle(TIMEOUT)
    assert durable.pollers.asked == ["@counter@k"]
    status, _, _ = await host.request("GET", f"{API}/entities/Counter/k")
    assert status == 404, "not run yet: the entity does not exist"
    now = asyncio.get_running_loop().time()
    waits = [t.when() - now for t in durable._timers]
    assert len(waits) == 1 and waits[0] > 3000


async def test_orchestrations_complete_with_polls_read_from_host_json(make_host,
                                                                     tmp_path: Path) -> None:
    folder = app_with_polling(tmp_path, "durable_chaining",
                              {"maxQueuePollingInterval": "00:00:01", "partitionCount": 2})
    host = await make_host(str(folder), queue_polling=True)
    durable = host.app[DURABLE]
    assert (durable.pollers.max_interval, durable.pollers.partitions) == (1.0, 2)
    status, body, _ = await host.request("POST", "/api/orchestrators/count_cities",
                                         json=["Oslo", "Lima"])
    assert status == 202
    done = await poll_status(host.session, json.loads(body)["statusQueryGetUri"],
                             timeout=TIMEOUT * 2)
    assert (done["runtimeStatus"], done["output"]) == (
        "Completed", {"counts": [4, 4], "total": 8})


async def test_without_the_option_work_runs_at_once(make_host) -> None:
    host = await make_host("durable_entity_template")
    assert host.app[DURABLE].pollers is None


@pytest.mark.parametrize(("provider", "message"), [
    ({"maxQueuePollingInterval": "soon"}, "maxQueuePollingInterval must be a positive TimeSpan"),
    ({"maxQueuePollingInterval": "00:00:00"}, "must be a positive TimeSpan"),
    ({"partitionCount": 17}, "partitionCount must be a whole number from 1 to 16"),
])
async def test_bad_polling_settings_stop_the_host(make_host, tmp_path: Path,
                                                 provider: dict[str, object],
                                                 message: str) -> None:
    folder = app_with_polling(tmp_path, "durable_entity_template", provider)
    with pytest.raises(ConfigError, match=message):
        await make_host(str(folder), queue_polling=True)
