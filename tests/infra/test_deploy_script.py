"""infra/deploy.sh: valid bash, shellcheck-clean, and (in --dry-run) the same deployment as Bicep.

The dry run prints every az command instead of running it, so the steps that matter (Serverless
mode, the upstream's Key Vault reference and ManagedIdentity auth, the role ids) are checked
offline without the Azure CLI.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess

import pytest

from tests.infra.infra_contract import SYSTEM_KEY_SECRET
from tests.infra.infra_deploy_plan import SCRIPT, TIMEOUT, dry_run, run_script


def test_deploy_script_is_valid_bash() -> None:
    result = subprocess.run(
        ["bash", "-n", str(SCRIPT)], capture_output=True, text=True, timeout=TIMEOUT, check=False
    )
    assert (result.returncode, result.stderr) == (0, "")


def test_deploy_script_is_shellcheck_clean() -> None:
    if shutil.which("shellcheck") is None:
        if os.environ.get("CI"):
            pytest.fail("shellcheck is required in CI (apt-get install shellcheck)")
        pytest.skip("shellcheck is not installed (apt-get install shellcheck)")
    result = subprocess.run(
        ["shellcheck", str(SCRIPT)], capture_output=True, text=True, timeout=TIMEOUT, check=False
    )
    assert (result.returncode, result.stdout) == (0, "")


def test_deploy_script_dry_run_sets_upstream_with_key_vault_reference() -> None:
    plan = dry_run("up", "--name", "ci")
    body = plan.patch_body()["properties"]
    assert {"flag": "ServiceMode", "value": "Serverless"} in body["features"]
    (template,) = body["upstream"]["templates"]
    assert template["hubPattern"] == "chat"
    assert template["auth"]["type"] == "ManagedIdentity"
    assert re.fullmatch(
        r"https://func-[0-9a-f]{13}\.azurewebsites\.net/runtime/webhooks/signalr"
        r"\?code=\{@Microsoft\.KeyVault\(SecretUri=https://kv-[0-9a-f]{13}\.vault\.azure\.net/"
        rf"secrets/{re.escape(SYSTEM_KEY_SECRET)}/\)\}}",
        template["urlTemplate"],
    )
    assert re.search(
        r"^CHAT_URL=https://func-[0-9a-f]{13}\.azurewebsites\.net/api/index$",
        plan.stdout,
        re.MULTILINE,
    )


def test_deploy_script_dry_run_orders_upstream_after_publish() -> None:
    stdout = run_script("up", "--dry-run").stdout
    assert stdout.index("config-zip") < stdout.index("--method patch")
    assert "--service-mode Serverless" in stdout


def test_deploy_script_dry_run_keeps_secrets_off_the_terminal() -> None:
    result = run_script("up", "--dry-run")
    commands = [
        line for line in (result.stdout + result.stderr).splitlines() if line.startswith("+ az")
    ]
    settings = [c for c in commands if "appsettings set" in c]
    keys = [c for c in commands if "keys list" in c]
    assert settings and keys
    # appsettings set echoes every setting (the storage account key included) unless silenced;
    # keys list may only ask for the type of the key, never its value.
    assert all(" -o none" in c for c in settings)
    assert all("--query type(systemKeys.signalr_extension) -o tsv" in c for c in keys)
    assert not re.search(r"AccountKey=|SharedAccessSignature", result.stdout + result.stderr)


def test_deploy_script_dry_run_tears_down_and_purges() -> None:
    result = run_script("down", "--dry-run", "--purge", "--name", "ci")
    assert result.returncode == 0, result.stderr
    assert "+ az group delete --name rg-ci --yes" in result.stdout
    assert re.search(r"^\+ az keyvault purge --name kv-[0-9a-f]{13}$", result.stdout, re.MULTILINE)


FAKE_AZ = """#!/bin/sh
printf '%s\\n' "$*" >> "$AZ_LOG"
case "$*" in
  "group list"*) echo northeurope ;;
  "account show --query id -o tsv") echo 00000000-0000-0000-0000-000000000000 ;;
esac
"""


def test_deploy_script_up_keeps_an_existing_group_where_it_is(tmp_path) -> None:
    """up in another region than the existing rg-<name> stops before it creates anything."""
    (tmp_path / "az").write_text(FAKE_AZ, encoding="utf-8")
    (tmp_path / "az").chmod(0o755)
    log = tmp_path / "az.log"
    env = {"PATH": f"{tmp_path}:{os.environ.get('PATH', '/usr/bin:/bin')}", "AZ_LOG": str(log)}
    result = run_script("up", "--name", "ci", "--location", "westeurope", env=env)
    assert result.returncode == 1
    assert "rg-ci already exists in northeurope, not westeurope" in result.stderr
    calls = log.read_text(encoding="utf-8").splitlines()
    assert any(call.startswith("group list") for call in calls)
    assert [call for call in calls if " create" in call] == []


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("up", "--sku", "Basic"), 1, "--sku must be Standard_S1 or Free_F1"),
        (("up", "--name", "Bad_Name"), 1, "--name must be lowercase"),
        (("up", "--bogus"), 1, "unknown argument: --bogus"),
        (("sideways",), 2, "infra/deploy.sh up"),
        ((), 2, "infra/deploy.sh up"),
    ],
)
def test_deploy_script_rejects_bad_arguments(
    args: tuple[str, ...], code: int, message: str
) -> None:
    result = run_script(*args)
    assert result.returncode == code
    assert message in result.stderr


def _local_imports_of_app() -> set[str]:
    """The repository's own top-level packages and modules that function_app.py imports."""
    root = SCRIPT.parents[1]
    tree = ast.parse((root / "function_app.py").read_text(encoding="utf-8"))
    names = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
             for alias in node.names}
    names |= {node.module.split(".")[0] for node in ast.walk(tree)
              if isinstance(node, ast.ImportFrom) and node.module and not node.level}
    return {n for n in names if (root / n).is_dir() or (root / f"{n}.py").is_file()}


def test_deploy_script_packages_every_module_the_app_imports() -> None:
    local = _local_imports_of_app()
    assert {"chat", "chat_io"} <= local
    (command,) = [line for line in run_script("up", "--dry-run").stdout.splitlines()
                  if line.startswith("+ zip ")]
    packaged = set(command.split(" -x ")[0].split()[4:])
    assert local | {"function_app.py", "host.json", "requirements.txt", "content"} <= packaged


def test_funcignore_keeps_every_module_the_app_imports() -> None:
    """``func azure functionapp publish`` leaves out what .funcignore names."""
    ignored = {line.strip().rstrip("/") for line in
               (SCRIPT.parents[1] / ".funcignore").read_text(encoding="utf-8").splitlines()
               if line.strip() and not line.startswith("#")}
    assert not (_local_imports_of_app() | {"function_app.py", "host.json", "content"}) & ignored
