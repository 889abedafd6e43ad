"""Types shared by the modules of the area engine."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy.typing as npt

__all__ = ["Array", "NonFiniteError", "Progress"]

Array = npt.NDArray[Any]
Progress = Callable[[int, int], None]


class NonFiniteError(ValueError):
    """A geometry has a NaN or infinite coordinate (GEOS calls it invalid)."""
