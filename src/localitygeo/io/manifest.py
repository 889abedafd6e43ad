"""Read a boundary set from its folder: the manifest, ``boundaries.toml``, and every layer it names.

The manifest's format is described in :mod:`localitygeo.model.boundary_set`;
:func:`read_manifest` checks it key by key (errors name the file and the key)
and :func:`read_boundaries` reads the layers into a :class:`BoundarySet`.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from localitygeo.errors import CRSError, InputError, LocalityGeoWarning, ManifestError
from localitygeo.io.tables import manifest_indicators
from localitygeo.io.toml_read import brief, flag, number, read_toml, text, unknown_keys
from localitygeo.model.boundary_set import (
    NESTING_BASES,
    Basis,
    BoundarySet,
    Checks,
    LayerSpec,
    NestingRule,
)

if TYPE_CHECKING:
    import geopandas as gpd
    from pyproj import CRS


__all__ = ["MANIFEST_NAME", "read_boundaries", "read_manifest"]


#: File name of a boundary set's manifest.
MANIFEST_NAME = "boundaries.toml"


_TOP_KEYS = {"name", "crs", "description", "layers", "nesting", "checks", "blocks"}


_LAYER_KEYS = {
    "path",
    "code",
    "name",
    "layer",
    "engine",
    "crs_in",
    "check_crs",
    "title",
    "blocks",
    "indicators",
}


_NEST_KEYS = {"child", "parent", "tolerance", "severity", "by", "population"}


_CHECK_KEYS = {"gap_tolerance_m2", "overlap_tolerance_m2"}


def _manifest_path(path: str | Path) -> Path:
    p = Path(path)
    if p.is_dir():
        p = p / MANIFEST_NAME
        if not p.exists():
            raise InputError(f"no {MANIFEST_NAME} in this folder", path=p.parent)
    elif not p.exists():
        raise InputError("boundary set not found", path=p)
    return p


def _crs(value: str | None, what: str, p: Path, layer: str | None = None) -> CRS | None:
    """Return the CRS a manifest names, raising ManifestError naming the key."""
    from localitygeo.geometry.crs import parse_crs

    if value is None:
        return None
    try:
        return parse_crs(value, what)
    except CRSError as exc:
        raise ManifestError(exc.message, path=p, layer=layer) from None


def _engine(value: Any, key: str, p: Path) -> Literal["pyogrio", "fiona"]:
    if value == "pyogrio":
        return "pyogrio"
    if value == "fiona":
        return "fiona"
    raise ManifestError(
        f"[layers.{key}] engine must be 'pyogrio' or 'fiona', not {value!r}", path=p
    )


def _nesting_basis(
    rule: dict[str, Any], where: str, layers: Mapping[str, LayerSpec], p: Path
) -> Basis:
    """Return a ``[[nesting]]`` table's ``by``; ``"blocks"`` needs a child built from blocks."""
    by = rule.get("by", "area")
    if by not in NESTING_BASES:
        raise ManifestError(
            f"{where} ({rule['child']}->{rule['parent']}): by must be one of "
            f"{', '.join(repr(b) for b in NESTING_BASES)}, not {by!r}",
            path=p,
        )
    if by == "blocks" and layers[rule["child"]].blocks is None:
        raise ManifestError(
            f'{where} ({rule["child"]}->{rule["parent"]}): by = "blocks" needs layer '
            f"'{rule['child']}' to be built from blocks (a blocks = ... key in "
            f'[layers.{rule["child"]}]); use by = "area" for a layer read as drawn',
            path=p,
        )
    return "blocks" if by == "blocks" else "area"


def _fileless(spec: Mapping[str, Any], where: str, p: Path) -> None:
    """Refuse keys about a file in a layer that has none (it is built from a lookup)."""
    about_file = sorted(set(spec) & {"code", "name", "layer", "engine", "crs_in", "check_crs"})
    if about_file:
        raise ManifestError(
            f"{where} has no path, so its units come from its blocks; "
            f"{', '.join(about_file)} would describe a file (names come from blocks' unit_name)",
            path=p,
        )


def _nonempty(value: Any, where: str, p: Path) -> str:
    if not isinstance(value, str) or not value:
        raise ManifestError(f"{where}: population must be a column name, not {value!r}", path=p)
    return value


