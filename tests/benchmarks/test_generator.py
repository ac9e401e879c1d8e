"""The load generator: its pure parts, and a small smoke run against real servers on loopback.

The smoke runs are bounded to a few seconds each: two or three receivers, half a second of
traffic. They check that the generator counts every delivery once and loses nothing, which is
what makes the numbers of ``python -m benchmarks`` worth reading.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os

import msgpack
import pytest

from benchmarks.clients import check_loopback
from benchmarks.generator import Tracker
from benchmarks.report import TARGET_CHECKS, Check, check_targets, format_report, judge
from benchmarks.scenarios import SCENARIOS, message_text, run_scenario, targets_of
from benchmarks.wire import TAG, SignalRMessagePackCodec, SocketIOCodec, make_tag, varint
from tests.support.timeouts import TIMEOUT


def test_benchmarks_varint_matches_the_messagepack_hub_framing() -> None:
    assert varint(0) == b"\x00"
    assert varint(127) == b"\x7f"
    assert varint(128) == b"\x80\x01"
    assert varint(16384) == b"\x80\x80\x01"


def test_benchmarks_messagepack_frame_carries_the_tag_raw() -> None:
    frame = SignalRMessagePackCodec().message(message_text(3, 41))
    length = frame[0]
    assert length == len(frame) - 1
    assert msgpack.unpackb(frame[1:])[3] == "broadcast"
    assert TAG.findall(frame) == [(b"3", b"41")]


def test_benchmarks_socketio_codec_answers_ping_only() -> None:
    codec = SocketIOCodec()
    assert codec.reply(b"2") == b"3"
    assert codec.reply(b"42[]") is None


@pytest.mark.parametrize("url", ["http://10.0.0.1:80/x", "http://example.com/", "ws://[::2]/"])
def test_benchmarks_check_loopback_refuses_other_hosts(url: str) -> None:
    with pytest.raises(ValueError, match="non-loopback"):
        check_loopback(url)


@pytest.mark.parametrize("url", ["http://127.0.0.1:1/", "http://localhost/", "ws://[::1]:2/"])
def test_benchmarks_check_loopback_accepts_this_machine(url: str) -> None:
    check_loopback(url)


async def test_benchmarks_tracker_counts_duplicates_losses_and_strays() -> None:
    tracker = Tracker(counted=[1, 2])
    tracker.expect(0, 0)
    tracker.expect(0, 1)
    tracker.on_tag(1, 0, 0, 1.0)
    tracker.on_tag(1, 0, 0, 1.0)  # the same receiver twice
    tracker.on_tag(2, 0, 0, 1.0)  # message 0 complete
    tracker.on_tag(2, 0, 0, 1.0)  # after completion: still a duplicate
    tracker.on_tag(9, 0, 1, 1.0)  # not a counted receiver: ignored
    tracker.on_tag(1, 7, 7, 1.0)  # never sent
    assert (tracker.delivered, tracker.duplicates, tracker.unexpected) == (2, 2, 1)
    assert tracker.lost == 2  # message 1 reached nobody
    assert not tracker.idle.is_set()


def test_benchmarks_report_checks_targets_against_the_named_baseline() -> None:
    base = {"lost": 0, "duplicates": 0}
    results = [
        {**base, "scenario": "fanout-100-8senders", "target": "signalr",
         "deliveries_per_s": 300.0},
        {**base, "scenario": "fanout-100-8senders", "target": "socketio",
         "deliveries_per_s": 100.0},
        {**base, "scenario": "fanout-100-8senders", "target": "aiohttp",
         "deliveries_per_s": 600.0},
        {"scenario": "rest", "target": "signalr", "lost": 5, "duplicates": 0},
    ]
    lines = check_targets(results)
    assert lines[2] == ("| fan-out to 100, 8 senders: deliveries/s vs python-socketio | >= 1x | "
                        "3x | MET |")
    assert lines[-1] == "loss and duplicates: rest/signalr (lost 5, dup 0)"
    assert "fanout-100" in format_report(results, markdown=True).splitlines()[2]


def test_benchmarks_report_target_must_hold_in_every_run() -> None:
    runs = [{"scenario": "latency", "target": t, "p99_ms": p, "lost": 0, "duplicates": 0}
            for t, p in (("signalr", 6.0), ("aiohttp", 5.0), ("signalr", 9.0),
                         ("aiohttp", 5.0))]
    p99 = Check("p99", "latency", "p99_ms", 1.5, False, "aiohttp")
    judged = judge(p99, runs)
    assert judged is not None
    assert judged["values"] == [1.2, 1.8] and judged["verdict"] == "NOT MET"
    wrong = judge(TARGET_CHECKS[1], [{"scenario": "fanout-100", "target": t,
                                      "deliveries_per_s": 1.0} for t in ("signalr", "socketio")])
    assert wrong is not None and wrong["verdict"].startswith("does not stand")


@pytest.mark.parametrize("target", ["aiohttp", "socketio", "signalr", "signalr-split"])
async def test_benchmarks_smoke_fanout_delivers_everything_once(target: str) -> None:
    """A tiny fan-out through each server: every message reaches every receiver once."""
    if target == "socketio" and importlib.util.find_spec("socketio") is None:
        # benchmarks/requirements.txt; in CI a missing baseline fails instead of skipping.
        if os.environ.get("CI"):
            pytest.fail("python-socketio is required in CI (benchmarks/requirements.txt)")
        pytest.skip("python-socketio not installed (benchmarks/requirements.txt)")
    scenario = SCENARIOS["fanout-100"].scaled(0.02)
    result = await asyncio.wait_for(run_scenario(scenario, target), TIMEOUT * 3)
    assert result["sent"] > 0
    assert result["delivered"] == result["expected"] == result["sent"] * scenario.receivers
    assert (result["lost"], result["duplicates"], result["unexpected"]) == (0, 0, 0)
    assert result["server_cpu_s"] >= 0 and result["server_rss_mb"] > 1


async def test_benchmarks_smoke_rest_broadcast_reaches_service_clients() -> None:
    """Broadcasts posted to the service's REST API reach clients connected to it."""
    scenario = SCENARIOS["rest"].scaled(0.02)
    result = await asyncio.wait_for(run_scenario(scenario, "signalr"), TIMEOUT * 3)
    assert result["sent"] > 0
    assert result["delivered"] == result["expected"]
    assert (result["lost"], result["duplicates"]) == (0, 0)


async def test_benchmarks_smoke_capacity_probe_reaches_every_idle_client() -> None:
    """Idle connections are counted and all of them receive one probe broadcast."""
    scenario = SCENARIOS["capacity"].scaled(0.004)  # 20 connections
    result = await asyncio.wait_for(run_scenario(scenario, "signalr"), TIMEOUT * 3)
    assert result["connections"] == 20
    assert result["delivered"] == 20
    assert make_tag(0, 0) in message_text(0, 0)


def test_benchmarks_split_stack_runs_only_when_named_and_where_clients_send() -> None:
    fanout, rest = SCENARIOS["fanout-100"], SCENARIOS["rest"]
    assert targets_of(fanout, []) == ["signalr", "socketio", "aiohttp"]
    assert targets_of(fanout, ["signalr", "signalr-split"]) == ["signalr", "signalr-split"]
    assert targets_of(rest, ["signalr-split"]) == []  # the service alone: nothing to split
