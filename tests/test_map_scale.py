"""Maps that read the right way: direction, palettes, classes and legend numbers.

The references are independent of the code under test: direction rules
written out by hand, palettes' luminance measured here, classes recomputed
with mapclassify directly, numbers written by hand.
"""

from __future__ import annotations

import gzip
import re
import subprocess
import sys
from itertools import pairwise
from pathlib import Path

import mapclassify
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import localitygeo as lg
from localitygeo.errors import ColumnError, DataError, InputError, LocalityGeoWarning
from localitygeo.io.tables import recognised_direction
from localitygeo.maps import locality_map, render_html
from localitygeo.maps.page import page_data
from localitygeo.maps.scale import (
    classify,
    luminance,
    number_format,
    palette,
    palette_names,
    readable,
)

REPO = Path(__file__).resolve().parents[1]
CITY = REPO / "boundaries" / "example-city"


@pytest.fixture(scope="module")
def city():
    return lg.read_boundaries(CITY)


def _map(bset, indicator, **kw):
    (data,) = page_data(render_html(locality_map(bset, "small_area", indicator, **kw)))
    return data


def _fills(data):
    fill = data["layers"][0]["fill"]
    return [fill["colours"][i] for i in fill["index"]]


# --- direction ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("imd_rank", "better"),
        ("Index of Multiple Deprivation (IMD) Rank", "better"),
        ("Index of Multiple Deprivation (IMD) Decile", "better"),
        ("Income Rank (where 1 is most deprived)", "better"),
        ("x (where 1 is the most deprived)", "better"),
        ("mean_rank", "better"),
        ("imd_decile", "better"),
        ("imd_score", "worse"),
        ("Index of Multiple Deprivation (IMD) Score", "worse"),
        ("extent", "worse"),
        ("share_decile1", "worse"),
        ("n_decile1", "worse"),
        ("population", None),
        ("score", None),  # a score of what? nothing is claimed
        ("ranking_x", None),  # the word, not a substring
    ],
)
def test_recognised_directions(name, expected):
    assert recognised_direction(name) == expected


def test_a_label_is_read_when_the_name_says_nothing():
    assert recognised_direction("x", "Crime Rank (where 1 is most deprived)") == "better"
    assert recognised_direction(None, "") is None


def test_ranks_draw_the_most_deprived_darkest(city):
    small = city["small_area"]
    data = _map(city, "imd_rank", tiles=None)
    fills = _fills(data)
    lum = np.array([luminance(c) for c in fills])
    ranks = small["imd_rank"].to_numpy()
    assert lum[np.argmin(ranks)] == lum.min()  # rank 1: the darkest colour
    assert lum[np.argmax(ranks)] == lum.max()
    assert data["legend"]["scale"] == "Darker is worse"
    # The darker, the lower the rank: luminance rises with rank class by class.
    by_class = pd.Series(lum).groupby(data["layers"][0]["fill"]["index"]).first()
    assert by_class.is_monotonic_increasing


def test_scores_draw_the_highest_darkest_and_higher_is_overrides(city):
    scores = city["small_area"]["imd_score"].to_numpy()
    lum = np.array([luminance(c) for c in _fills(_map(city, "imd_score", tiles=None))])
    assert lum[np.argmax(scores)] == lum.min()
    flipped = _map(city, "imd_score", higher_is="better", tiles=None)
    lum = np.array([luminance(c) for c in _fills(flipped)])
    assert lum[np.argmin(scores)] == lum.min()
    assert flipped["legend"]["scale"] == "Darker is worse"


def test_reverse_draws_the_better_end_darkest(city):
    ranks = city["small_area"]["imd_rank"].to_numpy()
    data = _map(city, "imd_rank", reverse=True, tiles=None)
    lum = np.array([luminance(c) for c in _fills(data)])
    assert lum[np.argmax(ranks)] == lum.min()
    assert data["legend"]["scale"] == "Darker is better"


def test_an_unknown_column_is_drawn_higher_darker_without_a_claim(city):
    pop = city["small_area"]["population"].to_numpy()
    data = _map(city, "population", tiles=None)
    lum = np.array([luminance(c) for c in _fills(data)])
    assert lum[np.argmax(pop)] == lum.min()
    assert data["legend"]["scale"] is None


