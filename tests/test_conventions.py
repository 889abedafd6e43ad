"""The public API follows docs/conventions.md, checked by walking every public function.

The page's "Parameter names" table is parsed here: every parameter of every
public function and method must be named in it, options (parameters with a
default, except those the table calls optional inputs) must be keyword-only,
the names the page rules out must not appear, docstrings must list every
parameter, and the functions the page says measure must take ``crs=``.
"""

from __future__ import annotations

import inspect
import re
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

import localitygeo as lg
import localitygeo.maps as maps
from localitygeo.aggregation import inequality
from localitygeo.errors import LocalityGeoError

PAGE = Path(__file__).resolve().parents[1] / "docs" / "conventions.md"
# Mapping-protocol methods keep Python's own parameter names.
PROTOCOL = {"get"}


def _section(title: str) -> str:
    text = PAGE.read_text(encoding="utf-8")
    start = text.index(f"## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end > 0 else None]


def parse_names(section: str) -> dict[str, str]:
    """Return name -> kind ("input", "optional input" or "option") from the page's table."""
    kinds: dict[str, str] = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 3 or cells[1] not in {"input", "optional input", "option"}:
            continue
        for name in re.findall(r"`(\w+)`", cells[0]):
            kinds[name] = cells[1]
    return kinds


NAMES = parse_names(_section("Parameter names"))
RULED_OUT = re.findall(r"`(\w+)` \(say", _section("Parameter names"))


def public_callables() -> Iterator[tuple[str, Callable]]:
    """Every public function of the package, and every public method of its classes."""
    seen = set()
    sources = [(n, getattr(lg, n)) for n in lg.__all__ if n != "__version__"]
    sources += [(f"maps.{n}", getattr(maps, n)) for n in maps.__all__]
    sources += [(f"inequality.{n}", getattr(inequality, n)) for n in inequality.__all__]
    for qual, obj in sources:
        if inspect.isclass(obj):
            for name, member in vars(obj).items():
                if name.startswith("_") or name in PROTOCOL:
                    continue
                func = member.__func__ if isinstance(member, classmethod | staticmethod) else member
                if inspect.isfunction(func) and id(func) not in seen:
                    seen.add(id(func))
                    yield f"{qual}.{name}", func
        elif inspect.isfunction(obj) and id(obj) not in seen:
            seen.add(id(obj))
            yield qual, obj


CALLABLES = dict(public_callables())


def _params(func: Callable) -> list[inspect.Parameter]:
    return [
        p
        for p in inspect.signature(func).parameters.values()
        if p.name not in {"self", "cls"}
        and p.kind not in {inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD}
    ]


def convention_breaks(func: Callable, names: dict[str, str], ruled_out: list[str]) -> list[str]:
    """Return what in ``func``'s signature breaks the conventions (empty when none)."""
    found = []
    for p in _params(func):
        if p.name in ruled_out:
            found.append(f"{p.name}: ruled out")
        elif p.name not in names:
            found.append(f"{p.name}: not in the conventions table")
        elif (
            p.default is not inspect.Parameter.empty
            and p.kind is not inspect.Parameter.KEYWORD_ONLY
            and names[p.name] != "optional input"
        ):
            found.append(f"{p.name}: an option, but not keyword-only")
    return found


def undocumented(func: Callable) -> list[str]:
    """Return the parameters the numpydoc "Parameters" section does not list."""
    doc = inspect.getdoc(func) or ""
    listed = set()
    if "Parameters\n----------" in doc:
        block = doc.split("Parameters\n----------", 1)[1]
        block = re.split(r"\n\w[\w ]*\n-{3,}", block, maxsplit=1)[0]
        for line in block.splitlines():
            if line and not line.startswith(" "):
                head = line.split(" : ")[0]
                listed.update(n.strip().lstrip("*") for n in head.split(","))
    return [p.name for p in _params(func) if p.name not in listed]


def test_the_table_was_read():
    assert len(NAMES) > 60
    assert NAMES["boundary_set"] == "input"
    assert NAMES["crs"] == NAMES["threads"] == "option"
    assert NAMES["weights"] == "optional input"
    assert set(RULED_OUT) >= {"bset", "gdf", "weight_column"}
    assert len(CALLABLES) > 40


@pytest.mark.parametrize("qual", sorted(CALLABLES))
def test_parameters_follow_the_conventions(qual):
    assert convention_breaks(CALLABLES[qual], NAMES, RULED_OUT) == []


@pytest.mark.parametrize("qual", sorted(CALLABLES))
def test_docstring_lists_every_parameter(qual):
    assert undocumented(CALLABLES[qual]) == []


def test_weights_arrays_only_in_the_inequality_indices():
    takers = [q for q, f in CALLABLES.items() if "weights" in inspect.signature(f).parameters]
    assert takers and all(q.startswith(("inequality.", "theil_decomposition")) for q in takers)


def test_the_checks_would_catch_a_break():
    def bad(bset, gdf, tolerance_m2=1.0, *, colour="red"):
        """Bad.

        Parameters
        ----------
        bset : BoundarySet
            The set.
        """

    assert convention_breaks(bad, NAMES, RULED_OUT) == [
        "bset: ruled out",
        "gdf: ruled out",
        "tolerance_m2: an option, but not keyword-only",
        "colour: not in the conventions table",
    ]
    assert undocumented(bad) == ["gdf", "tolerance_m2", "colour"]


@pytest.fixture(scope="module")
def example_set():
    return lg.read_boundaries(PAGE.parents[1] / "boundaries" / "example-city")


MEASURING = re.findall(r"`(\w+(?:\.\w+)?)`", _section("Measuring").split("given a CRS")[0])


def test_the_functions_that_measure_take_crs():
    assert {"best_fit", "aggregate", "imd_summary", "find_gaps", "find_overlaps"} <= set(MEASURING)
    for qual in MEASURING:
        if qual == "crs":
            continue
        p = inspect.signature(CALLABLES[qual]).parameters.get("crs")
        assert p is not None and p.kind is inspect.Parameter.KEYWORD_ONLY, qual


def test_crs_reprojects_on_request_and_the_error_says_so(example_set):
    small = example_set["small_area"]
    degrees = small.to_crs(4326)
    for check in (lg.find_gaps, lg.find_overlaps):
        with pytest.raises(LocalityGeoError, match="pass crs="):
            check(degrees)
        assert check(degrees, crs=27700).crs.to_epsg() == 27700
    data = small.drop(columns="geometry").set_index("code")[["population"]]
    wards = example_set["ward"]
    with pytest.raises(LocalityGeoError, match="pass crs="):
        lg.aggregate(data, degrees, wards.to_crs(4326), extensive=["population"])
    measured = lg.aggregate(
        data, degrees, wards.to_crs(4326), extensive=["population"], crs="EPSG:27700"
    )
    direct = lg.aggregate(data, small, wards, extensive=["population"])
    np.testing.assert_allclose(measured["population"], direct["population"], rtol=1e-9)


def test_renamed_keywords_still_work_and_warn(example_set):
    nb, ward = example_set["neighbourhood"], example_set["ward"]
    new = lg.best_fit(nb, ward, blocks=example_set["small_area"], weight="population")
    with pytest.warns(DeprecationWarning, match="weight_column"):
        old = lg.best_fit(nb, ward, weights=example_set["small_area"], weight_column="population")
    assert new.equals(old)
    with pytest.warns(DeprecationWarning, match="bset"):
        lg.realign(bset=example_set, layer="neighbourhood", to="ward")
    with pytest.raises(TypeError, match="both"), warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        lg.working_crs(layer=nb, gdf=nb)


WRITERS = re.findall(r"`((?:maps\.)?(?:write_\w+|save))`", _section("Results"))


def test_writers_return_the_path_written():
    from localitygeo.changes import report

    found = {
        **CALLABLES,
        "write_impact": report.write_impact,
        "write_impacts": report.write_impacts,
    }
    assert {"write_boundaries", "write_csv", "maps.save", "write_impact"} <= set(WRITERS)
    # and every public writer is on the page
    assert {q for q in CALLABLES if q.rsplit(".", 1)[-1].startswith("write_")} <= set(WRITERS)
    for qual in WRITERS:
        returned = str(inspect.signature(found[qual]).return_annotation)
        assert "Path" in returned, (qual, returned)
