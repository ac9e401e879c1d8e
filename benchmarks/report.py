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

__all__ = ["TARGET_CHECKS", "Check", "check_targets", "format_report", "machine"]


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
    """``ours.metric / baseline.metric`` compared with ``limit`` (``at_least`` or at most)."""

    scenario: str
    metric: str
    baseline: str
    limit: float
    at_least: bool
    label: str


TARGET_CHECKS = (
    Check("fanout-100", "deliveries_per_s", "socketio", 3.0, True,
          "end-to-end fan-out to 100: deliveries/s vs python-socketio"),
    Check("rest", "cpu_us_per_delivery", "aiohttp", 1.5, False,
          "REST fan-out: service CPU per delivery vs plain aiohttp"),
    Check("latency", "p99_ms", "aiohttp", 2.0, False,
          "100 msg/s x 100 receivers: p99 vs plain aiohttp"),
    Check("capacity", "rss_per_connection_kb", "aiohttp", 1.5, False,
          "5,000 idle connections: memory per connection vs plain aiohttp"),
)


def _index(results: Sequence[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(r["scenario"], r["target"]): r for r in results}


def check_targets(results: Sequence[dict[str, Any]]) -> list[str]:
    """One line per target: the ratio against each baseline and whether the target holds."""
    runs = _index(results)
    lines: list[str] = []
    for check in TARGET_CHECKS:
        ours = runs.get((check.scenario, "signalr"))
        if ours is None:
            continue
        parts: list[str] = []
        verdict = "n/a"
        for baseline in ("socketio", "aiohttp"):
            other = runs.get((check.scenario, baseline))
            if other is None or not other.get(check.metric):
                continue
            ratio = ours[check.metric] / other[check.metric]
            parts.append(f"{ratio:.2f}x {baseline}")
            if baseline == check.baseline:
                ok = ratio >= check.limit if check.at_least else ratio <= check.limit
                bound = ">=" if check.at_least else "<="
                verdict = f"{'MET' if ok else 'NOT MET'} (target {bound} {check.limit:g}x)"
        lines.append(f"{check.label}: {', '.join(parts) or '-'} -> {verdict}")
    lines += storm_checks(list(results))
    clean = [r for r in results if r["lost"] == 0 and r["duplicates"] == 0]
    dirty = [f"{r['scenario']}/{r['target']} (lost {r['lost']}, dup {r['duplicates']})"
             for r in results if r not in clean]
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