def test_a_bad_direction_is_refused(city):
    with pytest.raises(DataError, match="'worse' or 'better', not 'up'"):
        locality_map(city, "small_area", "population", higher_is="up")


def _imd_file(tmp_path, header: str) -> Path:
    path = tmp_path / "imd.csv.gz"
    rows = ["code," + f'"{header}"'] + [f"EXA{i:04d},{i}" for i in range(1, 873)]
    path.write_bytes(gzip.compress(("\n".join(rows) + "\n").encode()))
    return path


def test_read_indicators_records_labels_and_directions(city, tmp_path):
    header = "Deprivation Rank (where 1 is most deprived)"
    table = lg.read_indicators(_imd_file(tmp_path, header), "code", columns={header: "r"})
    assert table.attrs["indicators"] == {"r": {"label": header, "higher_is": "better"}}
    data = page_data(render_html(locality_map(city, "small_area", "r", data=table, tiles=None)))
    (page,) = data
    assert page["legend"]["title"] == header and page["layers"][0]["labels"][-1] == header
    lum = [luminance(c) for c in _fills(page)]
    assert lum[0] == min(lum)  # EXA0001 has rank 1
    given = lg.read_indicators(
        _imd_file(tmp_path, header),
        "code",
        columns={header: "r"},
        labels={"r": "Rank"},
        higher_is={"r": "worse"},
    )
    assert given.attrs["indicators"] == {"r": {"label": "Rank", "higher_is": "worse"}}
    with pytest.raises(DataError, match="higher_is of 'r' must be 'worse' or 'better'"):
        lg.read_indicators(
            _imd_file(tmp_path, header), "code", columns={header: "r"}, higher_is={"r": 1}
        )
    with pytest.raises(ColumnError, match="labels names column"):
        lg.read_indicators(_imd_file(tmp_path, header), "code", labels={"nope": "x"})


# --- palettes ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", palette_names())
def test_every_palette_runs_light_to_dark(name):
    for k in (1, 2, 3, 5, 9, 12, 40):
        colours = palette(name, k)
        assert len(colours) == k and all(re.fullmatch(r"#[0-9a-f]{6}", c) for c in colours)
        lum = [luminance(c) for c in colours]
        assert lum[0] >= lum[-1]


@pytest.mark.parametrize("name", ["OrRd", "Blues", "viridis", "magma", "YlGnBu"])
def test_sequential_palettes_darken_at_every_step(name):
    lum = [luminance(c) for c in palette(name, 12)]
    assert all(a > b for a, b in pairwise(lum))


def test_reverse_and_r_suffix():
    base = palette("viridis", 6)
    assert base[-1] == "#440154"  # viridis's dark purple end comes last
    assert palette("viridis", 6, reverse=True) == base[::-1] == palette("viridis_r", 6)
    assert palette("VIRIDIS_R", 6, reverse=True) == base  # both cancel out
    assert palette("orrd", 5) == palette("OrRd", 5)


@pytest.mark.parametrize(
    ("name", "message"),
    [("Nope", "unknown palette 'Nope'"), ("Set1", "qualitative"), (3, "named by text")],
)
def test_bad_palettes(city, name, message):
    with pytest.raises(DataError, match=message):
        palette(name, 5)
    with pytest.raises(DataError, match=message):
        locality_map(city, "small_area", "population", palette=name)


def test_luminance_reference_values():
    assert luminance("#ffffff") == pytest.approx(1.0)
    assert luminance("#000000") == 0.0
    assert luminance("rgb(255, 0, 0)") == pytest.approx(0.2126)
    assert luminance("#808080") == pytest.approx(0.2158605, abs=1e-6)


# --- classes -----------------------------------------------------------------------------


@pytest.mark.parametrize("scheme", ["quantiles", "natural_breaks", "equal_interval"])
@pytest.mark.parametrize("k", [1, 7, 8, 12, 25])
def test_any_number_of_classes_mapclassify_can_make(city, scheme, k):
    values = city["small_area"]["imd_score"].to_numpy(dtype=float)[:300]  # k-means is slow
    classes = classify(values, scheme, k, "imd_score")
    name = {"quantiles": "Quantiles", "natural_breaks": "NaturalBreaks"}.get(
        scheme, "EqualInterval"
    )
    np.random.seed(0)  # noqa: NPY002 - natural breaks: seeded k-means, as classify does
    reference = getattr(mapclassify, name)(values, k=k)
    kept = np.unique(reference.yb) if scheme != "equal_interval" else np.arange(k)
    assert classes.count == len(kept)
    for c, ref in enumerate(kept):
        members = values[reference.yb == ref]
        assert (classes.index == c).sum() == len(members)
        if len(members):
            assert (classes.lower[c], classes.upper[c]) == (members.min(), members.max())


