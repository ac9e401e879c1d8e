"""Line numbers for resources and property paths in Bicep source (pycep keeps none).

``SourceLines(text)`` lexes the text once: for every line, how deep it sits in ``{ [ (`` (outside
strings and comments) and whether it starts inside a multi-line string. A property is then found
the way a reader finds it: the ``resource`` line, then the ``key:`` line one level deeper inside
that block, and so on down the path; an array index counts the items one level deeper.

Where a path leaves the text (its value comes from a variable, a function or another file) the
line of the deepest part found is returned, which is where Bicep reports it too: on the property
whose value is wrong.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["SourceLines"]

_KEY = re.compile(r"(?:'((?:[^'\\]|\\.)*)'|([A-Za-z_][A-Za-z0-9_]*))\s*:")
_DECLARATION = re.compile(r"(?:resource|module|var|output|param)\s+([A-Za-z_][A-Za-z0-9_]*)")
_OPEN = "{[("
_CLOSE = "}])"


@dataclass(frozen=True)
class _Line:
    text: str
    depth: int  # brackets open at the start of the line
    depth_after: int  # brackets open at its end
    in_string: bool  # starts inside a ''' string


class SourceLines:
    """Where things are in one .bicep file; all line numbers are 1-based."""

    def __init__(self, text: str) -> None:
        self.lines = _lex(text)

    def resource_line(self, chain: list[str]) -> int | None:
        """The ``resource`` line of ``chain`` (``["storage", "blob"]`` for a nested child)."""
        start, end = 0, len(self.lines)
        found: int | None = None
        for symbol in chain:
            pattern = re.compile(rf"\s*resource\s+{re.escape(symbol)}\s")
            found = next(
                (i for i in range(start, end) if self._code(i) and pattern.match(self._text(i))),
                None,
            )
            if found is None:
                return None
            start, end = found + 1, self._block_end(found)
        return None if found is None else found + 1

    def property_line(
        self, block_line: int, path: tuple[str | int, ...], hint: str | None = None
    ) -> int:
        """The line of ``path`` inside the block opened on ``block_line``.

        ``hint`` (the value as written, e.g. ``'Y1'``) picks between candidates for the last key,
        as in ``sku: isFlex ? { name: 'FC1' } : { name: 'Y1' }``.
        """
        current = block_line - 1
        for position, segment in enumerate(path):
            last = position == len(path) - 1
            candidates = self._children(current, segment)
            if not candidates:
                break
            if last and hint is not None:
                current = next((i for i in candidates if hint in self._text(i)), candidates[0])
            else:
                current = candidates[0]
        return current + 1

    def duplicate_keys(self) -> list[tuple[int, str]]:
        """``(line, key)`` for each place of a key written twice in one object (BCP025).

        pycep keeps only the last of two equal keys, so the type check would never see the
        first; the text still has both. The branches of ``c ? { ... } : { ... }`` are separate
        objects: a line that starts with ``}`` ends one.
        """
        duplicates: list[tuple[int, str]] = []
        for index, line in enumerate(self.lines):
            if line.depth_after <= line.depth or not self._code(index):
                continue
            objects: list[dict[str, list[int]]] = [{}]
            for child in range(index + 1, self._block_end(index)):
                if self.lines[child].depth != line.depth_after or not self._code(child):
                    continue
                if self._text(child).lstrip().startswith("}"):
                    objects.append({})
                key = _key_of(self._text(child))
                if key is not None:
                    objects[-1].setdefault(key, []).append(child + 1)
            for keys in objects:
                for key, found in keys.items():
                    duplicates += [(number, key) for number in found if len(found) > 1]
        return sorted(duplicates)

    def declaration_at(self, line: int) -> str:
        """The symbol of the top-level declaration (resource, module, var, ...) holding ``line``."""
        for index in range(line - 1, -1, -1):
            match = _DECLARATION.match(self._text(index))
            if match and self.lines[index].depth == 0:
                return match.group(1)
        return "-"

    def _children(self, index: int, segment: str | int) -> list[int]:
        """Lines directly inside the block opened on line ``index`` that hold ``segment``."""
        depth = self.lines[index].depth_after
        inside = [
            i
            for i in range(index + 1, self._block_end(index))
            if self.lines[i].depth == depth and self._code(i)
        ]
        if isinstance(segment, int):
            items = [i for i in inside if not self._text(i).lstrip().startswith(tuple(_CLOSE))]
            return items[segment : segment + 1]
        return [i for i in inside if _key_of(self._text(i)) == segment]

    def _block_end(self, index: int) -> int:
        """The index after the last line of the block opened on line ``index``."""
        depth = self.lines[index].depth
        for i in range(index + 1, len(self.lines)):
            if self.lines[i].depth <= depth:
                return i
        return len(self.lines)

    def _text(self, index: int) -> str:
        return self.lines[index].text

    def _code(self, index: int) -> bool:
        return not self.lines[index].in_string


def _key_of(line: str) -> str | None:
    match = _KEY.match(line.strip())
    if not match:
        return None
    return match.group(1) if match.group(1) is not None else match.group(2)


def _lex(text: str) -> list[_Line]:
    """Bracket depth per line, skipping strings (with ``${...}`` inside them) and comments."""
    lines: list[_Line] = []
    depth = 0
    # Lexer states, innermost last: code, string ('...'), interpolation (${...} in a string, with
    # the count of braces open inside it), multiline ('''...''') and block (/* */).
    stack: list[tuple[str, int]] = [("code", 0)]
    for raw in text.splitlines():
        start_depth, in_string = depth, stack[-1][0] in ("multiline", "block")
        i = 0
        while i < len(raw):
            (state, braces), pair, step = stack[-1], raw[i : i + 2], 1
            if state == "multiline":
                if raw.startswith("'''", i):
                    stack.pop()
                    step = 3
            elif state == "block":
                if pair == "*/":
                    stack.pop()
                    step = 2
            elif state == "string":
                if raw[i] == "\\":
                    step = 2
                elif pair == "${":
                    stack.append(("interpolation", 0))
                    step = 2
                elif raw[i] == "'":
                    stack.pop()
            elif pair == "//":
                break
            elif pair == "/*":
                stack.append(("block", 0))
                step = 2
            elif raw.startswith("'''", i):
                stack.append(("multiline", 0))
                step = 3
            elif raw[i] == "'":
                stack.append(("string", 0))
            elif state == "interpolation" and raw[i] == "}" and braces == 0:
                stack.pop()
            elif state == "interpolation" and raw[i] in "{}":
                stack[-1] = (state, braces + (1 if raw[i] == "{" else -1))
            elif state == "code" and raw[i] in _OPEN:
                depth += 1
            elif state == "code" and raw[i] in _CLOSE:
                depth -= 1
            i += step
        # A '...' string ends with its line in Bicep; never let a stray quote run on.
        while stack[-1][0] in ("string", "interpolation"):
            stack.pop()
        lines.append(_Line(raw, start_depth, depth, in_string))
    return lines
