"""Per-key limits (429 + Retry-After) and the heavy pool (issue 14)."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading

import pytest
from fastapi.testclient import TestClient

from credit_engine.api import create_app
from credit_engine.api._heavy import HeavyPool
from credit_engine.api._limits import DEFAULT_LIMITS, KeyLimits
from credit_engine.auth import ApiKeyInfo, KeyStore, Role
from credit_engine.config import RoleLimits, Settings
from credit_engine.exceptions import RateLimitedError, ServiceUnavailableError
from credit_engine.store import OperationalStore

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
USCC = "91350200MA2Y0K3Q0N"


def key(key_id: int, role: Role = Role.INSPECTION_SYSTEM) -> ApiKeyInfo:
    return ApiKeyInfo(key_id, f"k{key_id}", role, "ce_abcde", T0, "admin")


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def limits(clock: Clock, **role: RoleLimits) -> KeyLimits:
    return KeyLimits(role, clock=clock)


# --------------------------------------------------------------- token bucket
def test_the_burst_is_spent_then_refused_with_the_seconds_to_wait():
    clock = Clock()
    kl = limits(
        clock,
        inspection_system=RoleLimits(rate=2, burst=3, concurrency=10, heavy=1),
    )
    k = key(1)
    for _ in range(3):
        kl.admit(k).release()
    with pytest.raises(RateLimitedError, match=r"2 decisions per second") as caught:
        kl.admit(k)
    assert caught.value.http_status == 429
    assert caught.value.retry_after == 1  # half a token short at 2/s: 1 s (ceil)
    assert kl.refused == {"inspection_system": 1}
    clock.now += 0.5  # one token back
    kl.admit(k).release()
    with pytest.raises(RateLimitedError, match="decisions per second"):
        kl.admit(k)


def test_a_slow_refill_gives_a_longer_retry_after():
    clock = Clock()
    kl = limits(clock, supervisor=RoleLimits(rate=0.1, burst=1, concurrency=1, heavy=0))
    k = key(2, Role.SUPERVISOR)
    kl.admit(k).release()
    with pytest.raises(RateLimitedError, match="0.1 decisions per second") as caught:
        kl.admit(k)
    assert caught.value.retry_after == 10


def test_limits_are_per_key_and_per_role():
    clock = Clock()
    kl = limits(
        clock,
        inspection_system=RoleLimits(rate=1, burst=1, concurrency=5, heavy=1),
    )
    kl.admit(key(1)).release()
    with pytest.raises(RateLimitedError, match="'k1'"):
        kl.admit(key(1))
    kl.admit(key(3)).release()  # another key of the same role: its own bucket
    supervisor = key(4, Role.SUPERVISOR)  # another role: its defaults
    for _ in range(5):
        kl.admit(supervisor).release()
    assert kl.of(Role.SUPERVISOR) == DEFAULT_LIMITS["supervisor"]


def test_concurrency_counts_requests_in_flight_until_released():
    clock = Clock()
    kl = limits(
        clock,
        inspection_system=RoleLimits(rate=100, burst=100, concurrency=2, heavy=1),
    )
    k = key(1)
    a, b = kl.admit(k), kl.admit(k)
    with pytest.raises(RateLimitedError, match="2 requests in flight"):
        kl.admit(k)
    a.release()
    a.release()  # idempotent: frees one slot only
    c = kl.admit(k)
    with pytest.raises(RateLimitedError, match="in flight"):
        kl.admit(k)
    b.release()
    c.release()


def test_a_batch_costs_a_token_per_code_and_never_more_than_the_burst():
    clock = Clock()
    kl = limits(
        clock,
        inspection_system=RoleLimits(rate=10, burst=50, concurrency=5, heavy=1),
    )
    k = key(1)
    slot = kl.admit(k)
    with pytest.raises(RateLimitedError, match="at most 50 decisions at once"):
        kl.charge(k, 51)
    kl.charge(k, 40).release()  # 1 + 40 of 50 tokens spent
    with pytest.raises(RateLimitedError, match="decisions per second"):
        kl.charge(k, 10)
    slot.release()


def test_heavy_requests_in_flight_are_bounded_per_key():
    clock = Clock()
    kl = limits(
        clock,
        data_scientist=RoleLimits(rate=100, burst=100, concurrency=10, heavy=1),
        admin=RoleLimits(rate=100, burst=100, concurrency=10, heavy=0),
    )
    k = key(5, Role.DATA_SCIENTIST)
    first = kl.charge(k, 0, heavy=True)
    with pytest.raises(RateLimitedError, match=r"1 batch or past-date requests"):
        kl.charge(k, 0, heavy=True)
    first.release()
    kl.charge(k, 0, heavy=True).release()
    with pytest.raises(RateLimitedError, match="at most 0"):
        kl.admit(key(6, Role.ADMIN), heavy=True)  # heavy=0 forbids them


def test_unknown_roles_in_the_settings_are_refused():
    with pytest.raises(ValueError, match="unknown roles"):
        Settings(
            api_limits={"gateway": RoleLimits(rate=1, burst=1, concurrency=1, heavy=0)}
        )
    merged = Settings(
        api_limits={"admin": RoleLimits(rate=1, burst=2, concurrency=3, heavy=0)}
    ).api_limits
    assert merged["admin"].burst == 2
    assert merged["supervisor"] == DEFAULT_LIMITS["supervisor"]
    assert set(merged) == {r.value for r in Role}


# ----------------------------------------------------------------- heavy pool
def test_the_heavy_pool_runs_work_off_the_loop_and_refuses_beyond_its_bound():
    pool = HeavyPool(workers=1, max_waiting=1, retry_after=3)
    release = threading.Event()
    started = threading.Event()
    loop_thread = threading.get_ident()

    def work(n: int) -> tuple[int, int]:
        started.set()
        release.wait(10)
        return n, threading.get_ident()

    async def scenario() -> None:
        running = asyncio.ensure_future(pool.run(work, 1))
        waiting = asyncio.ensure_future(pool.run(work, 2))
        await asyncio.sleep(0)
        while not started.is_set():
            await asyncio.sleep(0.01)
        assert pool.busy == 2
        with pytest.raises(ServiceUnavailableError, match="at most 2 at once") as e:
            await pool.run(work, 3)
        assert e.value.http_status == 503
        assert e.value.retry_after == 3
        # The loop is free meanwhile: other coroutines run.
        assert await asyncio.sleep(0, result="free") == "free"
        release.set()
        (n1, t1), (n2, _) = await asyncio.gather(running, waiting)
        assert (n1, n2) == (1, 2)
        assert t1 != loop_thread
        assert pool.busy == 0
        assert (await pool.run(work, 4))[0] == 4  # room again

    try:
        asyncio.run(scenario())
    finally:
        release.set()
        pool.close()


def test_an_error_in_heavy_work_reaches_the_caller_and_frees_its_place():
    pool = HeavyPool(workers=1, max_waiting=0)

    def boom() -> None:
        raise ValueError("bad batch")

    async def scenario() -> None:
        with pytest.raises(ValueError, match="bad batch"):
            await pool.run(boom)
        assert pool.busy == 0

    try:
        asyncio.run(scenario())
    finally:
        pool.close()


# ------------------------------------------------------------ through the app
@pytest.fixture
def limited(tmp_path):
    settings = Settings(
        home=tmp_path / "home",
        api_limits={
            "inspection_system": RoleLimits(rate=0.01, burst=2, concurrency=4, heavy=1)
        },
    )
    store = OperationalStore.from_settings(settings)
    store.create_schema()
    ks = KeyStore(store)
    tokens = {
        "gw1": ks.create("gw1", Role.INSPECTION_SYSTEM, created_by="t")[1],
        "gw2": ks.create("gw2", Role.INSPECTION_SYSTEM, created_by="t")[1],
        "sup": ks.create("sup", Role.SUPERVISOR, created_by="t")[1],
    }
    app = create_app(settings, store=store, load_on_start=False)
    with TestClient(app) as client:
        yield client, {k: {"Authorization": f"Bearer {v}"} for k, v in tokens.items()}


def test_the_app_answers_429_with_retry_after_per_key(limited):
    client, h = limited
    body = {"uscc": USCC}
    # Admitted (then 503: no model is loaded in this app), twice: the burst.
    for _ in range(2):
        assert client.post("/v1/scores", json=body, headers=h["gw1"]).status_code == 503
    r = client.post("/v1/scores", json=body, headers=h["gw1"])
    assert r.status_code == 429, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert int(r.headers["Retry-After"]) >= 1
    problem = r.json()
    assert problem["code"] == "rate_limited"
    assert "gw1" in problem["detail"]
    assert "inspection_system" in problem["detail"]
    # Another key of the role, and a key of another role, are not affected.
    assert client.post("/v1/scores", json=body, headers=h["gw2"]).status_code == 503
    assert client.post("/v1/scores", json=body, headers=h["sup"]).status_code == 503
    metrics = client.get("/metrics").text
    assert (
        'credit_engine_rate_limited_requests_total{role="inspection_system"} 1.0'
        in (metrics)
    )