def test_natural_breaks_are_the_same_on_every_run_and_leave_numpy_alone(city):
    values = city["small_area"]["imd_score"].to_numpy(dtype=float)[:300]
    # numpy's global generator, which sklearn's k-means draws from
    np.random.seed(5)  # noqa: NPY002
    first = classify(values, "natural_breaks", 7, "x")
    after = np.random.random()  # noqa: NPY002
    np.random.seed(5)  # noqa: NPY002
    assert np.random.random() == after  # noqa: NPY002 - the caller's state is restored
    again = classify(values, "natural_breaks", 7, "x")
    assert (first.index == again.index).all() and first.lower == again.lower


def test_as_many_classes_as_distinct_values_and_no_more():
    values = np.array([5.0, 1, 2, 2, 3, 4, np.nan])
    classes = classify(values, "natural_breaks", 5, "x")
    assert classes.count == 5 and classes.index[-1] == -1
    assert list(classes.index[:-1]) == [4, 0, 1, 1, 2, 3]
    with pytest.raises(DataError, match="only 5 distinct values, so -k can be at most 5"):
        classify(values, "quantiles", 6, "x")


def test_ties_leave_fewer_quantiles_with_a_warning():
    values = np.array([1.0] * 8 + [2.0, 3.0])
    with pytest.warns(LocalityGeoWarning, match="only 2 of 3 quantiles classes"):
        classes = classify(values, "quantiles", 3, "x")
    assert classes.count == 2 and not any(classes.empty)
    assert sorted(set(classes.index)) == [0, 1]


def test_empty_equal_intervals_stay_in_the_legend():
    values = np.array([0.0, 1, 2, 10])
    classes = classify(values, "equal_interval", 5, "x")
    assert classes.count == 5 and classes.empty == (False, True, True, True, False)
    assert classes.lower[1:4] == (2.0, 4.0, 6.0) and classes.upper[1:4] == (4.0, 6.0, 8.0)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False), min_size=2, max_size=60),
    st.integers(1, 8),
    st.sampled_from(["quantiles", "natural_breaks", "equal_interval"]),
)
def test_classes_are_ordered_and_hold_their_values(values, k, scheme):
    y = np.asarray(values)
    distinct = len(np.unique(y))
    if (distinct < k and scheme != "equal_interval") or distinct == 1:
        return
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LocalityGeoWarning)
        try:
            classes = classify(y, scheme, k, "x")
        except DataError as exc:
            # k-means can fail on values a hair apart: a clean error, naming the column
            assert scheme == "natural_breaks" and "cannot classify indicator 'x'" in str(exc)
            return
    assert classes.count >= 1 and (classes.index >= 0).all()
    for c in range(classes.count):
        assert classes.lower[c] <= classes.upper[c]
        members = y[classes.index == c]
        assert ((members >= classes.lower[c]) & (members <= classes.upper[c])).all()
        if c:
            assert classes.upper[c - 1] <= classes.lower[c]
    write = number_format(y, list(zip(classes.lower, classes.upper, strict=True)))
    for c in range(1, classes.count):
        if classes.lower[c] - classes.upper[c - 1] > 2e-6 * max(1.0, abs(classes.lower[c])):
            assert write(classes.upper[c - 1]) != write(classes.lower[c])


# --- numbers and titles ------------------------------------------------------------------


def test_whole_numbers_are_written_as_integers():
    write = number_format(np.array([577.0, 8554.0, 32844.0]))
    assert [write(v) for v in (577.0, 8554.0, 32844.0)] == ["577", "8,554", "32,844"]
    assert write(float("nan")) == "–"


