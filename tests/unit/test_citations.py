"""Every citation in the repository can be followed by someone who has only the repository.

Two rules over every tracked text file:

- no citation of the team's private notes (the file names of ``NOTE_NAMES`` and the folder of
  ``NOTES_FOLDER``; the repository's own docs carry other names, so one of those always means
  the notes) and no tracker numbers (``issue 6``, ``issue #6``): say what the code does, or cite
  a public source or a repository doc instead;
- every ``docs/<file>.md, "<Section>"`` citation names a file of ``docs/`` with a heading of that
  title (a leading number such as ``4.`` and a trailing parenthesis such as ``(the worker)`` in
  the heading may be left out).

Each failure lists every offending ``file:line``.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
THIS_FILE = Path(__file__).resolve().relative_to(ROOT).as_posix()

NOTE_NAMES = ("signalr-service", "signalr-protocol", "functions-python", "durable-python",
              "peers-perf")
NOTES_FOLDER = "shared" + "/reference"  # spelled apart: this file does not cite it either
PRIVATE = re.compile(
    r"\b(?:" + "|".join(re.escape(n) for n in NOTE_NAMES) + r")\.md\b"
    r"|" + re.escape(NOTES_FOLDER) +
    r"|\b[Ii]ssue #?\d+"
)

# A citation may wrap onto the next comment or docstring line.
_BREAK = r"(?:[ \t]*\n[ \t]*(?:#+|//|\*|>)?)?[ \t]*"
_TITLE = r'"[^"\n]+(?:\n[ \t]*(?:#+|//|\*|>)?[ \t]*[^"\n]+)?"'
SECTION_CITATION = re.compile(
    r"docs/(?P<file>[A-Za-z0-9_.-]+\.md)`?," + _BREAK
    + r"(?P<titles>" + _TITLE + r"(?:" + _BREAK + r"(?:,|and|or)" + _BREAK + _TITLE + r")*)"
)
QUOTED = re.compile(r'"([^"]+)"')
HEADING = re.compile(r"^#{1,6}[ \t]+(.+?)[ \t]*#*[ \t]*$")
NUMBERING = re.compile(r"^\d+(?:\.\d+)*\.?[ \t]+")
QUALIFIER = re.compile(r"[ \t]+\([^()]*\)$")


def _tracked_files() -> list[str]:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("needs a git checkout")
    out = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True)
    return [name for name in out.stdout.decode().split("\0") if name]


def _skipped(name: str) -> bool:
    return (name == THIS_FILE or name.endswith(".lock")
            or Path(name).name == "package-lock.json")


def _texts() -> Iterator[tuple[str, str]]:
    """(path, text) of every tracked text file this test looks at."""
    for name in _tracked_files():
        if _skipped(name):
            continue
        path = ROOT / name
        if not path.is_file():  # deleted in the work tree but still in the index
            continue
        data = path.read_bytes()
        if b"\0" in data:
            continue
        try:
            yield name, data.decode("utf-8")
        except UnicodeDecodeError:
            continue


def _line(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def _clean(title: str) -> str:
    """A title as written in a citation or a heading: one line, spaces collapsed."""
    title = re.sub(r"\n[ \t]*(?:#+|//|\*|>)?", " ", title)
    return " ".join(title.split())


@cache
def _headings(doc: str) -> frozenset[str] | None:
    path = ROOT / "docs" / doc
    if not path.is_file():
        return None
    titles: set[str] = set()
    in_fence = False
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            in_fence = not in_fence
            continue
        match = None if in_fence else HEADING.match(line)
        if match:
            heading = _clean(match.group(1))
            title = NUMBERING.sub("", heading)
            titles.update({heading, title, QUALIFIER.sub("", title)})
    return frozenset(titles)


def test_no_citation_of_private_notes_or_tracker_numbers() -> None:
    offenders = [
        f"{name}:{_line(text, match.start())}: {match.group(0)}"
        for name, text in _texts()
        for match in PRIVATE.finditer(text)
    ]
    assert not offenders, (
        "cite a repository doc (docs/...) or a public source instead of the private notes, and "
        "say what the code does instead of an issue number:\n" + "\n".join(offenders)
    )


def test_doc_section_citations_name_existing_headings() -> None:
    offenders = []
    for name, text in _texts():
        for match in SECTION_CITATION.finditer(text):
            doc = match.group("file")
            headings = _headings(doc)
            for raw in QUOTED.findall(match.group("titles")):
                title = _clean(raw)
                if title.startswith("<") and title.endswith(">"):
                    continue  # a placeholder, as in 'docs/x.md, "<section>"'
                where = f"{name}:{_line(text, match.start())}"
                if headings is None:
                    offenders.append(f"{where}: docs/{doc} does not exist")
                elif title not in headings:
                    offenders.append(f'{where}: docs/{doc} has no heading "{title}"')
    assert not offenders, "\n".join(offenders)
