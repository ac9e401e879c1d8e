"""The deployment contract of infra/, as checks over the parsed Bicep.

Each check takes an :class:`~infra_model.Infra` and returns a list of problems (empty when the
contract holds). Tests assert an empty list on the real infra/, and the broken-copy tests assert
that the right check reports a problem once a copy is damaged, so every check is shown to fail.
The checks live in ``infra_checks_*.py`` by subject and register themselves here on import.
"""

from __future__ import annotations

from tests.infra import infra_checks_app, infra_checks_platform, infra_checks_signalr
from tests.infra.infra_check_tools import CHECKS, EXPECTED_ROLES, SYSTEM_KEY_SECRET, UPSTREAM_PATH
from tests.infra.infra_model import Infra

__all__ = ["CHECKS", "EXPECTED_ROLES", "SYSTEM_KEY_SECRET", "UPSTREAM_PATH", "run_all"]

CHECK_MODULES = (infra_checks_signalr, infra_checks_app, infra_checks_platform)


def run_all(infra: Infra) -> dict[str, list[str]]:
    """Every check's problems, keyed by check name (only checks that found some)."""
    results = {name: function(infra) for name, function in CHECKS.items()}
    return {name: problems for name, problems in results.items() if problems}