def test_decimals_follow_the_spread_and_tell_classes_apart():
    scores = np.array([9.157, 14.77, 64.372])
    assert number_format(scores)(14.77) == "14.8"  # spread 55: one decimal
    assert number_format(scores, [(9.157, 14.77), (14.79, 64.372)])(14.77) == "14.77"
    rates = np.array([0.0123, 0.2, 0.35])
    assert number_format(rates)(0.0123) == "0.012"
    big = np.array([1234.5, 98765.25])
    assert number_format(big)(98765.25) == "98,765"
    assert number_format(np.array([0.5, 1.25]))(-0.0001) == "0.000"  # never "-0.000"


def test_the_legend_matches_its_classes_and_names_missing_data(city):
    small = city["small_area"].copy()
    small.loc[:9, "imd_rank"] = np.nan
    data = _map(city.with_layers(small_area=small), "imd_rank", k=6, tiles=None)
    rows = data["legend"]["rows"]
    assert rows[-1] == ["#cccccc", "No data (10)"]
    values = small["imd_rank"].to_numpy(dtype=float)
    ok = ~np.isnan(values)
    reference = mapclassify.Quantiles(values[ok], k=6)
    index = np.asarray(data["layers"][0]["fill"]["index"])
    assert (index[~ok] == 6).all()
    for c, (colour, text) in enumerate(rows[:-1]):
        members = values[ok][reference.yb == c]
        assert text == f"{int(members.min()):,} – {int(members.max()):,}"
        assert colour == data["layers"][0]["fill"]["colours"][c]
        assert (index[ok][reference.yb == c] == c).all()
    assert data["legend"]["title"] == "IMD rank"
    assert data["pageTitle"] == "IMD rank: Small areas"


@pytest.mark.parametrize(
    ("column", "title"),
    [
        ("imd_rank", "IMD rank"),
        ("mean_rank", "Mean rank"),
        ("lsoa_population", "LSOA population"),
        ("Income Rank", "Income Rank"),
        ("share_of_IMD", "Share of IMD"),
        ("  odd__name_ ", "Odd name"),
    ],
)
def test_readable_titles(column, title):
    assert readable(column) == title


# --- tiles and names ---------------------------------------------------------------------


def test_tiles_none_osm_and_url(city):
    def page(tiles, **kw):
        return render_html(locality_map(city, "locality", tiles=tiles, wards=False, **kw))

    for off in (None, "none", "NONE"):
        text = page(off)
        assert "L.tileLayer" not in text and page_data(text)[0]["tilesCredit"] is None
    assert "tile.openstreetmap.org" in page("osm")
    url = "https://tiles.example.org/{z}/{x}/{y}.png"
    text = page(url)
    assert url in text and page_data(text)[0]["tilesCredit"] == "Tiles: tiles.example.org"
    assert page_data(page(url, tiles_credit="© Example"))[0]["tilesCredit"] == "© Example"
    for bad, message in [
        ("https://x/{z}/{x}.png", "needs {z}, {x} and {y}"),
        ('https://x/{z}/{x}/{y}.png"', "no spaces, quotes"),
        ("nowhere", "unknown tiles 'nowhere'"),
        ("https://x/{{ 7*7 }}/{z}/{x}/{y}", "template syntax"),
    ]:
        with pytest.raises(InputError, match=re.escape(message)):
            page(bad)


def test_locality_names_are_placed_inside_their_units(city):
    import shapely

    (data,) = page_data(
        render_html(locality_map(city, "neighbourhood", labels="locality", tiles=None))
    )
    names = data["names"]
    loc = city["locality"].to_crs(4326)
    assert names["name"] == "Locality names"
    assert names["texts"] == list(loc["name"])
    points = shapely.points(np.asarray(names["points"]))
    assert shapely.contains(np.asarray(loc.geometry.array, dtype=object), points).all()


