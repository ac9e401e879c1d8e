"""What ``azd up`` would deploy, computed offline from infra/ the way azd and ARM compute it.

azd reads infra/main.parameters.json and replaces ``${NAME}`` and ``${NAME=default}`` with the
azd environment's values (empty defaults included), converting each to its parameter's type;
every other parameter of main.bicep keeps its default. ``AzdDeployment`` then evaluates main.bicep,
each module call and each module (``bicep_evaluate``), so names, app settings and resource
settings can be compared with what infra/deploy.sh does.

``resourceToken`` (``uniqueString(subscription().id, environmentName, location)``) is only known
to ARM; it stays the marker ``TOKEN``, and a comparison replaces it with deploy.sh's own token.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tests.infra.bicep_evaluate import Evaluator, is_known
from tests.infra.infra_model import BicepFile, Infra, body

__all__ = ["TOKEN", "AzdDeployment", "azd_parameters"]

TOKEN = "<resourceToken>"
_AZD_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:=([^}]*))?\}")


def azd_parameters(infra: Infra, env: Mapping[str, str]) -> dict[str, Any]:
    """main.bicep's parameter values as azd passes them for the azd environment ``env``."""
    main = infra.main
    given = infra.parameters_json["parameters"]
    values: dict[str, Any] = {}
    for name, spec in main.parameters.items():
        if name in given:
            text = _AZD_VARIABLE.sub(lambda m: _lookup(env, m), str(given[name]["value"]))
            values[name] = _typed(text, str(spec["type"]), name)
        elif spec.get("default") is not None:
            values[name] = Evaluator(main, values).evaluate(spec["default"])
        else:
            raise KeyError(f"main.bicep parameter {name} has no value and no default")
    return values


def _lookup(env: Mapping[str, str], match: re.Match[str]) -> str:
    name, default = match.group(1), match.group(2)
    if name in env:
        return env[name]
    if default is None:
        raise KeyError(f"azd environment has no {name} and main.parameters.json no default")
    return default


def _typed(text: str, kind: str, name: str) -> Any:
    if kind == "bool":
        if text not in ("true", "false"):
            raise ValueError(f"{name}: {text!r} is not a bool")
        return text == "true"
    if kind == "int":
        return int(text)
    if kind in ("array", "object"):
        return json.loads(text)
    return text


@dataclass(frozen=True)
class AzdDeployment:
    """main.bicep and its modules, evaluated with the parameters azd would pass."""

    infra: Infra
    parameters: dict[str, Any]

    @classmethod
    def of(cls, infra: Infra, env: Mapping[str, str], **overrides: Any) -> AzdDeployment:
        """``overrides`` stand for parameters main.parameters.json does not map to the env."""
        return cls(infra, {**azd_parameters(infra, env), **overrides})

    def main(self) -> Evaluator:
        return Evaluator(self.infra.main, self.parameters, {"resourceToken": TOKEN})

    def module(self, symbol: str, outputs: Mapping[str, Any] | None = None) -> Evaluator:
        """The module main.bicep calls ``symbol``, with the arguments that call passes.

        ``outputs`` stands in for arguments only a deployment knows (another module's outputs,
        such as the app's host name), by parameter name.
        """
        call = self.infra.main.modules[symbol]
        path = str(call["detail"]["path"]).removeprefix("./")
        module = self.infra.bicep[path]
        arguments = self.main().evaluate(body(call).get("params", {}))
        for name, value in (outputs or {}).items():
            if not is_known(arguments.get(name)):
                arguments[name] = value
        return Evaluator(module, _with_defaults(module, arguments))

    def resource(
        self, module: str | None, symbol: str, outputs: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """The evaluated body of a resource (``module`` None: main.bicep itself)."""
        evaluator = self.main() if module is None else self.module(module, outputs)
        result = evaluator.evaluate(body(evaluator.bicep.resources[symbol]))
        if not isinstance(result, dict):
            raise TypeError(f"{symbol}: body evaluated to {result!r}")
        return result

    def deployed(self, module: str, symbol: str) -> Any:
        """A resource's ``if (...)`` condition, evaluated (True when it has none)."""
        evaluator = self.module(module)
        condition = evaluator.bicep.condition(symbol)
        return True if condition is None else evaluator.evaluate(condition)


def _with_defaults(module: BicepFile, arguments: dict[str, Any]) -> dict[str, Any]:
    values = dict(arguments)
    for name, spec in module.parameters.items():
        if name not in values and spec.get("default") is not None:
            values[name] = Evaluator(module, values).evaluate(spec["default"])
    return values