def read_manifest(path: str | Path) -> tuple[dict[str, Any], Path]:
    """Parse and check a manifest without reading any layer.

    Parameters
    ----------
    path : str or pathlib.Path
        A boundary-set folder or its ``boundaries.toml``.

    Returns
    -------
    tuple
        ``(specification, manifest_path)`` where the specification has keys
        ``name``, ``crs`` (a :class:`pyproj.CRS` or None), ``description``,
        ``layers`` (dict of
        :class:`LayerSpec`), ``nesting`` (tuple of :class:`NestingRule`),
        ``checks`` (:class:`Checks`) and ``extra`` (unparsed extension tables).

    Raises
    ------
    InputError
        The folder or file does not exist.
    ManifestError
        The file is empty, binary, not UTF-8 or nested too deeply; TOML
        syntax errors (with line and column), missing or unknown keys, values
        of the wrong type (``title = 7``, ``name = ["x"]``), a CRS pyproj
        does not know or a geographic working CRS, nesting rules naming
        unknown layers, bad tolerances.
    """
    p = _manifest_path(path)
    raw = read_toml(p, ManifestError, "manifest")
    unknown_keys(set(raw), _TOP_KEYS, "the manifest", p)
    name = text(raw, "name", "the manifest's", p)
    description = raw.get("description", "")
    if not isinstance(description, str):
        raise ManifestError(f"description must be a string, not {brief(description)}", path=p)
    crs_text = text(raw, "crs", "the manifest's", p)
    working = _crs(crs_text, "crs", p)
    if working is not None and not working.is_projected:
        raise ManifestError(
            f"crs {crs_text!r} is geographic; the working CRS must be projected (e.g. EPSG:27700)",
            path=p,
        )
    layers_raw = raw.get("layers")
    if not isinstance(layers_raw, dict) or not layers_raw:
        raise ManifestError("no [layers.<name>] tables; a boundary set needs layers", path=p)
    layers: dict[str, LayerSpec] = {}
    for key, spec in layers_raw.items():
        if not isinstance(spec, dict):
            raise ManifestError(f"[layers.{key}] must be a table", path=p)
        unknown_keys(set(spec), _LAYER_KEYS, f"[layers.{key}]", p)
        where = f"[layers.{key}]"
        strings = {k: text(spec, k, where, p) for k in ("path", "code", "name", "layer", "title")}
        if strings["path"] is None and "blocks" in spec:  # only a lookup: units from blocks
            _fileless(spec, where, p)
            strings["code"] = "code"
        for req in ("path", "code"):
            if strings[req] is None and not (req == "path" and "blocks" in spec):
                raise ManifestError(f"{where} needs '{req}' (a string)", path=p)
        crs_in = text(spec, "crs_in", where, p)
        _crs(crs_in, "crs_in", p, key)
        check_crs = flag(spec, "check_crs", True, where, p)
        file = None if strings["path"] is None else Path(str(strings["path"]))
        layers[key] = LayerSpec(
            key=key,
            path=file if file is None or file.is_absolute() else p.parent / file,
            code=str(strings["code"]),
            name=strings["name"],
            layer=strings["layer"],
            engine=_engine(spec.get("engine", "pyogrio"), key, p),
            crs_in=crs_in,
            check_crs=check_crs,
            title=strings["title"] or key.replace("_", " "),
            indicators=manifest_indicators(spec.get("indicators"), where, p),
        )
    for key, spec in layers_raw.items():
        if "blocks" in spec:
            from localitygeo.model.blocks import parse_block_spec

            block_spec = parse_block_spec(spec["blocks"], key, p, set(layers))
            layers[key] = replace(layers[key], blocks=block_spec)
    rules: list[NestingRule] = []
    nesting_raw = raw.get("nesting", [])
    if not isinstance(nesting_raw, list):
        raise ManifestError("'nesting' must be an array of tables: [[nesting]]", path=p)
    for i, rule in enumerate(nesting_raw, start=1):
        where = f"[[nesting]] #{i}"
        if not isinstance(rule, dict):
            raise ManifestError(f"{where} must be a table", path=p)
        unknown_keys(set(rule), _NEST_KEYS, where, p)
        for req in ("child", "parent"):
            unit = rule.get(req)
            if not isinstance(unit, str) or unit not in layers:
                raise ManifestError(
                    f"{where}: {req} {brief(unit)} is not a layer; layers are: {', '.join(layers)}",
                    path=p,
                )
        severity = rule.get("severity", "error")
        if severity not in ("error", "warning"):
            raise ManifestError(f"{where}: severity must be 'error' or 'warning'", path=p)
        rules.append(
            NestingRule(
                child=rule["child"],
                parent=rule["parent"],
                tolerance=number(rule.get("tolerance", 0.01), f"{where} tolerance", p, upper=1),
                severity=severity,
                by=_nesting_basis(rule, where, layers, p),
                population=_nonempty(rule.get("population", "population"), where, p),
            )
        )
    checks_raw = raw.get("checks", {})
    if not isinstance(checks_raw, dict):
        raise ManifestError("[checks] must be a table", path=p)
    unknown_keys(set(checks_raw), _CHECK_KEYS, "[checks]", p)
    checks = Checks(**{k: number(v, f"[checks] {k}", p) for k, v in checks_raw.items()})
    spec_out = {
        "name": name or p.parent.name,
        "crs": working,
        "description": description,
        "layers": layers,
        "nesting": tuple(rules),
        "checks": checks,
        "extra": {k: raw[k] for k in ("blocks",) if k in raw},
    }
    return spec_out, p


