"""The machine, one table of every run, and the ratios against the performance targets.

The targets (``TARGET_CHECKS``) are those of benchmarks/RESULTS.md, "The targets".
"""

from __future__ import annotations

import os
import platform
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from .join_storm import storm_checks

__all__ = ["TARGET_CHECKS", "Check", "check_targets", "format_report", "judge", "machine"]


def machine() -> dict[str, Any]:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass

    def version(name: str) -> str:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return "-"

    return {
        "cores": os.cpu_count(), "cpu_model": model, "python": platform.python_version(),
        "kernel": platform.release(), "aiohttp": version("aiohttp"),
        "python_socketio": version("python-socketio"), "loadavg_at_start": os.getloadavg()[0],
    }


@dataclass(frozen=True)
class Check:
    """A target: ``ours.metric / baseline.metric`` (or ``ours.metric`` alone when ``baseline``
    is None) against ``limit``, at least or at most. Every run of the scenario must hold it
    (runs of a repeated scenario are paired in order). ``stands`` False: the target is argued
    wrong in RESULTS.md; its ratio is shown and not judged."""

    label: str
    scenario: str
    metric: str
    limit: float
    at_least: bool
    baseline: str | None = None
    stands: bool = True


TARGET_CHECKS = (
    Check("fan-out to 100, 8 senders: deliveries/s vs python-socketio", "fanout-100-8senders",
          "deliveries_per_s", 1.0, True, "socketio"),
    Check("fan-out to 100, 1 sender: deliveries/s vs python-socketio", "fanout-100",
          "deliveries_per_s", 1.0, True, "socketio", stands=False),
    Check("p99 at 100 msg/s x 100 receivers vs plain aiohttp", "latency", "p99_ms", 1.5, False,
          "aiohttp", stands=False),
    Check("p99 through the service's REST path, 100 msg/s x 100 receivers, vs plain aiohttp",
          "rest-latency", "p99_ms", 2.0, False, "aiohttp"),
    Check("memory per idle connection (5,000) vs plain aiohttp", "capacity",
          "rss_per_connection_kb", 1.2, False, "aiohttp"),
    Check("REST fan-out: service CPU per delivery vs plain aiohttp", "rest",
          "cpu_us_per_delivery", 0.8, False, "aiohttp"),
    Check("1,000 joins within 10 s: timeouts", "join-storm", "timeouts", 0, False),
    Check("1,000 joins within 10 s: bystander p99 ms", "join-storm", "bystander_p99_ms", 250,
          False),
    Check("15,000 idle connections: one broadcast reaches all", "capacity-15000",
          "delivered", 15_000, True),
)


def _runs(results: Sequence[dict[str, Any]]) -> dict[tuple[str, str], list[dict[str, Any]]]:
    runs: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in results:
        runs.setdefault((r["scenario"], r["target"]), []).append(r)
    return runs


def _value(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


def judge(check: Check, results: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    """The check over every run: the values, the worst one and the verdict (None: no run)."""
    runs = _runs(results)
    ours = [r for r in runs.get((check.scenario, "signalr"), []) if check.metric in r]
    if not ours:
        return None
    theirs = runs.get((check.scenario, check.baseline), []) if check.baseline else []
    values: list[float] = []
    for n, run in enumerate(ours):
        if check.baseline is None:
            values.append(float(run[check.metric]))
        elif n < len(theirs) and theirs[n].get(check.metric):
            values.append(run[check.metric] / theirs[n][check.metric])
    if not values:
        return None
    worst = min(values) if check.at_least else max(values)
    held = worst >= check.limit if check.at_least else worst <= check.limit
    verdict = ("does not stand (RESULTS.md)" if not check.stands
               else "MET" if held else "NOT MET")
    return {"check": check, "values": values, "worst": worst, "verdict": verdict}


def check_targets(results: Sequence[dict[str, Any]]) -> list[str]:
    """The verdict table: one row per target that ran, then the loss and duplicate check."""
    lines = ["| target | limit | this run (every run) | verdict |", "|---|---|---|---|"]
    for check in TARGET_CHECKS:
        judged = judge(check, results)
        if judged is None:
            continue
        unit = "x" if check.baseline else ""
        bound = ">=" if check.at_least else "<="
        shown = ", ".join(f"{_value(v)}{unit}" for v in judged["values"])
        lines.append(f"| {check.label} | {bound} {check.limit:g}{unit} | {shown} | "
                     f"{judged['verdict']} |")
    storms = storm_checks(list(results))
    if storms:
        lines += ["", *storms]
    dirty = [f"{r['scenario']}/{r['target']} (lost {r['lost']}, dup {r['duplicates']})"
             for r in results if r.get("lost") or r.get("duplicates")]
    lines.append("")
    lines.append("loss and duplicates: " + ("none in any run" if not dirty else
                                            "; ".join(dirty)))
    return lines


COLUMNS = (
    ("scenario", "scenario", "{}"), ("target", "target", "{}"),
    ("deliv/s", "deliveries_per_s", "{:,.0f}"), ("msg/s", "messages_per_s", "{:,.1f}"),
    ("p50 ms", "p50_ms", "{:.2f}"), ("p90 ms", "p90_ms", "{:.2f}"),
    ("p99 ms", "p99_ms", "{:.2f}"), ("max ms", "max_ms", "{:.1f}"),
    ("sent", "sent", "{:,}"), ("lost", "lost", "{:,}"), ("dup", "duplicates", "{:,}"),
    ("srv CPU s", "server_cpu_s", "{:.2f}"), ("us/deliv", "cpu_us_per_delivery", "{:.1f}"),
    ("frames/deliv", "frames_per_delivery", "{:.2f}"),
    ("gen CPU s", "generator_cpu_s", "{:.2f}"), ("RSS MB", "server_rss_mb", "{:.1f}"),
    ("KB/conn", "rss_per_connection_kb", "{:.1f}"),
    ("KB/conn 2nd half", "rss_marginal_kb", "{:.1f}"),
)


def format_report(results: Sequence[dict[str, Any]], *, markdown: bool = False) -> str:
    header = [title for title, _, _ in COLUMNS]
    rows = [[fmt.format(r[key]) if key in r else "-" for _, key, fmt in COLUMNS]
            for r in results]
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        return "\n".join(lines)
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(header)]
    lines = ["  ".join(h.rjust(w) for h, w in zip(header, widths, strict=True))]
    lines += ["  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    return "\n".join(lines)
