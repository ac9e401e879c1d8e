"""One PNG of a benchmark run: deliveries/s and p99 latency per scenario, one bar per target.

Needs matplotlib (benchmarks/requirements.txt); ``python -m benchmarks --plot FILE`` calls it.
A scenario run several times shows its median run, with the range of its runs as an error bar.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["plot_results"]

COLOURS = {"signalr": "#1f77b4", "socketio": "#ff7f0e", "aiohttp": "#2ca02c",
           "signalr-split": "#9467bd"}
TRAFFIC = ("fanout", "rate", "talkers", "rest", "rest-rate")


def _series(results: Sequence[dict[str, Any]], metric: str
            ) -> tuple[list[str], dict[str, list[tuple[float, float, float] | None]]]:
    """Scenarios in run order, and per target (median, low, high) of ``metric`` or None."""
    scenarios: list[str] = []
    values: dict[tuple[str, str], list[float]] = {}
    for r in results:
        if r.get("parameters", {}).get("kind") not in TRAFFIC or metric not in r:
            continue
        if r["scenario"] not in scenarios:
            scenarios.append(r["scenario"])
        values.setdefault((r["scenario"], r["target"]), []).append(float(r[metric]))
    table: dict[str, list[tuple[float, float, float] | None]] = {}
    for target in COLOURS:
        row = []
        for name in scenarios:
            runs = values.get((name, target))
            row.append((statistics.median(runs), min(runs), max(runs)) if runs else None)
        table[target] = row
    return scenarios, table


def plot_results(results: Sequence[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(2, 1, figsize=(11, 8), constrained_layout=True)
    for axis, metric, title, log in (
        (axes[0], "deliveries_per_s", "deliveries per second (higher is better)", False),
        (axes[1], "p99_ms", "p99 latency, ms (lower is better; log scale)", True),
    ):
        scenarios, table = _series(results, metric)
        width = 0.8 / len(COLOURS)
        for n, (target, row) in enumerate(table.items()):
            xs = [i + (n - 1) * width for i, v in enumerate(row) if v is not None]
            shown = [v for v in row if v is not None]
            if not shown:
                continue
            heights = [v[0] for v in shown]
            errors = [[v[0] - v[1] for v in shown], [v[2] - v[0] for v in shown]]
            axis.bar(xs, heights, width, yerr=errors, label=target, color=COLOURS[target],
                     capsize=2)
        axis.set_xticks(range(len(scenarios)), scenarios, rotation=20, ha="right")
        axis.set_title(title)
        if log:
            axis.set_yscale("log")
        axis.grid(axis="y", alpha=0.3)
        axis.legend()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    plt.close(figure)
