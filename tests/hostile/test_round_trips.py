"""Issue 11, item 5: what the project writes reads back exactly, whatever the characters.

Each writer is checked against the project's own reader and a standard parser
(tomllib, xml.etree, json), with hypothesis choosing the text.
"""

from __future__ import annotations

import json
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import localitygeo as lg
from localitygeo.changes.proposal import Proposal, read_proposal
from localitygeo.errors import OutputError
from localitygeo.io import toml_write as _toml
from localitygeo.validation.renderers import junit_unescape, render
from localitygeo.validation.report import Issue, ValidationReport

from ..helpers import dissolve_by, grid_layer
from .harness import ANSI, QUOTES, TEMPLATE, run_cli
from .set_fixtures import _city_master, city_set, hostile_set

__all__ = ["_city_master", "city_set"]

#: Text the issue names: spaces, dots, quotes, backslashes, newlines, control
#: characters, DEL, non-BMP characters and template braces.
NASTY = [
    "my layer", "a.b", QUOTES, "new\nline", "cr\rlf", "tab\tx", "ctl\x01\x02\x1f", ANSI,
    "del\x7f", "nul\x00x", "emoji 😀 𝄞", TEMPLATE, "=1+1", "[x]", "#comment", "", "\u2028\ufeff",
    "\\u0041 looks escaped", "\\\\\x01",
]  # fmt: skip

# Any text but lone surrogates (no UTF-8 file can hold them).
texts = st.text(st.characters(exclude_categories=["Cs"]))
#: Text a proposal's reader accepts as a value (not blank; kept exactly).
words = texts.filter(str.strip)


@given(texts, st.one_of(texts, st.booleans(), st.integers(), st.floats(), st.lists(texts)))
def test_toml_key_and_value_read_back_exactly(key, value):
    parsed = tomllib.loads(f"{_toml.key(key)} = {_toml.value(value)}\n")
    back = parsed[key]
    if isinstance(value, float) and value != value:
        assert back != back  # nan
    else:
        assert back == value and type(back) is type(value)


@given(texts, texts)
def test_toml_table_headers_read_back(outer, inner):
    parsed = tomllib.loads(f"{_toml.table(outer, inner)}\nx = 1\n")
    assert parsed == {outer: {inner: {"x": 1}}}


_operations = st.one_of(
    st.fixed_dictionaries(
        {"op": st.just("rename"), "layer": words, "unit": words, "name": words},
        optional={"code": words, "reason": words},
    ),
    st.fixed_dictionaries(
        {"op": st.just("reassign"), "layer": words, "blocks": st.lists(words, min_size=1),
         "to": words},
        optional={"new": st.booleans(), "name": words, "reason": words},
    ),
    st.fixed_dictionaries(
        {"op": st.just("split"), "layer": words, "unit": words,
         "parts": st.lists(st.fixed_dictionaries(
             {"code": words, "blocks": st.lists(words, min_size=1)}, optional={"name": words}
         ), min_size=1, max_size=3)},
    ),
)  # fmt: skip


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(words.map(str.strip), texts.map(str.strip), st.lists(_operations, min_size=1, max_size=4))
def test_proposal_to_toml_reads_back_exactly(tmp_path, name, description, ops):
    proposal = Proposal.from_dict({"name": name, "description": description, "operations": ops})
    text = proposal.to_toml()
    expected = {k: v for k, v in proposal.to_dict().items() if v != ""}
    assert tomllib.loads(text) == expected
    path = tmp_path / "p.toml"
    path.write_text(text, encoding="utf-8")
    back = read_proposal(path)
    assert back.to_dict() == proposal.to_dict()


def _grid_set(text: str) -> lg.BoundarySet:
    child = grid_layer(4, 2)
    child["code"] = [f"{c}{text}" for c in child["code"]]
    child["name"] = f"name {text}"
    child["note"] = text
    parent = dissolve_by(child, ["A", "A", "B", "B", "A", "A", "B", "B"])
    parent["name"] = parent["code"] + text
    kc, kp = f"child {text}", f"parent{text}"
    bset = lg.BoundarySet.from_layers(
        {kc: child, kp: parent},
        nesting=[lg.NestingRule(kc, kp, 0.05, "warning")],
        name=f"set {text}",
    )
    return bset.with_blocks(kp, kc)


def _same_set(a: lg.BoundarySet, b: lg.BoundarySet) -> None:
    assert list(b.layers) == list(a.layers)
    assert b.name == a.name and b.built_from == a.built_from and b.nesting == a.nesting
    for key in a.layers:  # (read_layer trims white space around codes, by design)
        assert b[key]["code"].tolist() == a[key]["code"].str.strip().tolist()
        assert b[key]["name"].tolist() == a[key]["name"].tolist()


@pytest.mark.parametrize("text", [t for t in NASTY if "\x00" not in t], ids=repr)
def test_write_boundaries_reads_back_whatever_the_keys_and_names(tmp_path, text):
    bset = _grid_set(text)
    manifest = lg.write_boundaries(bset, tmp_path / "out")
    raw = tomllib.loads(manifest.read_text(encoding="utf-8"))
    assert list(raw["layers"]) == list(bset.layers)
    assert raw["name"] == bset.name
    _same_set(bset, lg.read_boundaries(manifest))
    assert lg.read_boundaries(manifest)[f"child {text}"]["note"].tolist() == [text] * 8


