"""Issue 11, item 2: an output never replaces an input, whatever the spelling of its path."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import localitygeo as lg
from localitygeo.errors import OutputError

from .harness import run_cli
from .set_fixtures import _city_master, _plymouth_lookup, city_set, plymouth_files, plymouth_set

__all__ = ["_city_master", "_plymouth_lookup", "city_set", "plymouth_set"]

PROPOSAL = "proposals/merge-and-move.toml"


def refused(*args: str | Path, inputs: list[Path], output: Path, cwd: Path | None = None) -> str:
    """Run a command that must refuse ``output``: exit 2, one line naming it, nothing written."""
    res = run_cli(*args, inputs=inputs, names=[output.name], cwd=cwd)
    return res.message


# The cases the issue lists, one by one, on the example city.


def test_validate_o_onto_a_layer(city_set):
    msg = refused("validate", city_set, "-o", city_set / "wards.geojson", inputs=[city_set],
                  output=city_set / "wards.geojson")  # fmt: skip
    assert "layer 'ward'" in msg


def test_validate_junit_onto_the_blocks_lookup(city_set):
    out = city_set / "small_area_lookup.csv"
    msg = refused("validate", city_set, "--junit", out, inputs=[city_set], output=out)
    assert "--junit" in msg and "blocks lookup" in msg


def test_validate_o_onto_the_manifest(city_set):
    out = city_set / "boundaries.toml"
    msg = refused("validate", out, "-o", out, inputs=[city_set], output=out)
    assert "manifest" in msg


def test_lookup_o_onto_its_child_file(city_set):
    child, parent = city_set / "small_areas.geojson", city_set / "wards.geojson"
    args = ("lookup", child, parent, "--child-code", "code", "--parent-code", "code")
    msg = refused(*args, "-o", child, inputs=[city_set], output=child)
    assert "CHILD" in msg


def test_lookup_o_onto_its_parent_file_outside_any_set(city_set, tmp_path):
    parent = tmp_path / "parent.geojson"
    os.link(city_set / "wards.geojson", parent)  # a file of its own, outside the set
    child = city_set / "small_areas.geojson"
    args = ("lookup", child, parent, "--child-code", "code", "--parent-code", "code")
    msg = refused(*args, "-o", parent, inputs=[city_set, parent], output=parent)
    assert "PARENT" in msg


def test_aggregate_o_onto_its_data_file(city_set, tmp_path):
    data = tmp_path / "data.csv"
    small = lg.read_boundaries(city_set)["small_area"]
    small[["code", "population"]].to_csv(data, index=False)
    args = ("aggregate", city_set, "--data", data, "--data-code", "code", "--from", "small_area")
    msg = refused(*args, "--to", "ward", "--extensive", "population", "-o", data,
                  inputs=[city_set, data], output=data)  # fmt: skip
    assert "--data" in msg


def test_map_o_onto_the_manifest(city_set):
    out = city_set / "boundaries.toml"
    refused("map", city_set, "-o", out, inputs=[city_set], output=out)


def test_realign_o_onto_the_manifest(city_set):
    out = city_set / "boundaries.toml"
    args = ("realign", city_set, "--layer", "neighbourhood", "--to", "ward")
    refused(*args, "-o", out, inputs=[city_set], output=out)


def test_impact_o_onto_its_proposal(city_set):
    out = city_set / PROPOSAL
    msg = refused("impact", city_set, "--proposal", out, "-o", out, inputs=[city_set], output=out)
    assert "--proposal" in msg


def test_map_o_onto_its_proposal_kept_outside_the_set(city_set, tmp_path):
    proposal = tmp_path / "change.toml"
    proposal.write_bytes((city_set / PROPOSAL).read_bytes())
    args = ("map", city_set, "--proposal", proposal, "-o", proposal)
    refused(*args, inputs=[city_set, proposal], output=proposal)


@pytest.mark.parametrize("target", ["set", "parent", "proposals"])
def test_apply_overwrite_never_targets_its_own_set(city_set, target):
    out = {"set": city_set, "parent": city_set.parent, "proposals": city_set / "proposals"}[target]
    args = ("apply", city_set, "--proposal", city_set / PROPOSAL, "-o", out, "--overwrite")
    refused(*args, inputs=[city_set], output=out)


def test_apply_overwrite_never_targets_a_folder_holding_its_proposal(city_set, tmp_path):
    folder = tmp_path / "proposals"
    folder.mkdir()
    proposal = folder / "p.toml"
    proposal.write_bytes((city_set / PROPOSAL).read_bytes())
    args = ("apply", city_set, "--proposal", proposal, "-o", folder, "--overwrite")
    msg = refused(*args, inputs=[city_set, folder], output=folder)
    assert "--proposal" in msg


def test_api_write_boundaries_refuses_its_own_folder(city_set):
    bset = lg.read_boundaries(city_set)
    with pytest.raises(OutputError, match="input set"):
        lg.write_boundaries(bset, city_set, overwrite=True)
    assert (city_set / "wards.geojson").exists()


# Other spellings of the same file.


def test_symlink_to_an_input(city_set, tmp_path):
    link = tmp_path / "link.geojson"
    link.symlink_to(city_set / "wards.geojson")
    msg = refused("validate", city_set, "-o", link, inputs=[city_set], output=link)
    assert "layer 'ward'" in msg
    assert link.is_symlink()


def test_hard_link_to_an_input(city_set, tmp_path):
    link = tmp_path / "hard.geojson"
    os.link(city_set / "neighbourhoods.geojson", link)
    msg = refused("validate", city_set, "--junit", link, inputs=[city_set, link], output=link)
    assert "layer 'neighbourhood'" in msg


def test_dot_dot_and_relative_against_absolute(city_set, tmp_path):
    out = Path("city") / ".." / "city" / "wards.geojson"
    args = ("validate", (tmp_path / "city").resolve(), "-o", out)
    refused(*args, inputs=[city_set], output=out, cwd=tmp_path)
    args = ("validate", "city", "-o", (tmp_path / "city" / "localities.geojson").resolve())
    refused(*args, inputs=[city_set], output=tmp_path / "localities.geojson", cwd=tmp_path)


def test_a_symlinked_folder_of_the_set(city_set, tmp_path):
    alias = tmp_path / "alias"
    alias.symlink_to(city_set, target_is_directory=True)
    out = alias / "boundaries.toml"
    refused("map", city_set, "-o", out, inputs=[city_set], output=out)


def test_any_existing_file_in_the_set_folder(city_set):
    notes = city_set / "README.txt"
    notes.write_text("kept by the council\n", encoding="utf-8")
    msg = refused("map", city_set, "-o", notes, inputs=[city_set], output=notes)
    assert "inside the input set's folder" in msg


def test_shapefile_sidecar_of_an_input(city_set, tmp_path):
    wards = lg.read_layer(city_set / "wards.geojson", "code")
    wards[["code", "geometry"]].to_file(tmp_path / "wards.shp")
    dbf = tmp_path / "wards.dbf"
    assert dbf.exists()
    args = ("lookup", city_set / "small_areas.geojson", tmp_path / "wards.shp")
    msg = refused(*args, "--child-code", "code", "--parent-code", "code", "-o", dbf,
                  inputs=[city_set, tmp_path], output=dbf)  # fmt: skip
    assert "PARENT" in msg


def test_two_outputs_at_one_path(city_set, tmp_path):
    out = tmp_path / "report.xml"
    args = ("validate", city_set, "-o", out, "--junit", tmp_path / "." / "report.xml")
    msg = refused(*args, inputs=[city_set], output=out)
    assert "-o and --junit" in msg


def test_example_never_writes_over_another_set(plymouth_set, plymouth):
    inputs = [plymouth_set, *plymouth_files(plymouth)]
    refused("example", plymouth_set, inputs=inputs, output=plymouth_set)


# What stays allowed.


def test_a_new_proposal_inside_the_set_is_allowed(city_set):
    out = city_set / "proposals" / "realign.toml"
    args = ("realign", city_set, "--layer", "neighbourhood", "--to", "ward", "-o", out)
    files = [p for p in city_set.rglob("*") if p.is_file()]
    run_cli(*args, inputs=files, watch=[city_set], expect=0, outputs=[out])
    assert lg.read_proposal(out).operations


def test_example_rewrites_an_example(city_set):
    before = (city_set / "wards.geojson").read_bytes()
    run_cli("example", city_set, watch=[city_set], expect=0)
    assert (city_set / "wards.geojson").read_bytes() == before


# Real data: Plymouth's ONS layers, LSOAs built from output areas.


def test_plymouth_validate_o_onto_its_lookup(plymouth_set, plymouth):
    out = plymouth_set / "oa_lookup.csv"
    inputs = [plymouth_set, *plymouth_files(plymouth)]
    msg = refused("validate", plymouth_set, "-o", out, inputs=inputs, output=out)
    assert "blocks lookup of layer 'lsoa'" in msg


def test_plymouth_outputs_onto_shared_layers_through_links(plymouth_set, plymouth, tmp_path):
    inputs = [plymouth_set, *plymouth_files(plymouth)]
    link = tmp_path / "oa.geojson"
    link.symlink_to(plymouth / "oa_2011.geojson")
    msg = refused("validate", plymouth_set, "--junit", link, inputs=inputs, output=link)
    assert "layer 'oa'" in msg
    args = ("lookup", plymouth / "lsoa_2011.geojson", plymouth / "wards_2013.geojson")
    args += ("--child-code", "LSOA11CD", "--parent-code", "WD13CD")
    link2 = tmp_path / "lsoa.geojson"
    link2.symlink_to(plymouth / "lsoa_2011.geojson")
    msg = refused(*args, "-o", link2, inputs=inputs, output=link2)
    assert "CHILD" in msg


def test_plymouth_aggregate_onto_its_data_through_a_link(plymouth_set, plymouth, shared_data):
    imd = shared_data / "imd2019" / "File_1_-_IMD2019_Index_of_Multiple_Deprivation.csv.gz"
    data = plymouth_set.parent / "imd.csv.gz"
    data.symlink_to(imd)
    args = ("aggregate", plymouth_set, "--data", data, "--data-code", "LSOA code (2011)")
    args += (
        "--from",
        "lsoa",
        "--to",
        "ward",
        "--intensive",
        "Index of Multiple Deprivation (IMD) Score",
    )
    other = plymouth_set.parent / "out.csv"
    other.symlink_to(imd)  # another name for the same file
    inputs = [plymouth_set, imd, *plymouth_files(plymouth)]
    refused(*args, "-o", other, inputs=inputs, output=other)


# The rule itself, in process (fast): the kinds of input a command can name.


def test_an_input_folder_guards_what_is_already_in_it(tmp_path):
    from localitygeo.io.outputs import check_outputs

    gdb = tmp_path / "wards.gdb"  # a File Geodatabase is a folder
    gdb.mkdir()
    (gdb / "a0000001.gdbtable").write_bytes(b"\0")
    with pytest.raises(OutputError, match="inside the CHILD folder"):
        check_outputs({"-o": gdb / "a0000001.gdbtable"}, files={"CHILD": gdb})
    with pytest.raises(OutputError, match="is the CHILD folder"):
        check_outputs({"-o": gdb}, files={"CHILD": gdb})
    check_outputs({"-o": gdb / "new.csv"}, files={"CHILD": gdb})  # new: allowed


def test_a_geopackage_journal_belongs_to_its_file(tmp_path):
    from localitygeo.io.outputs import check_outputs

    gpkg = tmp_path / "wards.gpkg"
    gpkg.write_bytes(b"")
    (tmp_path / "wards.gpkg-journal").write_bytes(b"")
    with pytest.raises(OutputError, match="the PARENT file"):
        check_outputs({"-o": tmp_path / "wards.gpkg-journal"}, files={"PARENT": gpkg})
    check_outputs({"-o": tmp_path / "wards.gpkg-wal"}, files={"PARENT": gpkg})  # none yet


def test_output_folders_and_their_parents(tmp_path):
    from localitygeo.io.outputs import check_outputs

    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    with pytest.raises(OutputError, match="is not a folder"):
        check_outputs({"-o": blocker / "out.csv"})
    with pytest.raises(OutputError, match="does not exist"):
        check_outputs({"-o": tmp_path / "missing" / "out.csv"})
    check_outputs({"-o": tmp_path / "missing" / "deeper" / "set"}, folder=True)  # created
    with pytest.raises(OutputError, match="is not a folder"):
        check_outputs({"-o": blocker / "deeper" / "set"}, folder=True)


def test_an_in_memory_set_has_no_files_to_guard(tmp_path):
    from localitygeo.io.outputs import check_outputs

    from ..helpers import grid_layer

    bset = lg.BoundarySet.from_layers({"grid": grid_layer(2, 2)})
    check_outputs({"the output folder": tmp_path / "set"}, sets=[bset], folder=True)
