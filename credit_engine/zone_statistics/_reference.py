"""Reference data of the zone statistics: district names, reported trade modes.

Both are reviewed data files under ``features/reference/`` (shipped with the
definitions), not code: ``districts.yaml`` names the administrative divisions
found in characters 3-8 of a USCC, ``trade_modes.yaml`` lists the customs
supervision modes reported one by one.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from credit_engine.exceptions import ReportError

__all__ = [
    "NO_MODE",
    "OTHER_MODE",
    "Name",
    "ZoneReference",
    "district_of",
    "district_sql",
    "load_reference",
]

OTHER_MODE = "other"
"""Label of the supervision modes not listed in ``trade_modes.yaml``."""

NO_MODE = "none"
"""Main mode of an enterprise without declarations in the last 365 days."""

_REFERENCE = ("features", "reference")


class Name(BaseModel):
    """Chinese and English display name of a code."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)


class _Districts(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int = Field(ge=1)
    source: str
    districts: dict[str, Name]


class _TradeModes(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int = Field(ge=1)
    trade_modes: dict[str, Name]


class ZoneReference(BaseModel):
    """District names and reported trade modes.

    Parameters
    ----------
    districts : dict of str to Name
        6-digit division code to its names.
    trade_modes : dict of str to Name
        Supervision modes reported one by one, in report order.

    Examples
    --------
    >>> ref = ZoneReference(districts={"350203": Name(zh="思明区", en="Siming")})
    >>> ref.district_name("350203"), ref.district_name("110105")
    ('思明区 Siming', '110105')
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    districts: dict[str, Name] = Field(default_factory=dict)
    trade_modes: dict[str, Name] = Field(default_factory=dict)

    def district_name(self, code: str) -> str:
        """Return ``"<zh> <en>"`` of a district, or the code itself if unlisted."""
        name = self.districts.get(code)
        return f"{name.zh} {name.en}" if name is not None else code

    def mode_name(self, code: str) -> str:
        """Return the English name of a reported mode (``code`` if unlisted)."""
        name = self.trade_modes.get(code)
        if name is not None:
            return name.en
        return "other modes" if code == OTHER_MODE else code

    @property
    def mode_labels(self) -> tuple[str, ...]:
        """The reported modes in order, then :data:`OTHER_MODE`."""
        return (*self.trade_modes, OTHER_MODE)


def district_of(uscc: str) -> str:
    """Return characters 3-8 of a USCC: the registering authority's division.

    Examples
    --------
    >>> district_of("913502038693132859")
    '350203'
    """
    return uscc[2:8]


def district_sql(column: str) -> str:
    """Return SQL of :func:`district_of` on a USCC column (strings count from 1).

    Examples
    --------
    >>> district_sql("d.uscc")
    'substr(d.uscc, 3, 6)'
    """
    return f"substr({column}, 3, 6)"


def _read(path: Path) -> object:
    import yaml

    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ReportError(
            f"Cannot read the reference file {path} ({exc}); it ships with the "
            "definitions (features/reference/); restore it or point "
            "CREDIT_ENGINE_DEFINITIONS_DIR at a complete definitions folder."
        ) from exc
    except yaml.YAMLError as exc:
        raise ReportError(f"{path} is not valid YAML: {exc}") from exc


def load_reference(definitions_dir: Path) -> ZoneReference:
    """Load ``features/reference/districts.yaml`` and ``trade_modes.yaml``.

    Parameters
    ----------
    definitions_dir : pathlib.Path
        The definitions folder (``Settings.definitions_dir``).

    Returns
    -------
    ZoneReference

    Raises
    ------
    ReportError
        If a file is missing or malformed, or a code is not 6 digits (district)
        or 4 digits (trade mode).
    """
    folder = Path(definitions_dir).joinpath(*_REFERENCE)
    try:
        districts = _Districts.model_validate(_read(folder / "districts.yaml"))
        modes = _TradeModes.model_validate(_read(folder / "trade_modes.yaml"))
    except ValidationError as exc:
        raise ReportError(f"Invalid reference data under {folder}: {exc}") from exc
    bad = [c for c in districts.districts if not (len(c) == 6 and c.isdigit())]
    bad += [c for c in modes.trade_modes if not (len(c) == 4 and c.isdigit())]
    if bad:
        raise ReportError(
            f"Reference codes {bad[:5]} under {folder} are malformed: districts "
            "are 6-digit GB/T 2260 codes and trade modes 4-digit supervision "
            'modes, written as quoted strings (e.g. "350203", "0110").'
        )
    return ZoneReference(districts=districts.districts, trade_modes=modes.trade_modes)
