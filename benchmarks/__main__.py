"""``python -m benchmarks``: run scenarios against every target, print one table and the ratios.

Each run prints one JSON line (its parameters, its numbers and the machine); the whole set is
saved to ``--out`` (``benchmarks/results/latest.json`` by default) for RESULTS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import time
from pathlib import Path
from typing import Any

from emulator.serve import collect_garbage_less_often, raise_open_files_limit

from .report import check_targets, format_report, machine
from .scenarios import DEFAULT_SET, REPEATS, SCENARIOS, run_scenario, targets_of

__all__ = ["main"]

DEFAULT_OUT = Path(__file__).parent / "results" / "latest.json"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("scenarios", nargs="*", default=list(DEFAULT_SET),
                        help=f"any of {', '.join(SCENARIOS)} (default: {' '.join(DEFAULT_SET)})")
    parser.add_argument("--targets", default="", help="comma-separated subset of the targets")
    parser.add_argument("--scale", type=float, default=1.0,
                        help="multiply durations and client counts (0.05 for a smoke run)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where to save the JSON")
    parser.add_argument("--profile", type=Path, metavar="DIR",
                        help="py-spy each traffic run's server into DIR/<scenario>-<target>.txt")
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    parser.add_argument("--repeat", type=int, default=0, metavar="N",
                        help="run each scenario N times (default: once; in the default set "
                             + ", ".join(f"{name} {n} times" for name, n in REPEATS.items())
                             + ")")
    parser.add_argument("--plot", type=Path, metavar="PNG",
                        help="draw deliveries/s and p99 per scenario and target into PNG")
    return parser.parse_args(argv)


async def run(args: argparse.Namespace) -> list[dict[str, Any]]:
    wanted = [t for t in args.targets.split(",") if t]
    host = machine()
    results: list[dict[str, Any]] = []
    for name, round_ in _rounds(args):
        scenario = SCENARIOS[name]
        if args.scale != 1.0:
            scenario = scenario.scaled(args.scale)
        for target in targets_of(scenario, wanted):
            started = time.perf_counter()
            profile = None
            if args.profile:
                args.profile.mkdir(parents=True, exist_ok=True)
                profile = str(args.profile / f"{scenario.name}-{target}.txt")
            result = await run_scenario(scenario, target, profile)
            result["run_s"] = time.perf_counter() - started
            result["round"] = round_
            result["parameters"] = {"kind": scenario.kind, "duration": scenario.duration,
                                    "window": scenario.window, "rate": scenario.rate,
                                    "codec": scenario.codec, "receivers": scenario.receivers,
                                    "senders": scenario.senders}
            print(json.dumps({**result, "machine": host}), flush=True)
            results.append(result)
    return results


def _rounds(args: argparse.Namespace) -> list[tuple[str, int]]:
    """(scenario, round) in the order they run: the rounds of a scenario one after another."""
    default = args.scenarios == list(DEFAULT_SET)
    return [(name, n) for name in args.scenarios
            for n in range(args.repeat or (REPEATS.get(name, 1) if default else 1))]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    unknown = [name for name in args.scenarios if name not in SCENARIOS]
    if unknown:
        print(f"unknown scenario(s): {', '.join(unknown)}", file=sys.stderr)
        return 2
    raise_open_files_limit(logging.getLogger("benchmarks"))  # 15,000 clients need the room
    # The generator is the measuring instrument: a full collection over 1,000 clients' state
    # (up to 100 ms) would be counted as the server's latency. Collected as the stack is.
    collect_garbage_less_often()
    results = asyncio.run(run(args))
    host = machine()
    print()
    print(f"machine: {host['cores']} cores, {host['cpu_model']}, Python {host['python']}, "
          f"load average {host['loadavg_at_start']:.2f}")
    print(format_report(results, markdown=args.markdown))
    print()
    for line in check_targets(results):
        print(line)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"machine": host, "results": results}, indent=1) + "\n",
                        encoding="utf-8")
    if args.plot:
        from .plot import plot_results

        plot_results(results, args.plot)
        print(f"plot: {args.plot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
