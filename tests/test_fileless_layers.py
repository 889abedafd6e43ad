"""A layer that is only a lookup: units and geometry from its blocks, no file of its own.

Councils often hold neighbourhoods as a table of LSOAs. Built on Plymouth's
real LSOAs with the ONS LSOA -> MSOA grouping (from their names), the
file-less layer must equal the same layer built from the MSOA file with the
same lookup: the same units and geometry, bit for bit, and each unit the
union of its LSOAs (computed here) within the slivers documented for built
layers. A file-less layer can be built from a column of its blocks, and
from another file-less layer.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely

import localitygeo as lg
from localitygeo.errors import ColumnError, InputError, ManifestError

from .hostile.harness import run_cli

MANIFEST = """
crs = "EPSG:27700"
[layers.lsoa]
path = "lsoa.geojson"
code = "LSOA11CD"
name = "LSOA11NM"
[layers.msoa]
blocks = {{ layer = "lsoa", lookup = "groups.csv", unit_name = "msoa_name" }}
[layers.msoa_file]
path = "{p}/msoa_2011.geojson"
code = "MSOA11CD"
name = "MSOA11NM"
blocks = {{ layer = "lsoa", lookup = "groups.csv", unit_code = "msoa" }}
[layers.district]
blocks = {{ layer = "lsoa", column = "district" }}
[layers.half]
blocks = {{ layer = "msoa", lookup = "halves.csv" }}
[[nesting]]
child = "lsoa"
parent = "msoa"
[[nesting]]
child = "msoa"
parent = "half"
"""


@pytest.fixture
def folder(plymouth: Path, tmp_path: Path) -> Path:
    lsoas = gpd.read_file(plymouth / "lsoa_2011.geojson")
    msoas = gpd.read_file(plymouth / "msoa_2011.geojson")
    code_of = dict(zip(msoas["MSOA11NM"], msoas["MSOA11CD"], strict=True))
    group = lsoas["LSOA11NM"].str[:-1]  # "Plymouth 024A" -> "Plymouth 024"
    table = pd.DataFrame(
        {"lsoa": lsoas["LSOA11CD"], "msoa": group.map(code_of), "msoa_name": group}
    )
    assert table["msoa"].notna().all() and table["msoa"].nunique() == 32
    out = tmp_path / "set"
    out.mkdir()
    table.to_csv(out / "groups.csv", index=False)
    number = group.str[-3:].astype(int)
    lsoas.assign(district=["D1" if n <= 15 else "D2" for n in number]).to_file(out / "lsoa.geojson")
    halves = sorted(code_of.values())
    pd.DataFrame({"msoa": halves, "half": ["H1"] * 16 + ["H2"] * 16}).to_csv(
        out / "halves.csv", index=False
    )
    (out / "boundaries.toml").write_text(MANIFEST.format(p=plymouth.as_posix()), "utf-8")
    return out


def test_a_fileless_layer_equals_the_one_built_from_its_file(folder):
    bset = lg.read_boundaries(folder)
    fileless = bset.layers["msoa"]
    made = bset.layers["msoa_file"].sort_values("code").reset_index(drop=True)
    assert list(fileless["code"]) == list(made["code"])  # in code order
    assert list(fileless["name"]) == list(made["name"])  # from unit_name
    assert shapely.equals_exact(fileless.geometry.values, made.geometry.values, 0).all()
    lsoas = bset.layers["lsoa"].set_index("code")
    groups = pd.read_csv(folder / "groups.csv").groupby("msoa")["lsoa"]
    got = fileless.set_index("code").geometry
    for code, members in groups:
        ref = shapely.union_all(lsoas.loc[list(members)].geometry.values)
        assert shapely.symmetric_difference(got[code], ref).area < 0.01, code
    assert list(bset.layers) == ["lsoa", "msoa", "msoa_file", "district", "half"]  # as declared
    assert bset.built_from == {
        "msoa": "lsoa",
        "msoa_file": "lsoa",
        "district": "lsoa",
        "half": "msoa",
    }


def test_fileless_layers_from_a_column_and_from_each_other(folder):
    bset = lg.read_boundaries(folder)
    district = bset.layers["district"]
    assert list(district["code"]) == ["D1", "D2"] and district["name"].isna().all()
    half = bset.layers["half"]
    assert list(half["code"]) == ["H1", "H2"]
    total = bset.layers["lsoa"].geometry.area.sum()
    for layer in (district, half):
        assert layer.geometry.area.sum() == pytest.approx(total, rel=1e-6)
    report = lg.validate(bset)
    assert (report.assignments["lsoa->msoa"]["share"] > 0.999).all()
    assert (report.assignments["msoa->half"]["share"] > 0.999).all()
    assert run_cli("validate", folder, expect=None, inputs=[folder]).code in (0, 1)


def _broken(folder: Path, old: str, new: str) -> None:
    path = folder / "boundaries.toml"
    text = path.read_text("utf-8")
    assert old in text
    path.write_text(text.replace(old, new), "utf-8")


@pytest.mark.parametrize(
    ("old", "new", "error", "words"),
    [
        ("[layers.msoa]\n", '[layers.msoa]\ncode = "x"\n', ManifestError, "has no path"),
        ('column = "district"', 'column = "nope"', ColumnError, "no column 'nope'"),
        (
            '[layers.half]\nblocks = { layer = "msoa", lookup = "halves.csv" }',
            "[layers.half]",
            ManifestError,
            "needs 'path'",
        ),
        ('unit_name = "msoa_name"', 'unit_name = "label"', InputError, "no column 'label'"),
    ],
)
def test_a_fileless_layer_that_cannot_be_built_is_one_line(folder, old, new, error, words):
    _broken(folder, old, new)
    with pytest.raises(error, match=words):
        lg.read_boundaries(folder)
    run_cli("validate", folder, names=[words], inputs=[folder])


def test_two_names_for_one_unit_are_refused(folder):
    groups = pd.read_csv(folder / "groups.csv")
    groups.loc[0, "msoa_name"] = "Another name"
    groups.to_csv(folder / "groups.csv", index=False)
    with pytest.raises(InputError, match=r"more than one 'msoa_name': E02"):
        lg.read_boundaries(folder)


PROPOSAL = """
name = "move and merge"
[[operations]]
op = "move"
layer = "lsoa"
unit = "E01015169"
to = "E02003150"
parent = "msoa"
[[operations]]
op = "merge"
layer = "msoa"
units = ["E02003124", "E02003125"]
into = "E02003124"
name = "Plymouth 003 and 004"
"""


def test_the_chain_apply_write_read_impact_with_fileless_layers(folder, tmp_path):
    # one chain: a change to a file-less layer, the changed set written and read back
    (tmp_path / "change.toml").write_text(PROPOSAL, "utf-8")
    bset = lg.read_boundaries(folder)
    proposal = lg.read_proposal(tmp_path / "change.toml")
    after = lg.apply(bset, proposal)
    assert len(after.layers["msoa"]) == 31
    lsoa = after.layers["lsoa"].set_index("code")
    assert lsoa.loc["E01015169", "msoa"] == "E02003150"
    again = lg.read_boundaries(lg.write_boundaries(after, tmp_path / "after"))
    for key in after.layers:
        x, y = after.layers[key], again.layers[key]
        assert list(x["code"]) == list(y["code"]), key
        assert list(x["name"].fillna("")) == list(y["name"].fillna("")), key
        diff = shapely.symmetric_difference(x.geometry.values, y.geometry.values)
        assert (shapely.area(diff) < 1e-6).all(), key
    merged = again.layers["msoa"].set_index("code").loc["E02003124"]
    assert merged["name"] == "Plymouth 003 and 004"
    assert lg.impact(bset, after, proposal).summary is not None
    out = tmp_path / "report.html"
    run_cli(
        "impact",
        folder,
        "--proposal",
        tmp_path / "change.toml",
        "-o",
        out,
        expect=0,
        inputs=[folder],
        outputs=[out],
    )


def test_init_declares_a_layer_without_a_file(folder, plymouth, tmp_path):
    made = tmp_path / "made"
    groups = folder / "groups.csv"
    args = ["init", made, f"lsoa={folder / 'lsoa.geojson'}", "--blocks", "msoa", "lsoa"]
    args += ["--lookup", "msoa", groups, "--unit-name", "msoa", "msoa_name"]
    args += ["--nest", "lsoa", "msoa"]
    result = run_cli(*args, expect=0, outputs=[made, made / "boundaries.toml"], inputs=[folder])
    assert "msoa: no file, its units come from its blocks" in result.stdout
    a, b = lg.read_boundaries(made), lg.read_boundaries(folder)
    assert a.specs["msoa"].path is None
    for column in ("code", "name"):
        assert list(a.layers["msoa"][column]) == list(b.layers["msoa"][column])
    assert shapely.equals_exact(
        a.layers["msoa"].geometry.values, b.layers["msoa"].geometry.values, 0
    ).all()
    # options about a file, for a layer that has none, are refused in one line
    plain = [
        "init",
        made,
        f"lsoa={folder / 'lsoa.geojson'}",
        f"msoa={plymouth / 'msoa_2011.geojson'}",
    ]
    fileless = [
        "init",
        tmp_path / "x",
        f"lsoa={folder / 'lsoa.geojson'}",
        "--blocks",
        "msoa",
        "lsoa",
    ]
    fileless += ["--lookup", "msoa", groups]
    run_cli(
        *fileless, "--code", "msoa", "X", names=["--code 'msoa'", "no such layer"], watch=[tmp_path]
    )
    run_cli(*plain, "--unit-name", "msoa", "n", names=["needs --blocks"], watch=[tmp_path])


def test_each_lookup_is_read_once_per_layer(folder, monkeypatch):
    # the file-less layer's lookup gives both its assignment and its names
    reads = []
    read_csv = pd.read_csv

    def counted(path, *args, **kwargs):
        reads.append(Path(path).name)
        return read_csv(path, *args, **kwargs)

    monkeypatch.setattr(pd, "read_csv", counted)
    lg.read_boundaries(folder)
    # groups.csv for msoa and msoa_file, halves.csv for half
    assert sorted(reads) == ["groups.csv", "groups.csv", "halves.csv"]
