"""Writing a changed boundary set: it reads back to the same set, whole or not at all."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from localitygeo import apply, read_boundaries, read_proposal, validate, write_boundaries
from localitygeo.errors import OutputError

REPO = Path(__file__).resolve().parents[1]
CITY = REPO / "boundaries" / "example-city"
PROPOSAL = CITY / "proposals" / "realign-to-wards.toml"


@pytest.fixture(scope="module")
def after():
    return apply(read_boundaries(CITY), read_proposal(PROPOSAL))


def test_written_set_reads_back_the_same(after, tmp_path):
    manifest = write_boundaries(after, tmp_path / "new")
    back = read_boundaries(manifest)
    assert back.built_from == after.built_from
    assert [r.id for r in back.nesting] == [r.id for r in after.nesting]
    for key, frame in after.layers.items():
        got = back[key].set_index("code").sort_index()
        want = frame.set_index("code").sort_index()
        assert list(got.index) == list(want.index), key
        assert (got["name"].fillna("") == want["name"].fillna("")).all(), key
        sym = got.geometry.symmetric_difference(want.geometry, align=True).area
        assert sym.max() < 1e-3, key
    assert validate(back).ok


def test_existing_folder_is_refused_then_replaced(after, tmp_path):
    dest = tmp_path / "set"
    dest.mkdir()
    (dest / "keep.txt").write_text("mine")
    with pytest.raises(OutputError, match="output folder exists"):
        write_boundaries(after, dest)
    assert (dest / "keep.txt").read_text() == "mine"
    write_boundaries(after, dest, overwrite=True)
    assert not (dest / "keep.txt").exists() and (dest / "boundaries.gpkg").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["set"]  # no temporary folder left


def test_apply_command(tmp_path):
    exe = Path(sys.executable).with_name("localitygeo")
    out = tmp_path / "after"
    r = subprocess.run(
        [str(exe), "apply", str(CITY), "--proposal", str(PROPOSAL), "-o", str(out)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    r = subprocess.run(
        [str(exe), "validate", str(out)], capture_output=True, text=True, check=False
    )
    assert r.returncode == 0, r.stdout + r.stderr
    bad = tmp_path / "bad.toml"
    bad.write_text(
        "name = 'x'\n[[operations]]\nop = 'rename'\nlayer = 'ward'\nunit = 'NOPE'\nname = 'y'\n"
    )
    r = subprocess.run(
        [str(exe), "apply", str(CITY), "--proposal", str(bad), "-o", str(tmp_path / "x")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert r.returncode == 2 and "unknown ward unit(s) NOPE" in r.stderr
    assert not (tmp_path / "x").exists()


def test_source_name_columns_in_any_case_survive_apply_and_write(tmp_path):
    # KML always has Name; GeoPackage field names are case-insensitive
    city = read_boundaries(CITY)
    n = city["neighbourhood"]
    odd = n.assign(Name=n["name"].str.upper(), NAME="x", CODE=n["code"] + "!")
    city = city.with_layers(neighbourhood=odd)
    after = apply(city, read_proposal(PROPOSAL))
    back = read_boundaries(write_boundaries(after, tmp_path / "set"))
    got = back["neighbourhood"].set_index("code")
    want = after["neighbourhood"].set_index("code")
    assert (got["name"] == want["name"]).all()  # the canonical name, not the source's Name
    assert (got["Name_2"] == want["Name"]).all() and (got["NAME_3"] == "x").all()
    assert (got["CODE_2"] == want["CODE"]).all()


def test_written_set_drops_lookups_the_change_made_stale(tmp_path):
    city = read_boundaries(CITY)
    sa, nb = city["small_area"], city["neighbourhood"]
    loc = nb.set_index("code")["locality"]
    city = city.with_layers(
        small_area=sa.assign(locality=loc.reindex(sa["neighbourhood"]).to_numpy()),
        neighbourhood=nb.assign(ward=nb["code"]),  # a neighbourhood -> ward lookup
    )
    after = apply(city, read_proposal(PROPOSAL))
    # blocks moved between neighbourhoods: each small area's locality, each
    # neighbourhood's ward may differ now; the small areas' own ward has not
    assert "locality" not in after["small_area"].columns
    assert "ward" not in after["neighbourhood"].columns
    assert "ward" in after["small_area"].columns and "locality" in after["neighbourhood"].columns
    assert any("dropped column(s) locality" in n for n in after.notes)
    back = read_boundaries(write_boundaries(after, tmp_path / "set"))
    assert "locality" not in back["small_area"].columns


def test_written_files_and_folder_get_the_usual_permissions(after, tmp_path):
    import os
    import stat

    mask = os.umask(0o027)
    try:
        dest = write_boundaries(after, tmp_path / "set").parent
    finally:
        os.umask(mask)
    assert stat.S_IMODE(dest.stat().st_mode) == 0o750  # not mkdtemp's 0700
    for f in dest.iterdir():
        assert stat.S_IMODE(f.stat().st_mode) == 0o640, f


def test_an_indicator_written_under_a_new_name_keeps_its_label(tmp_path):
    import dataclasses

    city = read_boundaries(CITY)
    sa = city["small_area"]
    odd = sa.assign(IMD_Score=sa["imd_score"] * 2)  # clashes with imd_score in a GeoPackage
    meta = {"IMD_Score": {"label": "Doubled score", "higher_is": "worse"}}
    spec = dataclasses.replace(city.specs["small_area"], indicators=meta)
    city = dataclasses.replace(
        city.with_layers(small_area=odd), specs={**city.specs, "small_area": spec}
    )
    back = read_boundaries(write_boundaries(city, tmp_path / "set"))
    assert (back["small_area"]["IMD_Score_2"] == odd["IMD_Score"].to_numpy()).all()
    assert back.specs["small_area"].indicators == {"IMD_Score_2": meta["IMD_Score"]}