def read_boundaries(path: str | Path) -> BoundarySet:
    """Read a boundary set: its manifest and every layer it names.

    Parameters
    ----------
    path : str or pathlib.Path
        The set's folder or its ``boundaries.toml``.

    Returns
    -------
    BoundarySet
        Layers in the working CRS (the manifest's ``crs``, or, when absent, the
        one :func:`localitygeo.working_crs` picks from the first layer). Every
        reprojection is recorded in :attr:`BoundarySet.notes`. Layers are read
        with ``strict=False`` so that :func:`localitygeo.validate` can report
        missing or duplicate codes and empty geometries as findings.

    Raises
    ------
    LocalityGeoError
        Any :class:`ManifestError`, :class:`InputError`, :class:`CRSError` or
        :class:`GeometryError` met while reading; messages name the manifest,
        the layer and the file.
    """
    spec, p = read_manifest(path)
    frames, target, notes = _read_layers(spec, p)
    block_specs = {k: ls.blocks for k, ls in spec["layers"].items() if ls.blocks is not None}
    built_from: dict[str, str] = {}
    if block_specs:
        from localitygeo.model.blocks import build_declared

        frames, built_from, built_notes = build_declared(frames, block_specs, str(p))
        frames = {key: frames[key] for key in spec["layers"]}  # layers without a file too
        notes.extend(built_notes)
    return BoundarySet(
        name=spec["name"],
        crs=target,
        layers=frames,
        nesting=spec["nesting"],
        checks=spec["checks"],
        specs=spec["layers"],
        path=p,
        notes=tuple(notes),
        description=spec["description"],
        extra=spec["extra"],
        built_from=built_from,
    )


def _read_layers(
    spec: dict[str, Any], p: Path
) -> tuple[dict[str, gpd.GeoDataFrame], Any, list[str]]:
    """Read a manifest's layers into its working CRS: (frames in its order, CRS, notes).

    Layers are reprojected in two workers while the next are read
    (:func:`~localitygeo.io.measurable.read_beside`), the largest file first
    where the manifest names its CRS, so that its reprojection runs beside
    the other reads and reprojections. Notes and frames keep the manifest's
    order; if a read fails, the layers are read again in that order, so that
    the error is the first layer's, as it would be one after the other.
    """
    from localitygeo.io.coordinates import check_coordinates
    from localitygeo.io.geoparquet import DecodedLayer, read_decoded
    from localitygeo.io.measurable import read_beside

    layers = {k: ls for k, ls in spec["layers"].items() if ls.path is not None}
    order = list(layers)
    if spec["crs"] is not None:  # otherwise the first layer picks the CRS
        order.sort(key=lambda k: -_file_size(layers[k].path))
    read_notes: dict[str, list[str]] = {}

    def one(key: str) -> gpd.GeoDataFrame | DecodedLayer:
        ls = layers[key]
        # what reading did (a file's CRS label corrected by crs_in) goes in the notes
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always", LocalityGeoWarning)
            gdf = read_decoded(
                ls.path,
                code=ls.code,
                name=ls.name,
                layer=ls.layer,
                engine=ls.engine,
                assume_crs=ls.crs_in,
                strict=False,
                label=key,
                check_crs=ls.check_crs,
            )
        read_notes[key] = []
        for w in seen:
            if issubclass(w.category, LocalityGeoWarning):
                read_notes[key].append(str(w.message))
            else:
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        return gdf

    def check(key: str, out: gpd.GeoDataFrame) -> None:
        check_coordinates(out, p, key, check_crs=layers[key].check_crs, working=True)

    def first_failure() -> None:  # the first failing layer in the manifest's order
        for key in layers:
            one(key)

    # one thread each: two layers are reprojected at once, beside the reads
    got, target, moved = read_beside(
        order, one, spec["crs"], threads=1, check=check, on_read_error=first_failure
    )
    notes = [n for key in layers for n in read_notes[key]]
    if spec["crs"] is None:
        notes.append(f"no crs in the manifest: measuring in {target.to_string()}")
    notes += [
        f"layer '{key}' reprojected from {moved[key].to_string()} to {target.to_string()}"
        for key in layers
        if key in moved
    ]
    return {key: got[key] for key in layers}, target, notes


def _file_size(path: Any) -> int:
    try:
        return Path(path).stat().st_size
    except (OSError, TypeError, ValueError):
        return 0
