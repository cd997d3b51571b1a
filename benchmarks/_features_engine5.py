"""Five representative features with the engine (run by bench_features.py).

Usage: _features_engine5.py HOME AS_OF OUT REF [REF ...]
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

from credit_engine.config import Settings
from credit_engine.features import (
    LakeSources,
    build_feature_frame,
    enterprise_spine,
    load_definitions,
)


def main() -> None:
    home, as_of, out = (
        Path(sys.argv[1]),
        dt.date.fromisoformat(sys.argv[2]),
        sys.argv[3],
    )
    settings = Settings(home=home)
    defs = load_definitions(settings.definitions_dir)
    sources = LakeSources.from_settings(settings, defs.contracts)
    spine = enterprise_spine(sources, defs, [as_of])
    resolved = defs.resolve_features(sys.argv[4:])
    frame = build_feature_frame(spine, resolved, definitions=defs, sources=sources)
    frame.to_parquet(out)


if __name__ == "__main__":
    main()
