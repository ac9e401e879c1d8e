"""Run checkov from its own virtual environment (.venv-checkov, made by `make checkov`)."""

from __future__ import annotations

import json
import subprocess
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.infra.infra_model import INFRA_DIR, REPO_ROOT
from tests.support.warm_python import run_module

__all__ = [
    "CHECKOV",
    "CONFIG",
    "failed_checks",
    "run_checkov",
    "run_in_parallel",
    "skipped_rules",
]

CHECKOV = REPO_ROOT / ".venv-checkov" / "bin" / "checkov"
LAUNCHER = "tests.infra.run_checkov"
"""checkov's command line with its JSONPath parse tables built once (see the file), run from a
warm checkov interpreter (tests/support/warm_python.py): importing checkov is 2.5 s of CPU."""
PRELOAD = ("checkov.main",)
CONFIG = INFRA_DIR / ".checkov.yaml"
TIMEOUT = 300
PARALLEL_RUNS = 2  # the machine has two cores; each run is one busy Python process


def run_checkov(
    *args: str, config: bool = True, launcher: bool = True,
) -> tuple[int, dict[str, Any]]:
    """Run checkov offline from the repo root; return its exit code and JSON report.

    With ``config`` the run uses infra/.checkov.yaml (framework, skip list, custom checks);
    without it, the same scan with nothing skipped. ``launcher=False`` runs the ``checkov``
    script itself, exactly as the README does.
    """
    if not CHECKOV.exists():
        pytest.fail(f"{CHECKOV} is missing: run `make checkov` in {REPO_ROOT}")
    if config:
        options = ["--config-file", str(CONFIG)]
    else:
        options = ["--framework", "bicep", "--skip-download",
                   "--external-checks-dir", str(INFRA_DIR / "checkov")]
    options += [*args, "--output", "json"]
    if launcher:
        result = run_module(str(CHECKOV.with_name("python")), PRELOAD, LAUNCHER, *options,
                            cwd=REPO_ROOT, timeout=TIMEOUT)
    else:
        result = subprocess.run([str(CHECKOV), *options], cwd=REPO_ROOT, capture_output=True,
                                text=True, timeout=TIMEOUT, check=False)
    if result.returncode not in (0, 1):
        pytest.fail(f"checkov exited {result.returncode}: {result.stderr[-2000:]}")
    report = json.loads(result.stdout)
    if isinstance(report, list):  # one entry per framework; we ask for bicep only
        (report,) = report
    return result.returncode, report


def run_in_parallel(
    runs: dict[str, tuple[tuple[str, ...], bool, bool]],
) -> dict[str, tuple[int, dict[str, Any]]]:
    """``{name: (args, config, launcher)}`` -> ``{name: (exit code, report)}``, two runs at a
    time (the arguments of :func:`run_checkov`)."""
    with ThreadPoolExecutor(max_workers=PARALLEL_RUNS) as pool:
        futures = {
            name: pool.submit(run_checkov, *args, config=config, launcher=launcher)
            for name, (args, config, launcher) in runs.items()
        }
        return {name: future.result() for name, future in futures.items()}


def failed_checks(report: dict[str, Any]) -> set[str]:
    return {result["check_id"] for result in report["results"]["failed_checks"]}


def skipped_rules() -> dict[str, str]:
    """``{rule id: reason}`` from the skip-check list of infra/.checkov.yaml."""
    rules: dict[str, str] = {}
    in_list = False
    for line in CONFIG.read_text(encoding="utf-8").splitlines():
        if not line.startswith(" "):
            in_list = line.startswith("skip-check:")
            continue
        item = line.strip()
        if in_list and item.startswith("- "):
            rule, _, reason = item[2:].partition("#")
            rules[rule.strip()] = reason.strip()
    return rules
