"""Frozen development distribution of each feature, for its CSI.

:class:`FeatureReference` holds the bins (numeric) or categories and the
development shares of one feature, missing values apart;
:func:`build_feature_references` freezes them from a development frame so that
training can store them with the model (:meth:`FeatureReference.to_json_dict`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import numpy.typing as npt

from credit_engine.exceptions import ConfigurationError
from credit_engine.jsonable import to_jsonable
from credit_engine.validation import freeze_bins

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["FeatureReference", "build_feature_references"]

_SHARE_TOLERANCE = 1e-6
"""How far shares may sum from one (rounding in stored JSON)."""


def _float(value: Any) -> float:
    """Read a number stored by :func:`to_jsonable` ("inf" / "-inf" included)."""
    return float(value)


@dataclass(frozen=True)
class FeatureReference:
    """Frozen development distribution of one feature, for its CSI.

    Parameters
    ----------
    name : str
        Feature (column) name.
    kind : {"numeric", "categorical"}
        Numeric features are binned on ``edges``; categorical ones count
        ``categories`` (a label not seen in development falls in an "other" bin
        whose development share is 0).
    edges : tuple of float
        Numeric only: strictly increasing bin edges with infinite ends (from
        :func:`~credit_engine.validation.freeze_bins`); bin ``i`` is
        ``edges[i] <= x < edges[i + 1]``. Empty for categorical features.
    categories : tuple of str
        Categorical only: the development labels. Empty for numeric features.
    shares_dev : tuple of float
        Share of all development rows in each bin (numeric) or category.
    missing_share_dev : float
        Share of development rows with a missing value (their own bin);
        ``sum(shares_dev) + missing_share_dev == 1``.

    Raises
    ------
    ValueError
        If the pieces do not fit together (lengths, order, shares).

    Examples
    --------
    >>> ref = FeatureReference.numeric("age", edges=(-np.inf, 5.0, np.inf),
    ...                                shares_dev=(0.5, 0.4), missing_share_dev=0.1)
    >>> ref.n_bins, ref.kind
    (2, 'numeric')
    >>> FeatureReference.from_json_dict(ref.to_json_dict()) == ref
    True
    """

    name: str
    kind: Literal["numeric", "categorical"]
    edges: tuple[float, ...]
    categories: tuple[str, ...]
    shares_dev: tuple[float, ...]
    missing_share_dev: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "edges", tuple(float(e) for e in self.edges))
        object.__setattr__(self, "categories", tuple(str(c) for c in self.categories))
        object.__setattr__(self, "shares_dev", tuple(float(s) for s in self.shares_dev))
        object.__setattr__(self, "missing_share_dev", float(self.missing_share_dev))
        problems = self._problems()
        if problems:
            raise ValueError(
                f"FeatureReference {self.name!r} is inconsistent: "
                + "; ".join(problems)
                + ". Build it with build_feature_references on the development frame."
            )

    def _problems(self) -> list[str]:
        out = []
        if self.kind == "numeric":
            e = np.asarray(self.edges)
            if e.size < 2 or np.isnan(e).any() or not (np.diff(e) > 0).all():
                out.append(f"edges must be >= 2 increasing numbers, got {self.edges}")
            if self.categories:
                out.append("a numeric feature has no categories")
            if len(self.shares_dev) != max(e.size - 1, 0):
                out.append(
                    f"{len(self.shares_dev)} shares for {e.size - 1} bins "
                    f"(edges {len(self.edges)})"
                )
        elif self.kind == "categorical":
            if self.edges:
                out.append("a categorical feature has no edges")
            if len(set(self.categories)) != len(self.categories):
                out.append(f"categories repeat: {self.categories[:10]}")
            if len(self.shares_dev) != len(self.categories):
                out.append(
                    f"{len(self.shares_dev)} shares for "
                    f"{len(self.categories)} categories"
                )
        else:
            out.append(f"kind must be 'numeric' or 'categorical', got {self.kind!r}")
        shares = [*self.shares_dev, self.missing_share_dev]
        if any(math.isnan(s) or s < 0 for s in shares):
            out.append(f"shares must be non-negative numbers, got {shares[:10]}")
        elif abs(sum(shares) - 1.0) > _SHARE_TOLERANCE:
            out.append(f"shares and the missing share sum to {sum(shares)}, not 1")
        return out

    @classmethod
    def numeric(
        cls,
        name: str,
        *,
        edges: Sequence[float],
        shares_dev: Sequence[float],
        missing_share_dev: float,
    ) -> FeatureReference:
        """Build a numeric reference (see the class for the parameters)."""
        return cls(
            name, "numeric", tuple(edges), (), tuple(shares_dev), missing_share_dev
        )

    @classmethod
    def categorical(
        cls,
        name: str,
        *,
        categories: Sequence[str],
        shares_dev: Sequence[float],
        missing_share_dev: float,
    ) -> FeatureReference:
        """Build a categorical reference (see the class for the parameters)."""
        return cls(
            name,
            "categorical",
            (),
            tuple(categories),
            tuple(shares_dev),
            missing_share_dev,
        )

    @property
    def n_bins(self) -> int:
        """Bins (numeric) or categories, without the missing bin."""
        return len(self.shares_dev)

    def to_json_dict(self) -> dict[str, Any]:
        """Return the reference as JSON data (infinite edges as "inf" / "-inf")."""
        out: dict[str, Any] = to_jsonable(self, where=f"feature {self.name}")
        return out

    @classmethod
    def from_json_dict(cls, data: Mapping[str, Any]) -> FeatureReference:
        """Read a reference written by :meth:`to_json_dict`.

        Raises
        ------
        ConfigurationError
            If a key is missing or the pieces do not fit together.
        """
        try:
            return cls(
                name=str(data["name"]),
                kind=data["kind"],
                edges=tuple(_float(e) for e in data["edges"]),
                categories=tuple(str(c) for c in data["categories"]),
                shares_dev=tuple(_float(s) for s in data["shares_dev"]),
                missing_share_dev=_float(data["missing_share_dev"]),
            )
        except KeyError as exc:
            raise ConfigurationError(
                f"A stored feature reference lacks the key {exc.args[0]!r}; it needs "
                "name, kind, edges, categories, shares_dev and missing_share_dev."
            ) from None
        except ValueError as exc:
            raise ConfigurationError(str(exc)) from None


def _category_labels(
    series: pd.Series,
) -> tuple[npt.NDArray[np.object_], npt.NDArray[np.bool_]]:
    """Return labels as str objects and the mask of missing values."""
    import pandas as pd

    missing = np.asarray(series.isna(), dtype=bool)
    labels = series.astype(object).where(~pd.Series(missing, index=series.index), "")
    return labels.astype(str).to_numpy(dtype=object), missing


def _is_numeric(series: pd.Series) -> bool:
    import pandas as pd

    return bool(
        pd.api.types.is_numeric_dtype(series.dtype)
        and not pd.api.types.is_bool_dtype(series.dtype)
    )


def build_feature_references(
    frame: pd.DataFrame, *, n_bins: int, columns: Iterable[str] | None = None
) -> tuple[FeatureReference, ...]:
    """Freeze the development distribution of each feature of ``frame``.

    Numeric columns (booleans excepted) get quantile bins from
    :func:`~credit_engine.validation.freeze_bins`; other columns are taken as
    categories, one bin each. Missing values get a bin of their own.

    Parameters
    ----------
    frame : pandas.DataFrame
        Development rows, one column per feature.
    n_bins : int
        Quantile bins wanted per numeric feature (the model's validation policy
        ``n_score_bins``); fewer come out when quantiles tie.
    columns : iterable of str or None, default=None
        Features to freeze; all columns when ``None``.

    Returns
    -------
    tuple of FeatureReference
        One per column, in column order.

    Raises
    ------
    ValueError
        If ``frame`` is empty or a column is missing.

    Examples
    --------
    >>> import pandas as pd
    >>> dev = pd.DataFrame({"x": [1.0, 2.0, 3.0, None], "c": ["a", "b", "a", "a"]})
    >>> x, c = build_feature_references(dev, n_bins=2)
    >>> x.edges, x.shares_dev, x.missing_share_dev
    ((-inf, 2.0, inf), (0.25, 0.5), 0.25)
    >>> c.categories, c.shares_dev
    (('a', 'b'), (0.75, 0.25))
    """
    names = [str(c) for c in (frame.columns if columns is None else columns)]
    unknown = [c for c in names if c not in frame.columns]
    if unknown:
        raise ValueError(
            f"Columns {unknown[:5]} are not in the development frame; it has "
            f"{[str(c) for c in frame.columns[:5]]}..."
        )
    rows = frame.shape[0]
    if rows == 0:
        raise ValueError("The development frame is empty; pass the development rows.")
    out = []
    for name in names:
        series = frame[name]
        if _is_numeric(series):
            values = series.to_numpy(dtype=np.float64, na_value=np.nan)
            edges = freeze_bins(values, n_bins)
            missing = np.isnan(values)
            index = np.searchsorted(edges, values[~missing], side="right") - 1
            counts = np.bincount(
                np.clip(index, 0, edges.size - 2), minlength=edges.size - 1
            )
            out.append(
                FeatureReference.numeric(
                    name,
                    edges=tuple(edges.tolist()),
                    shares_dev=tuple((counts / rows).tolist()),
                    missing_share_dev=float(missing.sum() / rows),
                )
            )
        else:
            labels, missing = _category_labels(series)
            categories, counts = np.unique(
                labels[~missing].astype(str), return_counts=True
            )
            out.append(
                FeatureReference.categorical(
                    name,
                    categories=tuple(categories.tolist()),
                    shares_dev=tuple((counts / rows).tolist()),
                    missing_share_dev=float(missing.sum() / rows),
                )
            )
    return tuple(out)
