"""The offline checks fail on a broken copy of infra/: each check is shown to catch something.

Each mutation removes or weakens one thing in a copy; the pycep contract must report exactly the
checks named for it, and checkov (custom CKV_CHAT_* checks) must fail on the SignalR ones.
"""

from __future__ import annotations

import pytest

from tests.infra.infra_checkov import failed_checks, run_checkov_on_each
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


def test_checkov_fails_on_broken_copies(make_infra_copy) -> None:
    assert {
        "upstream_auth_removed",
        "key_vault_reference_removed",
        "serverless_mode_removed",
    } <= set(CHECKOV_MUTATIONS)
    copies = {"control": make_infra_copy("control")}
    for name, mutation in CHECKOV_MUTATIONS.items():
        copies[name] = make_infra_copy(name)
        mutation.apply(copies[name])

    runs = run_checkov_on_each(copies)

    assert runs["control"][0] == 0
    assert failed_checks(runs["control"][1]) == set()
    for name, mutation in CHECKOV_MUTATIONS.items():
        returncode, report = runs[name]
        assert (name, returncode) == (name, 1)
        assert report["summary"]["parsing_errors"] == 0
        assert (name, failed_checks(report)) == (name, set(mutation.checkov))
