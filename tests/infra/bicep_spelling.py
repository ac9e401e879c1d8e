"""Bicep's "Did you mean ...?" suggestion, so the check names the same property Bicep would.

Follows ``SpellChecker.GetSpellingSuggestion`` in Azure/bicep
(src/Bicep.Core/Text/SpellChecker.cs): case-insensitive Levenshtein distance, about one edit
for every three characters, candidates of fewer than three characters only on a case-only match.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["spelling_suggestion"]


def spelling_suggestion(name: str, candidates: Iterable[str]) -> str | None:
    """The candidate Bicep would suggest for a misspelled ``name``, or None."""
    max_length_difference = min(int(len(name) * 0.34), 2)
    max_distance = int(len(name) * 0.34) + 1
    upper = name.upper()
    best: str | None = None
    case_only = False
    for candidate in candidates:
        if not candidate or abs(len(name) - len(candidate)) > max_length_difference:
            continue
        if candidate.upper() == upper:
            return candidate
        if case_only or len(candidate) < 3:
            continue
        distance = _distance(upper, candidate.upper())
        if distance >= max_distance:
            continue
        best = candidate
        if distance < 2:
            case_only = True  # nothing closer can follow, except an exact case-insensitive match
        else:
            max_distance = distance
    return best


def _distance(first: str, second: str) -> int:
    previous = list(range(len(second) + 1))
    for i, left in enumerate(first, start=1):
        current = [i]
        for j, right in enumerate(second, start=1):
            cost = 0 if left == right else 1
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost))
        previous = current
    return previous[-1]
