"""Array aliases of the simulator.

The simulator is numerical code over NumPy arrays whose dtypes NumPy's stubs
cannot track through indexing and ``np.where``; the aliases name the intended
dtype for readers while keeping mypy's strict mode useful elsewhere.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[Any]
"""Integer array (int64): indices, counts, day numbers, microseconds."""
FloatArray = npt.NDArray[Any]
"""Float array (float64): amounts, probabilities, drivers."""
BoolArray = npt.NDArray[Any]
"""Boolean array: masks and flags."""
ObjectArray = npt.NDArray[np.object_]
"""Array of Python objects (strings)."""
