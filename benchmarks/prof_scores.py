"""CPU per ``POST /v1/scores`` in process, with a cProfile of the server's work.

Runs the app through ``httpx.ASGITransport`` (no sockets, no uvicorn), an
``inspection_system`` key, the audit log on, ``--concurrency`` requests in
flight, each for another enterprise at the serving date (cycling through the
first ``--enterprises`` of the zone, default all: no enterprise is asked for
twice unless ``--requests`` exceeds them; ``bench_hardening.py`` asks for one
enterprise throughout). Prints wall and CPU time per request and the
top of the profile. Functions of ``importlib``/``find_spec`` in the profile
come from httpx's test transport, not from the server.

Usage::

    PYTHONPATH=$PWD nice -n -10 .venv/bin/python benchmarks/prof_scores.py \
        --home HOME [--requests 3000] [--concurrency 32] [--top 40]

``HOME`` is written to (an API key, audit entries): use a copy of a demo home.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import time
from pathlib import Path

import httpx

from credit_engine.api import create_app
from credit_engine.auth import KeyStore
from credit_engine.config import Settings
from credit_engine.store import OperationalStore


async def _run(  # noqa: PLR0913 - the script's options
    home: Path,
    requests: int,
    concurrency: int,
    top: int,
    enterprises: int | None,
    *,
    profiled: bool = True,
    dump: Path | None = None,
) -> None:
    settings = Settings(home=home)
    store = OperationalStore.from_settings(settings)
    store.create_schema()
    name = f"prof-{int(time.time())}"
    key = KeyStore(store).create(name, "inspection_system", created_by="prof")[1]
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            headers = {"Authorization": f"Bearer {key}"}
            usccs = sorted(app.state.services.scoring.state.usccs)[:enterprises]

            async def one(uscc: str) -> None:
                r = await c.post("/v1/scores", json={"uscc": uscc}, headers=headers)
                assert r.status_code == 200, r.text

            await asyncio.gather(*(one(u) for u in usccs[-100:]))  # warm-up
            gate = asyncio.Semaphore(concurrency)

            async def limited(uscc: str) -> None:
                async with gate:
                    await one(uscc)

            profile = cProfile.Profile()
            start, cpu = time.perf_counter(), time.process_time()
            if profiled:
                profile.enable()
            await asyncio.gather(
                *(limited(usccs[i % len(usccs)]) for i in range(requests))
            )
            if profiled:
                profile.disable()
            wall = time.perf_counter() - start
            cpu = time.process_time() - cpu
            per = 1000 / requests
            print(
                f"{requests} requests, {concurrency} in flight: per request "
                f"wall {wall * per:.2f} ms, CPU {cpu * per:.2f} ms "
                f"({'profiled' if profiled else 'not profiled'}), "
                f"{requests / wall:.0f} req/s"
            )
            if not profiled:
                return
            if dump is not None:
                profile.dump_stats(dump)
            stats = pstats.Stats(profile)
            stats.sort_stats("tottime").print_stats(top)
            stats.sort_stats("cumulative").print_stats("credit_engine", top)


def main() -> None:
    """Parse the arguments and profile."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--enterprises", type=int, default=None)
    parser.add_argument(
        "--no-profile",
        action="store_true",
        help="time without cProfile (CPU per request, for side-by-side runs)",
    )
    parser.add_argument("--dump", type=Path, help="write the pstats file here")
    args = parser.parse_args()
    asyncio.run(
        _run(
            args.home,
            args.requests,
            args.concurrency,
            args.top,
            args.enterprises,
            profiled=not args.no_profile,
            dump=args.dump,
        )
    )


if __name__ == "__main__":
    main()
