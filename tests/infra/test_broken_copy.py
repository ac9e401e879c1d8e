"""The offline checks fail on a broken copy of infra/: each check is shown to catch something.

Each mutation removes or weakens one thing in a copy; the pycep contract must report exactly the
checks named for it, and checkov (custom CKV_CHAT_* checks) must fail on the SignalR ones.
"""

from __future__ import annotations

import pytest

from tests.infra.infra_checkov import failed_checks, run_checkov
from tests.infra.infra_contract import CHECKS, run_all
from tests.infra.infra_model import load_infra
from tests.infra.infra_mutations import CHECKOV_MUTATIONS, MUTATIONS


@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_infra_contract_fails_on_broken_copy(make_infra_copy, name: str) -> None:
    mutation = MUTATIONS[name]
    infra_dir = make_infra_copy(name)
    mutation.apply(infra_dir)
    assert set(run_all(load_infra(infra_dir))) == mutation.contract


def test_infra_mutations_cover_every_check() -> None:
    covered = set().union(*(mutation.contract for mutation in MUTATIONS.values()))
    assert covered == set(CHECKS)


def test_infra_contract_passes_on_unbroken_copy(make_infra_copy) -> None:
    assert run_all(load_infra(make_infra_copy("control"))) == {}


def test_infra_mutation_refuses_missing_snippet(make_infra_copy) -> None:
    infra_dir = make_infra_copy("moved")
    mutation = MUTATIONS["upstream_auth_none"]
    mutation.apply(infra_dir)
    with pytest.raises(AssertionError, match="found 0x"):
        mutation.apply(infra_dir)


def test_checkov_mutations_include_the_signalr_essentials() -> None:
    assert {
        "upstream_auth_removed",
        "key_vault_reference_removed",
        "serverless_mode_removed",
    } <= set(CHECKOV_MUTATIONS)


# One checkov run per copy (checkov 3.3.30 drops resources that two copies of the same templates
# in one scan share by name), one test each so that test processes share them out.
@pytest.mark.parametrize("name", ["control", *sorted(CHECKOV_MUTATIONS)])
def test_checkov_verdict_on_a_copy(make_infra_copy, name: str) -> None:
    """The unbroken copy passes; each broken copy fails exactly the checks named for it."""
    infra_dir = make_infra_copy(name)
    expected: set[str] = set()
    if name != "control":
        CHECKOV_MUTATIONS[name].apply(infra_dir)
        expected = set(CHECKOV_MUTATIONS[name].checkov)

    returncode, report = run_checkov("-d", str(infra_dir))

    assert report["summary"]["parsing_errors"] == 0
    assert (returncode, failed_checks(report)) == (1 if expected else 0, expected)
