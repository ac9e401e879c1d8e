"""Put Bicep's operator precedence back into pycep's expression trees.

pycep-parser 0.5.1 builds every chain of operators as if it grouped to the right:
``a > 0 ? x : y`` comes back as ``a > (0 ? x : y)``, and ``!empty(s) ? x : y`` as
``!(empty(s) ? x : y)``. Bicep groups ``?:`` loosest and ``!`` tightest
(https://learn.microsoft.com/azure/azure-resource-manager/bicep/operators#operator-precedence-and-associativity).
``normalize`` flattens the chain pycep built on the right-hand side and parses it again with
Bicep's precedence.

Limit: pycep keeps no parentheses, so an explicitly parenthesised group on the right of an
operator (``a && (b || c)``) reads as if it were not parenthesised. A group on the left, and the
branches of ``?:``, are kept as written.
"""

from __future__ import annotations

from typing import Any

__all__ = ["is_operator", "normalize", "to_bicep"]

# Binding strength of Bicep's binary operators (higher binds tighter); all group to the left.
BINARY_PRECEDENCE = {
    "multiply": 7,
    "divide": 7,
    "modulo": 7,
    "add": 6,
    "substract": 6,  # sic: pycep's name for "-"
    "greater_than": 5,
    "greater_than_or_equals": 5,
    "less_than": 5,
    "less_than_or_equals": 5,
    "equals": 4,
    "not_equals": 4,
    "equals_case_insensitive": 4,
    "not_equals_case_insensitive": 4,
    "and": 3,
    "or": 2,
    "coalesce": 1,
}
PREFIX_OPERAND = {"not": "bool_value", "minus": "integer_value"}
SYMBOLS = {
    "multiply": "*",
    "divide": "/",
    "modulo": "%",
    "add": "+",
    "substract": "-",
    "greater_than": ">",
    "greater_than_or_equals": ">=",
    "less_than": "<",
    "less_than_or_equals": "<=",
    "equals": "==",
    "not_equals": "!=",
    "equals_case_insensitive": "=~",
    "not_equals_case_insensitive": "!~",
    "and": "&&",
    "or": "||",
    "coalesce": "??",
    "not": "!",
    "minus": "-",
}


def is_operator(node: Any, kind: str | None = None) -> bool:
    """True for pycep's ``{"operator": {"type": ..., "operands": ...}}`` (of ``kind`` if given)."""
    if not (isinstance(node, dict) and set(node) == {"operator"}):
        return False
    inner = node["operator"]
    return isinstance(inner, dict) and (kind is None or inner.get("type") == kind)


def _operator(kind: str, **operands: Any) -> dict[str, Any]:
    return {"operator": {"type": kind, "operands": operands}}


def normalize(node: Any) -> Any:
    """The same expression with Bicep's grouping; anything but an operator is returned as is."""
    if not is_operator(node):
        return node
    kind = node["operator"]["type"]
    if kind not in BINARY_PRECEDENCE and kind not in PREFIX_OPERAND and kind != "conditional":
        return node
    tokens: list[tuple[str, Any]] = []
    branches = _flatten(node, tokens)
    grouped = _Parser(tokens).expression()
    if branches is None:
        return grouped
    true_value, false_value = branches
    return _operator(
        "conditional",
        condition=grouped,
        true_value=normalize(true_value),
        false_value=normalize(false_value),
    )


def _flatten(node: Any, tokens: list[tuple[str, Any]]) -> tuple[Any, Any] | None:
    """Append the chain's tokens; return the ``?:`` branches that end it, if any."""
    while True:
        if not is_operator(node):
            tokens.append(("atom", node))
            return None
        kind = node["operator"]["type"]
        operands = node["operator"]["operands"]
        if kind == "conditional":
            tokens.append(("atom", operands["condition"]))
            return operands["true_value"], operands["false_value"]
        if kind in PREFIX_OPERAND:
            tokens.append(("prefix", kind))
            node = operands[PREFIX_OPERAND[kind]]
        elif kind in BINARY_PRECEDENCE and len(operands) == 2:
            tokens.append(("atom", operands["operand_1"]))
            tokens.append(("binary", kind))
            node = operands["operand_2"]
        else:  # an accessor, or a form we do not regroup: one operand of the chain
            tokens.append(("atom", node))
            return None


class _Parser:
    """Precedence climbing over the flattened tokens."""

    def __init__(self, tokens: list[tuple[str, Any]]) -> None:
        self.tokens = tokens
        self.position = 0

    def expression(self, min_precedence: int = 0) -> Any:
        left = self.unary()
        while self.position < len(self.tokens):
            role, kind = self.tokens[self.position]
            precedence = BINARY_PRECEDENCE[kind] if role == "binary" else -1
            if precedence < min_precedence:
                break
            self.position += 1
            right = self.expression(precedence + 1)
            left = _operator(kind, operand_1=left, operand_2=right)
        return left

    def unary(self) -> Any:
        role, value = self.tokens[self.position]
        self.position += 1
        if role == "prefix":
            return _operator(value, **{PREFIX_OPERAND[value]: self.unary()})
        return value


def to_bicep(node: Any) -> str:
    """Short Bicep-like text of a pycep value, for messages (``a == 'b' ? x : y``, ``f(...)``)."""
    if isinstance(node, str):
        return f"'{node}'" if type(node) is str else str(node)  # a literal, or a reference
    if is_operator(node):
        kind = node["operator"]["type"]
        operands = list(node["operator"]["operands"].values())
        if kind == "conditional":
            condition, true_value, false_value = (to_bicep(value) for value in operands)
            return f"{condition} ? {true_value} : {false_value}"
        if kind == "property_accessor":
            return ".".join(str(v) if isinstance(v, str) else to_bicep(v) for v in operands)
        if kind == "index_accessor":
            return f"{to_bicep(operands[0])}[{to_bicep(operands[1])}]"
        if kind in PREFIX_OPERAND:
            return f"{SYMBOLS[kind]}{to_bicep(operands[0])}"
        if kind in SYMBOLS:
            return f" {SYMBOLS[kind]} ".join(to_bicep(value) for value in operands)
        return f"<{kind}>"
    if isinstance(node, dict) and set(node) == {"function"}:
        return f"{node['function']['type']}(...)"
    if isinstance(node, dict | list):
        return "{...}" if isinstance(node, dict) else "[...]"
    return "null" if node is None else str(node).lower() if isinstance(node, bool) else str(node)
