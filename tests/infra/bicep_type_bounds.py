"""Ranges, lengths and patterns: Bicep's domain checks (BCP327-BCP335, BCP416).

A literal is the range [v, v] (or, for a string or array, the length [n, n]); a parameter is the
range of its @minValue/@maxValue (@minLength/@maxLength). Bicep compares that range with the
property's (TypeValidator.NarrowIntegerAssignmentType / NarrowStringAssignmentType): a range that
cannot fit is BCP327/BCP328 (values) or BCP332/BCP333 (lengths); one that may not fit is the
warning BCP329/BCP330 (BCP334/BCP335).
"""

from __future__ import annotations

import re

from tests.infra.bicep_types import TypeNode

__all__ = ["pattern_problem", "range_problems"]


# Bicep's messages, keyed by "is it a length". {0}: the value's bound, {1}: the property's.
_CANNOT_FIT_HIGH = {
    False: ("BCP327", "The provided value (which will always be greater than or equal to {0}) is "
            "too large to assign to a target for which the maximum allowable value is {1}."),
    True: ("BCP332", "The provided value (whose length will always be greater than or equal to "
           "{0}) is too long to assign to a target for which the maximum allowable length is {1}."),
}
_CANNOT_FIT_LOW = {
    False: ("BCP328", "The provided value (which will always be less than or equal to {0}) is "
            "too small to assign to a target for which the minimum allowable value is {1}."),
    True: ("BCP333", "The provided value (whose length will always be less than or equal to {0}) "
           "is too short to assign to a target for which the minimum allowable length is {1}."),
}
_MAY_NOT_FIT_LOW = {
    False: ("BCP329", "The provided value can be as small as {0} and may be too small to assign "
            "to a target with a configured minimum of {1}."),
    True: ("BCP334", "The provided value can have a length as small as {0} and may be too short "
           "to assign to a target with a configured minimum length of {1}."),
}
_MAY_NOT_FIT_HIGH = {
    False: ("BCP330", "The provided value can be as large as {0} and may be too large to assign "
            "to a target with a configured maximum of {1}."),
    True: ("BCP335", "The provided value can have a length as large as {0} and may be too long "
           "to assign to a target with a configured maximum length of {1}."),
}


def range_problems(
    low: int | None, high: int | None, node: TypeNode, length: bool
) -> list[tuple[str, str]]:
    """``[(code, message)]`` for a value whose range is [low, high] against ``node``'s bounds."""
    target_low = node.data.get("minLength" if length else "minValue")
    target_high = node.data.get("maxLength" if length else "maxValue")
    if low is not None and target_high is not None and low > target_high:
        return [_message(_CANNOT_FIT_HIGH[length], low, target_high)]
    if high is not None and target_low is not None and high < target_low:
        return [_message(_CANNOT_FIT_LOW[length], high, target_low)]
    problems = []
    if low is not None and target_low is not None and low < target_low:
        problems.append(_message(_MAY_NOT_FIT_LOW[length], low, target_low))
    if high is not None and target_high is not None and high > target_high:
        problems.append(_message(_MAY_NOT_FIT_HIGH[length], high, target_high))
    return problems


def _message(template: tuple[str, str], value: int, target: int) -> tuple[str, str]:
    code, text = template
    return code, text.format(value, target)


def pattern_problem(text: str, node: TypeNode) -> tuple[str, str] | None:
    """BCP416 when a string literal does not match the property's pattern."""
    pattern = node.data.get("pattern")
    if not pattern:
        return None
    try:
        matches = re.search(pattern, text) is not None
    except re.error:
        return None  # Bicep skips patterns .NET cannot compile; skip what Python cannot
    if matches:
        return None
    return "BCP416", f"The supplied string does not match the expected pattern of /{pattern}/."
