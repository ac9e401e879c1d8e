"""The pieces under the Bicep type check: precedence, evaluation, source lines, suggestions."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.infra.bicep_evaluate import Either, Evaluator, Unknown, parameter_types
from tests.infra.bicep_source_lines import SourceLines
from tests.infra.bicep_spelling import spelling_suggestion
from tests.infra.infra_model import BicepFile, parse_bicep
from tests.infra.pycep_expressions import normalize, to_bicep

SOURCE = """
param count int
param name string = 'chat'
@allowed(['a', 'b'])
param letter string
var abbrs = loadJsonContent('./abbreviations.json')
var big = count > 10 ? 'big' : 'small'
var notEmpty = !empty(name) ? name : 'none'
var both = count == 1 && name == 'chat' ? 1 : 2
var label = '${abbrs.webSitesFunctions}${name}-${count}'
var merged = union({ a: 1 }, count > 0 ? { b: 2 } : { c: 3 })
var joined = union(['x', 'y'], ['y', 'z'])
var picked = union({ a: 1 }, { a: 2 }).a
"""


@pytest.fixture
def bicep(tmp_path: Path) -> BicepFile:
    (tmp_path / "abbreviations.json").write_text('{"webSitesFunctions": "func-"}', "utf-8")
    path = tmp_path / "probe.bicep"
    path.write_text(SOURCE, encoding="utf-8")
    return parse_bicep(path)


def test_pycep_expressions_restore_bicep_precedence(bicep: BicepFile) -> None:
    # pycep alone reads these as count > (10 ? ...), !(empty(name) ? ...), and so on.
    def text(name: str) -> str:
        return to_bicep(normalize(bicep.variables[name]["value"]))

    assert text("big") == "count > 10 ? 'big' : 'small'"
    assert text("notEmpty") == "!empty(...) ? name : 'none'"
    assert text("both") == "count == 1 && name == 'chat' ? 1 : 2"


def test_evaluate_computes_what_parameters_allow(bicep: BicepFile) -> None:
    evaluate = Evaluator(bicep, {"count": 12, "name": "chat", "letter": "a"}).lookup
    assert evaluate("big") == "big"
    assert evaluate("notEmpty") == "chat"
    assert evaluate("both") == 2
    assert evaluate("label") == "func-chat-12"
    assert evaluate("merged") == {"a": 1, "b": 2}
    assert evaluate("joined") == ["x", "y", "z"]
    assert evaluate("picked") == 2


def test_evaluate_keeps_what_bicep_knows_of_unset_parameters(bicep: BicepFile) -> None:
    evaluate = Evaluator(bicep, parameter_types(bicep)).lookup
    assert evaluate("letter") == Unknown("letter", "string", ("a", "b"), loose=False)
    assert evaluate("label") == Unknown(bicep.variables["label"]["value"], "string")
    big = evaluate("big")
    assert isinstance(big, Either) and big.options == ("big", "small")
    merged = evaluate("merged")  # union() over an unknown ?: gives both objects
    assert isinstance(merged, Either) and merged.options == ({"a": 1, "b": 2}, {"a": 1, "c": 3})


def test_source_lines_follow_paths_through_blocks_and_branches() -> None:
    text = """resource plan 'X/y@1' = {
  name: 'p' // a comment with { braces
  sku: on ? {
    name: 'FC1'
  } : {
    name: 'Y1'
  }
  properties: {
    note: 'a } brace and ${concat('{')} in a string'
    items: [
      'one'
      {
        deep: true
      }
    ]
  }

  resource child 'z' = {
    name: 'c'
  }
}
"""
    lines = SourceLines(text)
    assert lines.resource_line(["plan"]) == 1
    assert lines.resource_line(["plan", "child"]) == 18
    assert lines.property_line(1, ("sku", "name"), "'Y1'") == 6
    assert lines.property_line(1, ("sku", "name")) == 4
    assert lines.property_line(1, ("properties", "items", 1, "deep")) == 13
    assert lines.property_line(1, ("properties", "items", 0)) == 11
    # A path that leaves the text stops at the deepest part found.
    assert lines.property_line(1, ("properties", "note", "missing")) == 9
    assert lines.property_line(18, ("name",)) == 19


@pytest.mark.parametrize(
    ("name", "candidates", "expected"),
    [
        ("hubPatern", ["hubPattern", "eventPattern"], "hubPattern"),
        ("HTTPSONLY", ["httpsOnly"], "httpsOnly"),  # a case-only difference always matches
        ("nmae", ["name"], None),  # two edits in four letters is too far for Bicep
        ("tagz", ["tags", "zones"], "tags"),
        ("ab", ["abc"], None),
    ],
)
def test_spelling_suggestion_matches_bicep(name: str, candidates: list[str], expected) -> None:
    assert spelling_suggestion(name, candidates) == expected
