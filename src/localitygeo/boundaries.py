"""Boundary sets: the layers of one council and how they should nest.

A boundary set is a folder (``boundaries/<set>/``) holding a manifest,
``boundaries.toml``, and the layer files it names::

    name = "Example"
    crs = "EPSG:27700"            # working CRS for measurement
    [layers.ward]
    path = "wards.geojson"        # relative to the manifest, or absolute
    code = "WD13CD"
    name = "WD13NM"               # optional
    layer = "..."                 # optional, for multi-layer files
    indicators.imd_rank = { label = "IMD rank", higher_is = "better" }   # optional
    [[nesting]]
    child = "neighbourhood"
    parent = "ward"
    tolerance = 0.01
    by = "area"                   # or "blocks" (ONS-style best fit of the child's blocks)
    [checks]
    gap_tolerance_m2 = 1.0
    overlap_tolerance_m2 = 1.0

:func:`read_boundaries` reads the manifest and every layer, reprojects each
layer to the working CRS (recording that it did so in
:attr:`BoundarySet.notes`) and returns a :class:`BoundarySet`.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from localitygeo._tomlread import brief, flag, number, read_toml, text, unknown_keys
from localitygeo.errors import CRSError, InputError, LocalityGeoWarning, ManifestError
from localitygeo.indicators import manifest_indicators

if TYPE_CHECKING:
    import geopandas as gpd
    from pyproj import CRS

    from localitygeo.blocks import BlockSpec

__all__ = [
    "MANIFEST_NAME",
    "NESTING_BASES",
    "BoundarySet",
    "Checks",
    "LayerSpec",
    "NestingRule",
    "read_boundaries",
    "read_manifest",
]

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

#: How a nesting rule judges whether a child unit lies in one parent.
NESTING_BASES = ("area", "blocks")

Basis = Literal["area", "blocks"]
_CHECK_KEYS = {"gap_tolerance_m2", "overlap_tolerance_m2"}


@dataclass(frozen=True)
class LayerSpec:
    """How to read one layer of a boundary set.

    Attributes
    ----------
    key : str
        The layer's name in the manifest (``ward``, ``neighbourhood``...).
    path : pathlib.Path
        The file, resolved against the manifest's folder.
    code : str
        Column holding the unique code.
    name : str or None
        Column holding the unit's name.
    layer : str or None
        Layer inside a multi-layer file.
    engine : str
        ``"pyogrio"`` or ``"fiona"``.
    crs_in : str or None
        CRS to assume when the file declares none (or declares one its
        coordinates contradict).
    check_crs : bool
        Check that the coordinates fit the CRS (see
        :mod:`localitygeo.coordinates`).
    title : str
        Human-readable name of the layer, for reports and maps.
    blocks : BlockSpec or None
        How the layer is built from a finer layer's blocks, if it is.
    indicators : dict
        What the manifest says of the layer's attribute columns: by column,
        its ``label`` and ``higher_is`` (``"worse"`` or ``"better"``), for
        maps' legends and colours.
    """

    key: str
    path: Path
    code: str
    name: str | None = None
    layer: str | None = None
    engine: Literal["pyogrio", "fiona"] = "pyogrio"
    crs_in: str | None = None
    check_crs: bool = True
    title: str = ""
    blocks: BlockSpec | None = None
    indicators: Mapping[str, Mapping[str, str]] = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class NestingRule:
    """A rule that every unit of ``child`` lies in one unit of ``parent``.

    Attributes
    ----------
    child, parent : str
        Layer keys.
    tolerance : float
        Largest share of a child allowed outside its best parent: of its area
        (``by="area"``), or of its blocks' population or area
        (``by="blocks"``).
    severity : str
        ``"error"`` (default) or ``"warning"``.
    by : str
        ``"area"`` (default): a child's share in a parent is the share of its
        area there. ``"blocks"``: the child must be built from blocks; each
        of its finest blocks counts wholly towards its own best-fit parent
        (by area), and the child's share in a parent is the share of its
        blocks' ``population`` there (of their area where the blocks layer
        has no such column, or the child's blocks hold nobody), as ONS judges
        best fit. See :func:`localitygeo.judge_nesting`.
    population : str
        Column of the finest blocks weighting ``by="blocks"`` shares (default
        ``"population"``; naming a column the blocks lack is an error, while
        the default falls back to area with a note).
    """

    child: str
    parent: str
    tolerance: float = 0.01
    severity: str = "error"
    by: Basis = "area"
    population: str = "population"

    def __post_init__(self) -> None:
        """Refuse an unknown ``by``, naming the rule."""
        if self.by not in NESTING_BASES:
            raise ManifestError(
                f"nesting rule {self.id}: by must be one of {', '.join(NESTING_BASES)}, "
                f"not {self.by!r}"
            )

    @property
    def id(self) -> str:
        """Return ``"child->parent"``, the key of the rule's assignment table."""
        return f"{self.child}->{self.parent}"


