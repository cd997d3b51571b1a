"""``python -m credit_engine.cli``: the same as the ``credit-engine`` script."""

from __future__ import annotations

from credit_engine.cli import main

if __name__ == "__main__":  # pragma: no cover
    main()
