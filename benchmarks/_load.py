"""Load generator (runs as its own process): open loop at a fixed rate, or closed loop.

Open loop: requests start on a fixed schedule (``--rate`` per second) whatever
the server does, and latency is measured from the scheduled start, so a slow
server cannot hide its queueing (no coordinated omission). Closed loop:
``--concurrency`` clients send back to back; the throughput is what the server
sustains. Prints one JSON line with the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import statistics
import time
from pathlib import Path

import aiohttp


def _summary(latencies: list[float], errors: int, seconds: float) -> dict[str, float]:
    ordered = sorted(latencies)

    def q(p: float) -> float:
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000

    return {
        "requests": len(latencies) + errors,
        "errors": errors,
        "seconds": round(seconds, 1),
        "rps": round(len(latencies) / seconds, 1),
        "p50_ms": round(q(0.50), 2),
        "p90_ms": round(q(0.90), 2),
        "p99_ms": round(q(0.99), 2),
        "max_ms": round(max(ordered) * 1000, 2) if ordered else float("nan"),
        "mean_ms": round(statistics.fmean(ordered) * 1000, 2)
        if ordered
        else float("nan"),
    }


async def _post(
    client: aiohttp.ClientSession, args: argparse.Namespace, body: bytes
) -> bool:
    try:
        request = (
            client.get(args.path)
            if args.method == "GET"
            else client.post(args.path, data=body)
        )
        async with request as r:
            await r.read()
            return r.status == 200
    except (aiohttp.ClientError, TimeoutError):
        return False


async def _open_loop(client: aiohttp.ClientSession, args: argparse.Namespace) -> dict:
    body = args.body.encode()
    latencies: list[float] = []
    trace: list[tuple[float, float]] = []
    errors = 0
    total = int(args.rate * args.duration)
    start = time.perf_counter() + 0.2

    async def one(at: float) -> None:
        nonlocal errors
        await asyncio.sleep(max(0.0, at - time.perf_counter()))
        if await _post(client, args, body):
            latencies.append(time.perf_counter() - at)
            trace.append((at, latencies[-1]))
        else:
            errors += 1

    await asyncio.gather(*(one(start + i / args.rate) for i in range(total)))
    if args.trace:
        # Each request's scheduled start (s from the first, and on the
        # system's monotonic clock, which time.perf_counter reads in every
        # process: to line up with a server-side trace) and latency (ms), to
        # see when the slow ones happen (periodic stalls, a reload ...).
        lines = (
            f"{at - start:.4f},{at:.6f},{1000 * lat:.3f}" for at, lat in sorted(trace)
        )
        Path(args.trace).write_text(
            "at_s,monotonic_s,latency_ms\n" + "\n".join(lines) + "\n"
        )
    return _summary(latencies, errors, time.perf_counter() - start)


async def _closed_loop(client: aiohttp.ClientSession, args: argparse.Namespace) -> dict:
    body = args.body.encode()
    latencies: list[float] = []
    errors = 0
    end = time.perf_counter() + args.duration

    async def worker() -> None:
        nonlocal errors
        while time.perf_counter() < end:
            t = time.perf_counter()
            if await _post(client, args, body):
                latencies.append(time.perf_counter() - t)
            else:
                errors += 1

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(args.concurrency)))
    return _summary(latencies, errors, time.perf_counter() - start)


async def _main(args: argparse.Namespace) -> None:
    headers = {"content-type": "application/json"}
    for h in args.header or []:
        k, _, v = h.partition(":")
        headers[k.strip()] = v.strip()
    connector = aiohttp.TCPConnector(limit=64)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(
        base_url=args.url, headers=headers, connector=connector, timeout=timeout
    ) as client:
        body = args.body.encode()
        for _ in range(args.warmup):
            await _post(client, args, body)
        run = _open_loop if args.mode == "open" else _closed_loop
        # The client's own full collections (the open loop holds thousands of
        # scheduled requests) stalled it for 15-60 ms early in a run, and
        # every request in flight then counted that stall as the server's
        # latency. The run is bounded: collect nothing while it lasts.
        gc.collect()
        gc.freeze()
        gc.disable()
        try:
            print(json.dumps(await run(client, args)))
        finally:
            gc.enable()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--path", required=True)
    parser.add_argument("--body", default="{}")
    parser.add_argument("--method", choices=["GET", "POST"], default="POST")
    parser.add_argument("--header", action="append")
    parser.add_argument("--mode", choices=["open", "closed"], default="open")
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--duration", type=float, default=60)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument(
        "--trace", help="open loop: write each request's start and latency (CSV)"
    )
    asyncio.run(_main(parser.parse_args()))


if __name__ == "__main__":
    main()
