"""The soak run: N chat clients broadcasting through the full stack for T seconds.

Every client connects the way the page does (tests/hardening/chat_client.py). Each broadcast
text is ``soak:<sender>:<seq>``; the app answers each invoke with the message id. At the end
every client must hold every acknowledged id exactly once, and each sender's messages in the
order it sent them. The resident memory of each process (the stack, and this client process) is
read from ``/proc`` after a warm-up and at the end.

Sizes come from the environment so ``make soak`` runs the issue's full size and ``make test`` a
short bounded one: ``SOAK_CLIENTS`` (50), ``SOAK_SECONDS`` (10), ``SOAK_RATE`` (broadcasts per
second across all clients, 10).
"""

from __future__ import annotations

import asyncio
import itertools
import os
import re
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from tests.hardening.chat_client import ChatClient
from tests.support.timeouts import TIMEOUT

__all__ = ["SoakReport", "SoakSettings", "read_rss", "run_soak"]

TEXT = re.compile(r"^soak:(\d+):(\d+)$")


@dataclass(frozen=True)
class SoakSettings:
    clients: int = 50
    seconds: float = 10.0
    rate: float = 10.0
    connect_concurrency: int = 10

    @classmethod
    def from_environment(cls) -> SoakSettings:
        return cls(clients=int(os.environ.get("SOAK_CLIENTS", "50")),
                   seconds=float(os.environ.get("SOAK_SECONDS", "10")),
                   rate=float(os.environ.get("SOAK_RATE", "10")))


@dataclass
class SoakReport:
    settings: SoakSettings
    sent: int = 0
    acknowledged: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    lost: int = 0
    duplicated: int = 0
    out_of_order: int = 0
    deliveries: int = 0
    rss_kib: dict[str, dict[str, int]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"clients": self.settings.clients, "seconds": self.settings.seconds,
                "rate": self.settings.rate, "sent": self.sent,
                "acknowledged": len(self.acknowledged), "failed": len(self.failed),
                "failures": self.failed[:5], "deliveries": self.deliveries, "lost": self.lost,
                "duplicated": self.duplicated, "out_of_order": self.out_of_order,
                "rss_kib": self.rss_kib}


def read_rss(pid: int) -> int:
    """Resident set size in KiB, from ``/proc/<pid>/status``."""
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


def _soak_messages(client: ChatClient) -> list[dict[str, Any]]:
    return [m for m in client.messages() if TEXT.match(str(m.get("text", "")))]


async def _connect_all(http: aiohttp.ClientSession, api_url: str,
                       settings: SoakSettings) -> list[ChatClient]:
    gate = asyncio.Semaphore(settings.connect_concurrency)

    async def one(number: int) -> ChatClient:
        async with gate:
            return await ChatClient.connect(http, api_url, f"soak-{number}")

    return list(await asyncio.gather(*(one(n) for n in range(settings.clients))))


async def _send(client: ChatClient, number: int, seq: int, report: SoakReport) -> None:
    report.sent += 1
    try:
        report.acknowledged.append(await client.invoke("broadcast", f"soak:{number}:{seq}",
                                                       timeout=TIMEOUT * 3))
    except Exception as exc:  # an error completion or a timeout: counted, and fails the soak
        report.failed.append(f"soak:{number}:{seq}: {type(exc).__name__}: {exc}")


async def _wait_delivered(clients: list[ChatClient], report: SoakReport,
                          timeout: float) -> None:
    expected = len(report.acknowledged)

    async def one(client: ChatClient) -> None:
        await client.wait_for(lambda c: len(_soak_messages(c)) >= expected, timeout=timeout)

    await asyncio.gather(*(one(c) for c in clients), return_exceptions=True)


def _check(clients: list[ChatClient], report: SoakReport) -> None:
    acknowledged = set(report.acknowledged)
    for client in clients:
        messages = _soak_messages(client)
        ids = [m["id"] for m in messages]
        report.deliveries += len(ids)
        report.duplicated += len(ids) - len(set(ids))
        report.lost += len(acknowledged - set(ids))
        last: dict[str, int] = {}
        for message in messages:
            match = TEXT.match(message["text"])
            assert match is not None
            sender, seq = match.group(1), int(match.group(2))
            if seq <= last.get(sender, -1):
                report.out_of_order += 1
            last[sender] = seq


async def run_soak(api_url: str, stack_pid: int, settings: SoakSettings) -> SoakReport:
    report = SoakReport(settings)
    processes = {"stack": stack_pid, "clients": os.getpid()}
    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=TIMEOUT * 3)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
        clients = await _connect_all(http, api_url, settings)
        try:
            # Warm-up: every client sends once, so every code path and buffer has been used.
            seqs = [itertools.count() for _ in clients]
            await asyncio.gather(*(_send(c, n, next(seqs[n]), report)
                                   for n, c in enumerate(clients)))
            await _wait_delivered(clients, report, TIMEOUT * 3)
            warm = {name: read_rss(pid) for name, pid in processes.items()}

            loop = asyncio.get_running_loop()
            end = loop.time() + settings.seconds
            busy: dict[int, asyncio.Task[None]] = {}
            senders = itertools.cycle(range(len(clients)))
            interval = 1.0 / settings.rate
            next_at = loop.time()
            while loop.time() < end:
                number = next(senders)
                task = busy.get(number)
                if task is None or task.done():  # one invocation in flight per client
                    busy[number] = asyncio.create_task(
                        _send(clients[number], number, next(seqs[number]), report))
                next_at += interval
                await asyncio.sleep(max(0.0, next_at - loop.time()))
            await asyncio.gather(*busy.values())
            await _wait_delivered(clients, report, TIMEOUT * 3)
            final = {name: read_rss(pid) for name, pid in processes.items()}
            report.rss_kib = {name: {"warm": warm[name], "end": final[name]}
                              for name in processes}
            _check(clients, report)
        finally:
            await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)
    return report
