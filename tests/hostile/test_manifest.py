"""Broken manifests, proposals and CRS strings: exit 2 and one line naming the file and key.

Wrong types (``title = 7``, ``name = ["x"]``...), unknown CRSs, non-finite
tolerances, TOML nested too deeply to parse, empty, binary and non-UTF-8
files. Every manifest and proposal is the example city's, edited here.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from localitygeo import read_boundaries, read_layer, read_proposal
from localitygeo.errors import CRSError, ManifestError, ProposalError
from localitygeo.geometry.fitting import best_fit
from localitygeo.model.boundary_set import BoundarySet

from .harness import run_cli
from .inputs import EXAMPLE, example_copy

DEEP = "[" * 5000 + "]" * 5000

# id -> (regular expression matching part of the example manifest, its replacement,
# what the error line must name)
MANIFEST_EDITS = {
    "layer-title-int": ('title = "Wards"', "title = 7", ["[layers.ward]", "title", "7"]),
    "name-list": ('name = "Example City (fictional)"', 'name = ["x"]', ["name", "['x']"]),
    "description-int": (
        re.compile('description = """.*?"""', re.S),
        "description = 1",
        ["description"],
    ),
    "layer-name-int": ('name = "name"\ntitle = "Wards"', 'name = 3\ntitle = "Wards"', ["name"]),
    "layer-code-list": ('code = "code"\nname = "name"\ntitle = "Wards"', "code = [1]", ["code"]),
    "layer-path-int": ('path = "wards.geojson"', "path = 3", ["path"]),
    "layer-layer-int": ('path = "wards.geojson"', 'path = "wards.geojson"\nlayer = 3', ["layer"]),
    "layer-engine-int": (
        'path = "wards.geojson"',
        'path = "wards.geojson"\nengine = 1',
        ["engine"],
    ),
    "crs-in-banana": (
        'path = "wards.geojson"',
        'path = "wards.geojson"\ncrs_in = "banana"',
        ["crs_in", "banana", "ward"],
    ),
    "crs-in-int": ('path = "wards.geojson"', 'path = "wards.geojson"\ncrs_in = 5', ["crs_in"]),
    "check-crs-int": (
        'path = "wards.geojson"',
        'path = "wards.geojson"\ncheck_crs = 1',
        ["check_crs"],
    ),
    "crs-banana": ('crs = "EPSG:27700"', 'crs = "banana"', ["crs", "banana"]),
    "crs-unknown-epsg": ('crs = "EPSG:27700"', 'crs = "EPSG:999999"', ["EPSG:999999"]),
    "crs-int": ('crs = "EPSG:27700"', "crs = 27700", ["crs"]),
    "crs-table": ('crs = "EPSG:27700"', "crs = { epsg = 27700 }", ["crs"]),
    "nesting-child-list": ('child = "small_area"', 'child = ["x"]', ["child", "['x']"]),
    "nesting-parent-int": ('parent = "ward"', "parent = 3", ["parent"]),
    "nesting-tolerance-text": ("tolerance = 0.01", 'tolerance = "0.01"', ["tolerance"]),
    "nesting-tolerance-nan": ("tolerance = 0.01", "tolerance = nan", ["tolerance", "nan"]),
    "nesting-tolerance-inf": ("tolerance = 0.01", "tolerance = inf", ["tolerance", "inf"]),
    "nesting-severity-int": ("tolerance = 0.01", "tolerance = 0.01\nseverity = 3", ["severity"]),
    "nesting-by-list": ("tolerance = 0.01", 'tolerance = 0.01\nby = ["blocks"]', ["by"]),
    "nesting-population-int": (
        "tolerance = 0.01",
        "tolerance = 0.01\npopulation = 3",
        ["population"],
    ),
    "nesting-not-array": (
        re.compile(r"\A(.*?)\[\[nesting\]\].*?(?=\[checks\])", re.S),
        r"nesting = 3\n\1",
        ["nesting"],
    ),
    "checks-text": ("gap_tolerance_m2 = 1.0", 'gap_tolerance_m2 = "1"', ["gap_tolerance_m2"]),
    "checks-inf": ("gap_tolerance_m2 = 1.0", "gap_tolerance_m2 = inf", ["gap_tolerance_m2"]),
    "checks-nan": ("overlap_tolerance_m2 = 1.0", "overlap_tolerance_m2 = -nan", ["overlap"]),
    "blocks-int": ('blocks = "neighbourhood"', "blocks = 3", ["blocks"]),
    "deep-array": ('title = "Wards"', f"title = {DEEP}", ["nested too deeply"]),
    "deep-table": ('title = "Wards"', "title = " + "{a=" * 3000 + "1" + "}" * 3000, ["nested"]),
}


@pytest.fixture
def city(tmp_path: Path) -> Path:
    return example_copy(tmp_path)


def _edit(path: Path, old: str | re.Pattern[str], replacement: str) -> None:
    """Replace the first match of ``old`` (plain text or a regular expression) in the file."""
    text = path.read_text(encoding="utf-8")
    rx = old if isinstance(old, re.Pattern) else re.compile(re.escape(old))
    assert rx.search(text), old
    path.write_text(rx.sub(lambda m: m.expand(replacement), text, count=1), encoding="utf-8")


@pytest.mark.parametrize("case", sorted(MANIFEST_EDITS))
def test_manifest_with_wrong_types_is_one_line(city, case):
    old, new, names = MANIFEST_EDITS[case]
    _edit(city / "boundaries.toml", old, new)
    manifest = city / "boundaries.toml"
    run_cli("validate", city, inputs=[city], names=["boundaries.toml", *names])
    with pytest.raises(ManifestError) as info:
        read_boundaries(city)
    assert info.value.path == str(manifest)


def _files() -> dict[str, tuple[bytes, list[str]]]:
    """Return id -> (bytes of a manifest or proposal, what the error line must name)."""
    text = (EXAMPLE / "boundaries.toml").read_text(encoding="utf-8")
    return {
        "empty": (b"", ["empty"]),
        "blank": (b"\n  \n", ["empty"]),
        "binary": (os.urandom(64) + b"\x00" + os.urandom(64), ["binary"]),
        "not-utf8": (text.replace("fictional", "fictif é").encode("latin-1"), ["UTF-8", "0xe9"]),
        "zip": (b"PK\x03\x04" + b"\x00" * 40, ["binary"]),
        "deep": (f"x = {DEEP}\n".encode(), ["nested too deeply"]),
        "syntax": (b"[layers.c\n", ["TOML syntax error", "line 1"]),
    }


FILES = _files()


@pytest.mark.parametrize("case", sorted(FILES))
def test_unreadable_manifest_is_one_line(city, case):
    content, names = FILES[case]
    (city / "boundaries.toml").write_bytes(content)
    run_cli("validate", city, inputs=[city], names=["boundaries.toml", *names])


def test_manifest_with_a_byte_order_mark_reads(city):
    manifest = city / "boundaries.toml"
    manifest.write_text("\ufeff" + manifest.read_text(encoding="utf-8"), encoding="utf-8")
    assert len(read_boundaries(city)["ward"]) == 20
    run_cli("validate", city, inputs=[city], expect=1)  # the example's known findings


# --- proposals -----------------------------------------------------------------------

PROPOSAL_EDITS = {
    "name-int": ('name = "Kestrel Down joined; Saltash Reach South to Waterfront"', "name = 7"),
    "description-int": (re.compile('description = """.*?"""', re.S), "description = 1"),
    "op-int": ('op = "merge"', "op = 3"),
    "layer-int": ('layer = "neighbourhood"', "layer = 3"),
    "units-text": ('units = ["EXN24", "EXN25"]', 'units = "EXN24"'),
    "reason-int": (re.compile('reason = "EXN25[^\n]*'), "reason = 7"),
    "deep": ('name = "Kestrel Down"', f"name = {DEEP}"),
}


def _apply(city: Path, proposal: Path, names: list[str]) -> None:
    out = city.parent / "out"
    run_cli(
        "apply",
        city,
        "--proposal",
        proposal,
        "-o",
        out / "set",
        inputs=[city],
        watch=[city, city.parent],
        names=[proposal.name, *names],
    )


@pytest.mark.parametrize("case", sorted(PROPOSAL_EDITS))
def test_proposal_with_wrong_types_is_one_line(city, case):
    old, new = PROPOSAL_EDITS[case]
    proposal = city / "proposals" / "merge-and-move.toml"
    _edit(proposal, old, new)
    _apply(city, proposal, [])
    with pytest.raises(ProposalError) as info:
        read_proposal(proposal)
    assert info.value.path == str(proposal)


@pytest.mark.parametrize("case", sorted(FILES))
def test_unreadable_proposal_is_one_line(city, case):
    content, names = FILES[case]
    proposal = city / "proposals" / "merge-and-move.toml"
    proposal.write_bytes(content)
    _apply(city, proposal, names)


# --- CRS strings -----------------------------------------------------------------------


def _lookup_with_crs(city: Path, crs: str, *more: str | Path, names: list[str]):
    return run_cli(
        "lookup",
        city / "small_areas.geojson",
        city / "wards.geojson",
        "--child-code",
        "code",
        "--parent-code",
        "code",
        "--crs",
        crs,
        *more,
        inputs=[city],
        names=names,
    )


@pytest.mark.parametrize("crs", ["EPSG:999999", "banana", "EPSG:27700 +towgs84=nonsense"])
def test_lookup_with_an_unknown_crs_is_one_line(city, crs):
    _lookup_with_crs(city, crs, names=[repr(crs)[:30]])


@pytest.mark.parametrize(
    ("crs", "kind"),
    [("EPSG:4326", "geographic"), ("OGC:CRS84", "geographic"), ("EPSG:4978", "not projected")],
)
def test_lookup_with_a_crs_that_cannot_measure_is_one_line(city, crs, kind, tmp_path):
    # the option's name and advice for the command line, not the Python API's
    # ".to_crs(...)"
    out = tmp_path / "lookup.csv"
    result = _lookup_with_crs(city, crs, "-o", out, names=["--crs", repr(crs), kind, "EPSG:27700"])
    assert ".to_crs" not in result.stderr and not out.exists()


@pytest.mark.parametrize("crs", ["EPSG:4326", 4326, "EPSG:4978"])
def test_a_crs_that_cannot_measure_in_the_api_is_refused(city, crs):
    from pyproj import CRS

    from localitygeo import read_measurable

    small = read_layer(city / "small_areas.geojson", "code")
    wards = read_layer(city / "wards.geojson", "code")
    for call in (
        lambda c: best_fit(small, wards, crs=c),
        lambda c: read_measurable({"w": {"path": city / "wards.geojson", "code": "code"}}, crs=c),
        lambda c: BoundarySet.from_layers({"ward": wards}, crs=c),
    ):
        for given in (crs, CRS.from_user_input(crs)):
            with pytest.raises(CRSError, match=r"projected CRS, such as \"EPSG:27700\"") as info:
                call(given)
            assert ".to_crs" not in str(info.value)


def test_unknown_crs_in_the_api_is_the_projects_error(city):
    with pytest.raises(CRSError, match="banana") as info:
        read_layer(city / "wards.geojson", "code", assume_crs="banana")
    assert info.value.path == str(city / "wards.geojson") and info.value.layer == "wards"
    wards = read_layer(city / "wards.geojson", "code")
    with pytest.raises(CRSError, match="EPSG:999999"):
        BoundarySet.from_layers({"ward": wards}, crs="EPSG:999999")
    with pytest.raises(CRSError, match="EPSG:999999"):
        best_fit(wards, wards, crs="EPSG:999999")