def test_write_boundaries_refuses_nul_which_a_geopackage_cannot_store(tmp_path):
    with pytest.raises(OutputError, match="NUL"):
        lg.write_boundaries(_grid_set("nul\x00x"), tmp_path / "out")
    assert list(tmp_path.iterdir()) == []


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(texts.filter(lambda t: "\x00" not in t))
def test_write_boundaries_round_trip_with_any_text(tmp_path_factory, text):
    folder = tmp_path_factory.mktemp("set") / "out"
    bset = _grid_set(text)
    _same_set(bset, lg.read_boundaries(lg.write_boundaries(bset, folder)))


_issues = st.lists(
    st.builds(
        Issue,
        rule=texts,
        severity=st.sampled_from(["error", "warning", "info"]),
        layer=texts,
        codes=st.lists(texts, max_size=3).map(tuple),
        message=texts,
    ),
    max_size=5,
)


@given(texts, _issues)
def test_junit_and_json_read_back_exactly(source, issues):
    report = ValidationReport.from_issues(source, issues)
    root = ET.fromstring(render(report, "junit").encode("utf-8"))
    cases = root.findall("testcase")
    assert all(junit_unescape(c.get("classname", "")) == source for c in cases)
    got = {}
    for case in cases:
        body = case.find("failure")
        body = case.find("system-out") if body is None else body
        if body is not None:
            got[junit_unescape(case.get("name", ""))] = junit_unescape(body.text or "")
    want: dict[str, list[str]] = {}
    for i in report.issues.itertuples():
        want.setdefault(f"{i.layer}: {i.rule}", []).append(i.message)
    assert got == {k: "\n".join(v) for k, v in want.items()}
    doc = json.loads(render(report, "json"))
    assert doc["source"] == source
    assert [(i["layer"], i["codes"], i["message"]) for i in doc["issues"]] == [
        (i.layer, list(i.codes), i.message) for i in report.issues.itertuples()
    ]


@given(texts)
def test_junit_unescape_undoes_the_escape_of_any_text(text):
    from localitygeo.validation.renderers import _xml_safe

    assert junit_unescape(_xml_safe(text)) == text


def test_validate_junit_and_json_of_a_hostile_set_read_back(city_set, tmp_path):
    bad = "x\x1b[2J\x07\x0b\ufffe😀"
    folder = hostile_set(tmp_path / "set", city_set, name=lambda n: n + bad, keys=(f"s{bad}", "w"))
    junit, doc = tmp_path / "r.xml", tmp_path / "r.json"
    args = ("validate", folder, "--junit", junit, "--format", "json", "-o", doc)
    run_cli(*args, inputs=[folder], outputs=[junit, doc], expect=None)
    root = ET.parse(junit).getroot()
    names = {junit_unescape(c.get("name", "")) for c in root.iter("testcase")}
    layers = {i["layer"] for i in json.loads(doc.read_text(encoding="utf-8"))["issues"]}
    assert names == {"boundary set"} or all(n.split(": ")[0] in {f"s{bad}", "w"} for n in names)
    assert layers <= {f"s{bad}", "w"}


def test_realign_writes_a_proposal_its_reader_reads(city_set, tmp_path):
    out = tmp_path / "p.toml"
    args = ("realign", city_set, "--layer", "neighbourhood", "--to", "ward", "-o", out)
    run_cli(*args, inputs=[city_set], outputs=[out], expect=0)
    assert tomllib.loads(out.read_text(encoding="utf-8")) == read_proposal(out).to_dict()


def test_a_proposal_file_path_in_messages_is_just_data(tmp_path: Path):
    # A proposal whose name holds TOML syntax stays one string.
    p = Proposal.from_dict({"name": 'x"\nname = "evil', "operations": [
        {"op": "rename", "layer": "l", "unit": "u", "name": "]\n[[operations]]"}]})  # fmt: skip
    assert tomllib.loads(p.to_toml())["name"] == 'x"\nname = "evil'
    assert len(tomllib.loads(p.to_toml())["operations"]) == 1


def _gh_unescape(text: str) -> str:
    for code, ch in (("%3A", ":"), ("%2C", ","), ("%0A", "\n"), ("%0D", "\r"), ("%25", "%")):
        text = text.replace(code, ch)
    return text


@given(texts, _issues)
def test_github_annotations_cannot_be_ended_or_forged_by_data(source, issues):
    report = ValidationReport.from_issues(source, issues)
    # The runner reads commands line by line, a line ending at CR or LF.
    lines = render(report, "github").removesuffix("\n").replace("\r", "\n").split("\n")
    assert len(lines) == len(report.issues) + 1  # one command per finding, and the summary
    for line, row in zip(lines, report.issues.itertuples(), strict=False):
        head, message = line[2:].split("::", 1)
        level, props = head.split(" ", 1)
        assert level == {"error": "error", "warning": "warning"}.get(row.severity, "notice")
        fields = dict(p.split("=", 1) for p in props.split(","))
        assert set(fields) == {"file", "title"}
        assert _gh_unescape(fields["file"]) == source
        assert _gh_unescape(fields["title"]) == f"{row.rule} ({row.layer})"
        assert _gh_unescape(message) == row.message
