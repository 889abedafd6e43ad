"""Load and write: layers, indicator tables, boundary-set files and outputs.

Modules
-------
layers
    :func:`read_layer`: one polygon layer from any file councils have.
manifest
    :func:`read_boundaries`: a boundary set from its ``boundaries.toml``.
manifest_write
    :func:`write_manifest`: a ``boundaries.toml`` for layer files where
    they are (``localitygeo init``).
measurable
    :func:`read_measurable`: layers read into one projected CRS, each
    reprojected (and its validity checked) while the next is read.
tables
    :func:`read_indicators`: small-area figures from CSV or Excel.
export, safecsv, outputs, atomic, pdf
    Writing boundary sets, CSV safe for spreadsheets, report files (always
    atomically) and PDFs through headless Chromium.
file_types, coordinates, crs_area, numbers, terminal, toml_read, toml_write
    Helpers of this stage: what a file is, what its coordinates are, how
    numbers and text are written safely.
example_city, example_files
    The generated example city that ships in ``boundaries/``.
"""

from __future__ import annotations

from typing import Any

__all__ = ["read_layer"]


def __getattr__(name: str) -> Any:
    # ``localitygeo.io.read_layer`` was the path before the stage layout.
    if name == "read_layer":
        from localitygeo.io.layers import read_layer

        return read_layer
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
