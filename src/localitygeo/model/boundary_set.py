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

from collections.abc import ItemsView, Iterator, KeysView, Mapping, ValuesView
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from localitygeo.errors import CRSError, ManifestError

if TYPE_CHECKING:
    import geopandas as gpd
    from pyproj import CRS

    from localitygeo.model.blocks import BlockSpec

__all__ = [
    "NESTING_BASES",
    "BoundarySet",
    "Checks",
    "LayerSpec",
    "NestingRule",
]


#: How a nesting rule judges whether a child unit lies in one parent.
NESTING_BASES = ("area", "blocks")

Basis = Literal["area", "blocks"]


@dataclass(frozen=True)
class LayerSpec:
    """How to read one layer of a boundary set.

    Attributes
    ----------
    key : str
        The layer's name in the manifest (``ward``, ``neighbourhood``...).
    path : pathlib.Path or None
        The file, resolved against the manifest's folder; None for a layer
        built from blocks that has no file (its units come from a lookup or
        a column of its blocks).
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
        :mod:`localitygeo.io.coordinates`).
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
    path: Path | None
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

    It behaves as a read-only mapping of layer key to GeoDataFrame:
    ``"ward" in bset``, ``len(bset)``, ``for key in bset``, ``keys()``,
    ``values()``, ``items()`` and ``get()`` work as on a dict, and
    ``bset["nope"]`` raises :class:`~localitygeo.errors.ManifestError` naming
    the layers the set has.

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

    def __contains__(self, key: object) -> bool:
        """Return whether the set has a layer ``key``."""
        return key in self.layers

    def __iter__(self) -> Iterator[str]:
        """Iterate over the layer keys, in manifest order."""
        return iter(self.layers)

    def __len__(self) -> int:
        """Return the number of layers."""
        return len(self.layers)

    def keys(self) -> KeysView[str]:
        """Return the layer keys, as ``dict.keys()`` does."""
        return self.layers.keys()

    def values(self) -> ValuesView[gpd.GeoDataFrame]:
        """Return the layers, as ``dict.values()`` does."""
        return self.layers.values()

    def items(self) -> ItemsView[str, gpd.GeoDataFrame]:
        """Return ``(key, layer)`` pairs, as ``dict.items()`` does."""
        return self.layers.items()

    def get(self, key: str, default: Any = None) -> Any:
        """Return layer ``key``, or ``default`` when the set has no such layer.

        Parameters
        ----------
        key : str
            A layer key.
        default : optional
            What to return for an unknown key (``None``).
        """
        return self.layers.get(key, default)

    def __repr__(self) -> str:
        """Summarise the set on one line."""
        parts = ", ".join(f"{k}: {len(v)}" for k, v in self.layers.items())
        return f"BoundarySet({self.name!r}, {parts}, crs={self.crs.to_string()})"

    def file_of(self, layer: str) -> Path | None:
        """Return the file layer ``layer`` was read from (else the manifest), for messages.

        Parameters
        ----------
        layer : str
            A layer key.
        """
        spec = self.specs.get(layer)
        return spec.path if spec is not None and spec.path is not None else self.path

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

    def with_blocks(self, layer: str, blocks: str, *, column: str | None = None) -> BoundarySet:
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
        from localitygeo.model.blocks import BlockSpec, build_declared

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
            Layers with a ``code`` column (as from :func:`~localitygeo.read_layer`);
            one without a ``name`` column gets an empty one, as ``read_layer`` gives.
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

        from localitygeo.geometry.crs import ensure_projected, parse_crs

        if not layers:
            raise ManifestError("a boundary set needs at least one layer")
        notes: list[str] = []
        if crs is None:
            first = next(iter(layers.values()))
            ensure_projected(first, f"layer '{next(iter(layers))}'")
            target = _CRS.from_user_input(first.crs)
        else:
            target = parse_crs(crs, projected=True)
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
                from localitygeo.geometry.projection import to_crs

                gdf = to_crs(gdf, target)
            out[key] = gdf if "name" in gdf.columns else gdf.assign(name=None)  # as read_layer
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


# A read-only mapping of layer key -> GeoDataFrame (its methods are above; the
# dataclass keeps its own equality, so it is registered rather than subclassed).
Mapping.register(BoundarySet)
