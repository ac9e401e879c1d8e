"""Run infra/deploy.sh offline (``--dry-run``) and read the az commands it would run.

In a dry run every az command is printed as ``+ az ...`` (arguments joined by spaces) instead of
run, with stand-ins such as ``<app-principal-id>`` for what Azure would return, so the names,
settings and flags the script uses can be read back and compared with infra/'s Bicep.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tests.infra.infra_model import INFRA_DIR

__all__ = ["SCRIPT", "TIMEOUT", "DeployPlan", "dry_run", "run_script"]

SCRIPT = INFRA_DIR / "deploy.sh"
TIMEOUT = 60
_WORD = re.compile(r"'([^']*)'|(\S+)")


def run_script(
    *args: str, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """deploy.sh with a clean environment (plus ``env``): no az, no user settings leak in."""
    clean = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C", **(env or {})}
    return subprocess.run(
        ["bash", str(SCRIPT), *args],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env=clean,
        check=False,
    )


def dry_run(*args: str, env: Mapping[str, str] | None = None) -> DeployPlan:
    result = run_script(*args, "--dry-run", env=env)
    if result.returncode != 0:
        raise AssertionError(f"deploy.sh {' '.join(args)} failed: {result.stderr}")
    return DeployPlan(result.stdout, result.stderr)


@dataclass(frozen=True)
class DeployPlan:
    """The commands one dry run printed (stdout: what it runs; stderr: what it only reads)."""

    stdout: str
    stderr: str

    def commands(self) -> list[list[str]]:
        lines = (self.stdout + "\n" + self.stderr).splitlines()
        # The script quotes a one-line word with spaces ('0 */1 * * * *'), nothing else.
        return [[quoted or bare for quoted, bare in _WORD.findall(line[2:])]
                for line in lines if line.startswith("+ az ")]

    def command(self, *prefix: str) -> list[str]:
        """The one command that starts with ``prefix`` (``"az", "keyvault", "create"``)."""
        found = [c for c in self.commands() if c[: len(prefix)] == list(prefix)]
        if len(found) != 1:
            raise AssertionError(f"{' '.join(prefix)}: {len(found)} commands in the dry run")
        return found[0]

    def option(self, prefix: tuple[str, ...], flag: str) -> str:
        words = self.command(*prefix)
        if flag not in words:
            raise AssertionError(f"{' '.join(prefix)} has no {flag}")
        return words[words.index(flag) + 1]

    def app_settings(self) -> dict[str, str]:
        words = self.command("az", "functionapp", "config", "appsettings", "set")
        start = words.index("--settings") + 1
        values = [word for word in words[start:] if not word.startswith("--")]
        return dict(value.split("=", 1) for value in values)

    def patch_body(self) -> dict[str, Any]:
        """The JSON body of the ``az rest --method patch`` that sets SignalR's upstream."""
        start = self.stdout.index("--body ") + len("--body ")
        body: dict[str, Any] = json.loads(self.stdout[start : self.stdout.index(" -o none", start)])
        return body
