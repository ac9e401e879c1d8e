"""checkov scans infra/ offline (--skip-download) and passes with only documented skips.

checkov runs from its own virtual environment (.venv-checkov, `make checkov`), because it pins
many packages of its own. A missing checkov is a failure, never a skip.
"""

from __future__ import annotations

import shutil
from typing import Any

import pytest

from tests.infra import infra_checkov
from tests.infra.infra_checkov import (
    CONFIG,
    failed_checks,
    run_checkov,
    run_in_parallel,
    skipped_rules,
)
from tests.infra.infra_model import INFRA_DIR

CUSTOM_CHECKS = {f"CKV_CHAT_{n}" for n in range(1, 6)}
SIGNALR_RESOURCE = "Microsoft.SignalRService/signalR.signalR"


@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> dict[str, tuple[int, dict[str, Any]]]:
    """The configured run and an unconfigured run (nothing skipped), side by side.

    checkov reads a .checkov.yaml in the scanned directory by itself, so the unconfigured run
    scans a copy without it. Module scope on purpose: each run is a multi-second subprocess, and
    the tests below only read the reports.
    """
    bare = tmp_path_factory.mktemp("unconfigured") / "infra"
    shutil.copytree(INFRA_DIR, bare, ignore=shutil.ignore_patterns(CONFIG.name, "__pycache__"))
    return run_in_parallel(
        {
            "configured": ((), True, False),  # the checkov script, as the README runs it
            "unconfigured": (("-d", str(bare)), False, True),
        }
    )


def test_checkov_passes_infra_with_documented_skips(reports) -> None:
    returncode, report = reports["configured"]
    assert returncode == 0
    assert report["summary"]["failed"] == 0
    assert report["summary"]["parsing_errors"] == 0
    assert report["summary"]["passed"] > len(CUSTOM_CHECKS)


def test_checkov_runs_custom_signalr_checks(reports) -> None:
    _, report = reports["configured"]
    passed = {
        r["check_id"]
        for r in report["results"]["passed_checks"]
        if r["resource"] == SIGNALR_RESOURCE
    }
    assert passed == CUSTOM_CHECKS


def test_checkov_skips_are_needed(reports) -> None:
    """Every skipped rule really fails without the skip, and nothing else does."""
    _, report = reports["unconfigured"]
    assert failed_checks(report) == set(skipped_rules())


def test_checkov_skips_each_have_a_reason() -> None:
    rules = skipped_rules()
    assert rules, f"no skip-check list found in {CONFIG}"
    short = {rule: reason for rule, reason in rules.items() if len(reason) < 20}
    assert short == {}


def test_checkov_skips_are_listed_in_readme() -> None:
    readme = (INFRA_DIR / "README.md").read_text(encoding="utf-8")
    assert [rule for rule in skipped_rules() if rule not in readme] == []


def test_checkov_missing_fails_with_make_hint(monkeypatch, tmp_path) -> None:
    monkeypatch.setattr(infra_checkov, "CHECKOV", tmp_path / "no-checkov")
    with pytest.raises(pytest.fail.Exception, match="make checkov"):
        run_checkov()