def test_map_command_offline_defaults_to_no_tiles(tmp_path):
    exe = Path(sys.executable).parent / "localitygeo"
    out = tmp_path / "m.html"
    args = [str(exe), "map", str(CITY), "--layer", "small_area", "--indicator", "imd_rank"]
    res = subprocess.run(
        [*args, "--inline", "-k", "9", "--palette", "viridis", "--labels", "locality",
         "--title", "Deprivation", "-o", str(out)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    text = out.read_text()
    (data,) = page_data(text)
    assert "L.tileLayer" not in text and data["pageTitle"] == "Deprivation"
    assert len(data["legend"]["rows"]) == 9 and data["names"]["texts"]
    assert data["legend"]["rows"][0][0] == palette("viridis", 9)[-1]  # rank 1 darkest
    res = subprocess.run(
        [*args, "--inline", "--tiles", "osm", "--higher-is", "worse", "-o", str(out)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    text = out.read_text()
    assert "tile.openstreetmap.org" in text
    assert page_data(text)[0]["legend"]["rows"][-1][0] == palette("OrRd", 5)[-1]


# --- the manifest ------------------------------------------------------------------------


def _described_city(tmp_path, entry: str) -> Path:
    text = (CITY / "boundaries.toml").read_text(encoding="utf-8")
    text = text.replace('path = "', f'path = "{CITY.as_posix()}/')
    text = text.replace('lookup = "', f'lookup = "{CITY.as_posix()}/')
    text = text.replace(
        'title = "Small areas"\n', f'title = "Small areas"\nindicators.imd_score = {entry}\n'
    )
    folder = tmp_path / "described"
    folder.mkdir()
    (folder / "boundaries.toml").write_text(text, encoding="utf-8")
    return folder


def test_the_manifest_gives_labels_and_directions(tmp_path):
    folder = _described_city(tmp_path, '{ label = "Health score", higher_is = "better" }')
    bset = lg.read_boundaries(folder)
    assert bset.specs["small_area"].indicators == {
        "imd_score": {"label": "Health score", "higher_is": "better"}
    }
    data = _map(bset, "imd_score", tiles=None)
    assert data["legend"]["title"] == "Health score"
    scores = bset["small_area"]["imd_score"].to_numpy()
    lum = [luminance(c) for c in _fills(data)]
    assert lum[int(np.argmin(scores))] == min(lum)  # the manifest overrides the name's "worse"
    # An exported set keeps what its manifest said.
    back = lg.read_boundaries(lg.write_boundaries(bset, tmp_path / "copy"))
    assert back.specs["small_area"].indicators == bset.specs["small_area"].indicators


def test_the_map_command_takes_the_label_from_the_layer_it_aggregates(tmp_path):
    folder = _described_city(tmp_path, '{ label = "Deprivation score" }')
    out = tmp_path / "m.html"
    res = subprocess.run(
        [str(Path(sys.executable).parent / "localitygeo"), "map", str(folder), "--indicator",
         "imd_score", "--from", "small_area", "--weight", "population", "--tiles", "none",
         "-o", str(out)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    (data,) = page_data(out.read_text())
    assert data["legend"]["title"] == "Deprivation score"
    assert data["legend"]["scale"] == "Darker is worse"  # imd_score: recognised


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ('{ higher_is = "up" }', "higher_is must be 'worse' or 'better'"),
        ('{ colour = "red" }', "unknown key(s) colour"),
        ('{ label = "" }', "label must be a non-empty string"),
        ('"worse"', "must be a table such as"),
    ],
)
def test_bad_indicator_entries_in_the_manifest(tmp_path, entry, message):
    with pytest.raises(lg.errors.ManifestError, match=re.escape(message)):
        lg.read_boundaries(_described_city(tmp_path, entry))


def test_names_of_invalid_units_are_placed_inside_them():
    import geopandas as gpd
    import shapely

    from localitygeo.maps.locality import _name_labels

    bowtie = shapely.Polygon([(0, 0), (200, 200), (200, 0), (0, 200)])  # crosses itself
    square = shapely.box(300, 0, 500, 200)
    frame = gpd.GeoDataFrame(
        {"code": ["B", "S"], "name": ["Bow tie", None]},
        geometry=[shapely.affinity.translate(g, 400000, 200000) for g in (bowtie, square)],
        crs="EPSG:27700",
    )
    assert not frame.geometry.is_valid.iloc[0]
    names = _name_labels(lg.BoundarySet.from_layers({"area": frame}), "area", 6)
    assert names["texts"] == ["Bow tie", "S"]  # no name: the code
    points = gpd.GeoSeries(shapely.points(np.asarray(names["points"])), crs=4326).to_crs(27700)
    repaired = shapely.make_valid(np.asarray(frame.geometry.array, dtype=object))
    assert shapely.distance(repaired, np.asarray(points.array, dtype=object)).max() < 0.5