@dataclass(frozen=True)
class Checks:
    """Tolerances of the coverage checks, in square metres."""

    gap_tolerance_m2: float = 1.0
    overlap_tolerance_m2: float = 1.0


@dataclass(frozen=True)
class BoundarySet:
    """The layers of one area and the nesting rules between them.

    Build one with :func:`read_boundaries` or :meth:`from_layers`. Treat it as
    immutable: operations that change boundaries return a new set.

    Attributes
    ----------
    name : str
        Human-readable name.
    crs : pyproj.CRS
        Working (projected) CRS every layer is held in.
    layers : dict of str to geopandas.GeoDataFrame
        Each layer with canonical ``code`` and ``name`` columns.
    nesting : tuple of NestingRule
        Rules to check.
    checks : Checks
        Coverage tolerances.
    specs : dict of str to LayerSpec
        How each layer was read (empty for in-memory sets).
    path : pathlib.Path or None
        The manifest, when read from disk.
    notes : tuple of str
        What was done on reading (reprojections), for reports.
    description : str
        Free text from the manifest.
    built_from : dict of str to str
        Layers built from blocks: built layer key -> blocks layer key. The
        blocks layer has a column named after the built layer holding each
        block's unit code.
    """

    name: str
    crs: CRS
    layers: Mapping[str, gpd.GeoDataFrame]
    nesting: tuple[NestingRule, ...] = ()
    checks: Checks = field(default_factory=Checks)
    specs: Mapping[str, LayerSpec] = field(default_factory=dict)
    path: Path | None = None
    notes: tuple[str, ...] = ()
    description: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)
    built_from: Mapping[str, str] = field(default_factory=dict)

    def __getitem__(self, key: str) -> gpd.GeoDataFrame:
        """Return layer ``key`` (raises ManifestError naming the layers that exist)."""
        try:
            return self.layers[key]
        except KeyError:
            raise ManifestError(
                f"no layer '{key}'; the set has: {', '.join(self.layers)}",
                path=self.path,
            ) from None

    def __repr__(self) -> str:
        """Summarise the set on one line."""
        parts = ", ".join(f"{k}: {len(v)}" for k, v in self.layers.items())
        return f"BoundarySet({self.name!r}, {parts}, crs={self.crs.to_string()})"

    @property
    def source(self) -> str:
        """Return the manifest path (or the set's name) for messages."""
        return str(self.path) if self.path else self.name

    def with_layers(self, **layers: gpd.GeoDataFrame) -> BoundarySet:
        """Return a copy with some layers replaced or added.

        Parameters
        ----------
        **layers : geopandas.GeoDataFrame
            New layers by key, in the set's CRS.

        Returns
        -------
        BoundarySet
            A new set; this one is unchanged.
        """
        for key, gdf in layers.items():
            if gdf.crs is None or not gdf.crs.equals(self.crs):
                raise CRSError(
                    f"layer is in {gdf.crs}, not the set's working CRS {self.crs.to_string()}",
                    layer=key,
                )
        return replace(self, layers={**self.layers, **layers})

    def with_blocks(self, layer: str, blocks: str, column: str | None = None) -> BoundarySet:
        """Return a copy in which ``layer`` is built from the units of ``blocks``.

        Parameters
        ----------
        layer, blocks : str
            Layer keys.
        column : str, optional
            Column of ``blocks`` holding each block's unit code (default:
            ``layer``). Without such a column each block goes to its
            best-fit unit by area.

        Returns
        -------
        BoundarySet
            A new set: the blocks layer carries the assignment in a column
            named ``layer`` and ``layer``'s geometry is the union of its
            blocks. This set is unchanged.
        """
        from localitygeo.blocks import BlockSpec, build_declared

        for key in (layer, blocks):
            self[key]
        specs = {layer: BlockSpec(layer=blocks, column=column)}
        frames, built, notes = build_declared(dict(self.layers), specs, self.source)
        return replace(
            self,
            layers=frames,
            built_from={**self.built_from, **built},
            notes=(*self.notes, *notes),
        )

    @classmethod
    def from_layers(
        cls,
        layers: Mapping[str, gpd.GeoDataFrame],
        *,
        nesting: list[NestingRule] | tuple[NestingRule, ...] = (),
        name: str = "in-memory boundary set",
        crs: Any = None,
        checks: Checks | None = None,
    ) -> BoundarySet:
        """Build a set from layers already in memory.

        Parameters
        ----------
        layers : mapping of str to geopandas.GeoDataFrame
            Layers with a ``code`` column (as from :func:`~localitygeo.read_layer`).
        nesting : sequence of NestingRule, optional
            Rules to check.
        name : str, optional
            Name for reports.
        crs : optional
            Working CRS. Layers in another CRS are reprojected to it and a note
            is recorded. Without it, every layer must be in one projected CRS.
        checks : Checks, optional
            Coverage tolerances.

        Returns
        -------
        BoundarySet
            A new set; the input frames are not modified.
        """
        from pyproj import CRS as _CRS

        from localitygeo.crs import ensure_projected, parse_crs

        if not layers:
            raise ManifestError("a boundary set needs at least one layer")
        notes: list[str] = []
        if crs is None:
            first = next(iter(layers.values()))
            ensure_projected(first, f"layer '{next(iter(layers))}'")
            target = _CRS.from_user_input(first.crs)
        else:
            target = parse_crs(crs)
        if not target.is_projected:
            raise CRSError(f"working CRS {target.to_string()} is not projected")
        out: dict[str, gpd.GeoDataFrame] = {}
        for key, gdf in layers.items():
            if "code" not in gdf.columns:
                raise ManifestError("layer has no 'code' column", layer=key)
            if gdf.crs is None:
                raise CRSError("layer has no CRS", layer=key)
            if not gdf.crs.equals(target):
                if crs is None:
                    raise CRSError(
                        f"layer is in {gdf.crs.to_string()} but the first layer is in "
                        f"{target.to_string()}; pass crs= to reproject explicitly",
                        layer=key,
                    )
                notes.append(
                    f"layer '{key}' reprojected from {gdf.crs.to_string()} to {target.to_string()}"
                )
                from localitygeo._reproject import to_crs

                gdf = to_crs(gdf, target)
            out[key] = gdf
        rules = tuple(nesting)
        for rule in rules:
            for k in (rule.child, rule.parent):
                if k not in out:
                    raise ManifestError(
                        f"nesting rule {rule.id} names unknown layer '{k}'; layers are: "
                        f"{', '.join(out)}"
                    )
        return cls(
            name=name,
            crs=target,
            layers=out,
            nesting=rules,
            checks=checks or Checks(),
            notes=tuple(notes),
        )


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
    from localitygeo.crs import parse_crs

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
        for req in ("path", "code"):
            if strings[req] is None:
                raise ManifestError(f"{where} needs '{req}' (a string)", path=p)
        crs_in = text(spec, "crs_in", where, p)
        _crs(crs_in, "crs_in", p, key)
        check_crs = flag(spec, "check_crs", True, where, p)
        file = Path(str(strings["path"]))
        layers[key] = LayerSpec(
            key=key,
            path=file if file.is_absolute() else p.parent / file,
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
            from localitygeo.blocks import parse_block_spec

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
    from localitygeo._profile import stage
    from localitygeo._reproject import to_crs
    from localitygeo.coordinates import check_coordinates
    from localitygeo.crs import working_crs
    from localitygeo.io import read_layer

    spec, p = read_manifest(path)
    frames: dict[str, gpd.GeoDataFrame] = {}
    notes: list[str] = []
    for key, ls in spec["layers"].items():
        # what reading did (a file's CRS label corrected by crs_in) goes in the notes
        with warnings.catch_warnings(record=True) as seen, stage(f"read {key}"):
            warnings.simplefilter("always", LocalityGeoWarning)
            frames[key] = read_layer(
                ls.path,
                code=ls.code,
                name=ls.name,
                layer=ls.layer,
                engine=ls.engine,
                crs=ls.crs_in,
                strict=False,
                label=key,
                check_crs=ls.check_crs,
            )
        for w in seen:
            if issubclass(w.category, LocalityGeoWarning):
                notes.append(str(w.message))
            else:
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    if spec["crs"] is None:
        first_key = next(iter(frames))
        target = working_crs(frames[first_key])
        notes.append(f"no crs in the manifest: measuring in {target.to_string()}")
    else:
        target = spec["crs"]
    for key, gdf in list(frames.items()):
        if not gdf.crs.equals(target):
            notes.append(
                f"layer '{key}' reprojected from {gdf.crs.to_string()} to {target.to_string()}"
            )
            with stage(f"reproject {key}"):
                frames[key] = to_crs(gdf, target)
            check_coordinates(
                frames[key], p, key, check_crs=spec["layers"][key].check_crs, working=True
            )
    block_specs = {k: ls.blocks for k, ls in spec["layers"].items() if ls.blocks is not None}
    built_from: dict[str, str] = {}
    if block_specs:
        from localitygeo.blocks import build_declared

        frames, built_from, built_notes = build_declared(frames, block_specs, str(p))
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
