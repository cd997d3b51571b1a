"""The warnings queue on the store's early warnings: filter, evidence, audited moves."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from credit_engine.audit import AuditLog
from credit_engine.console import StoreWarnings, WarningsSource
from tests.unit.console.conftest import BOUND, PLAIN, csrf_of, sign_in

OCT, NOV = dt.date(2026, 10, 31), dt.date(2026, 11, 30)


def _fire(uscc: str, signal: str, priority: float, **extra: Any) -> dict[str, Any]:
    evidence = {
        "EW-02": {
            "facts": [
                {"code": "TAX_LEVEL_D", "department": "TAX", "since": "2026-10-02",
                 "zh": "纳税信用D级", "en": "Tax credit level D"}
            ],
            "window_days": 90,
        },
        "EW-01": {"grade_now": "G6", "grade_then": "G3", "notches": 3,
                  "rated_now": "2026-09-30", "rated_then": "2026-06-30"},
    }[signal]  # fmt: skip
    return {"uscc": uscc, "signal": signal, "priority": priority,
            "evidence": evidence, **extra}  # fmt: skip


@pytest.fixture(scope="module")
def seeded(console) -> dict[str, int]:
    """Three warnings: two for BOUND (EW-02 on two dates, EW-01), one for PLAIN."""
    store = console.store
    with store.unit_of_work("record warnings") as uow:
        first = uow.warnings.record_warnings(
            OCT,
            [_fire(BOUND, "EW-02", 3.5, tier="D", grade="GD", pd=0.4321),
             _fire(PLAIN, "EW-01", 2.0, tier="B", grade="G6", pd=0.0567)],
            signals_version=1,
        )  # fmt: skip
    with store.unit_of_work("record warnings") as uow:
        uow.warnings.record_warnings(
            NOV,
            [_fire(BOUND, "EW-02", 3.5, tier="D", grade="GD", pd=0.4321),
             _fire(BOUND, "EW-01", 3.5, tier="D", grade="GD", pd=0.4321)],
            signals_version=1,
        )  # fmt: skip
    ids = dict(zip(("bound_ew02", "plain_ew01"), first.warning_ids, strict=True))
    ids["bound_ew01"] = int(
        store.list_warnings(uscc=BOUND, signal="EW-01")["warning_id"][0]
    )
    return ids


def test_the_store_source_has_the_pages_protocol(console):
    assert isinstance(console.state.warnings, StoreWarnings)
    assert isinstance(console.state.warnings, WarningsSource)
    codes = [s["code"] for s in console.state.warnings.signals()]
    assert codes[:2] == ["EW-01", "EW-02"]


def test_an_empty_queue_says_so(console, seeded):
    # The module's warnings are seeded (EW-01, EW-02); none of the catalogue's
    # last signal is ever recorded here, so its queue is empty.
    assert console.store.count_warnings() >= 3
    client = console.client()
    sign_in(client, console.secrets["supervisor"])
    last = console.state.warnings.signals()[-1]["code"]
    assert last not in {"EW-01", "EW-02"}
    assert console.store.count_warnings(signal=last) == 0
    r = client.get(f"/console/warnings?signal={last}")
    assert r.status_code == 200
    assert 'id="warnings-empty"' in r.text


def test_the_queue_lists_the_most_urgent_first_and_filters(console, seeded):
    client = console.client()
    sign_in(client, console.secrets["auditor"])
    html = client.get("/console/warnings").text  # default: new warnings
    links = [
        int(part.split('"')[0]) for part in html.split('href="/console/warnings/')[1:]
    ]
    assert links[-1] == seeded["plain_ew01"]  # priority 2.0 after BOUND's 3.5
    assert set(links) == set(seeded.values())
    assert "新增不利法定事实" in html  # the signal's name, from signals_v1.yaml
    only = client.get("/console/warnings", params={"signal": "EW-01"}).text
    assert f'href="/console/warnings/{seeded["bound_ew02"]}"' not in only
    by_tier = client.get("/console/warnings", params={"tier": "B"}).text
    assert by_tier.count('href="/console/warnings/') == 1
    mine = client.get("/console/warnings", params={"uscc": PLAIN}).text
    assert mine.count('href="/console/warnings/') == 1
    bad = client.get("/console/warnings", params={"signal": "EW-99"})
    assert bad.status_code == 422
    assert "EW-99" in bad.text


def test_a_warning_shows_its_evidence_and_dates_and_the_view_is_logged(console, seeded):
    client = console.client()
    sign_in(client, console.secrets["auditor"])
    wid = seeded["bound_ew02"]
    html = client.get(f"/console/warnings/{wid}").text
    assert "纳税信用D级" in html  # the evidence
    assert 'id="occurrences"' in html
    assert OCT.isoformat() in html
    assert NOV.isoformat() in html
    assert "近90天内开始生效的不利法定事实" in html  # the explanation
    assert 'id="warning-form"' not in html  # auditors read only
    english = client.get(f"/console/warnings/{wid}", params={"lang": "en"}).text
    assert "New adverse statutory fact" in english
    entry = AuditLog(console.store).entries(
        actor="auditor-1", kind="warnings_read", newest_first=True, limit=1
    )[0]
    assert entry.subject == BOUND
    assert entry.payload["warning_id"] == wid
    assert client.get("/console/warnings/999999").status_code == 404


def test_a_warning_is_acknowledged_then_closed_with_notes_in_the_audit_log(
    console, seeded
):
    client = console.client()
    sign_in(client, console.secrets["supervisor"])
    wid = seeded["bound_ew01"]
    html = client.get(f"/console/warnings/{wid}").text
    token = csrf_of(html)
    empty = client.post(
        f"/console/warnings/{wid}/acknowledge", data={"note": "", "csrf_token": token}
    )
    assert empty.status_code == 422
    assert console.store.get_warning(wid)["status"] == "new"
    r = client.post(
        f"/console/warnings/{wid}/acknowledge",
        data={"note": "已联系企业核实", "csrf_token": token},
        follow_redirects=False,
    )
    assert r.status_code == 303
    row = console.store.get_warning(wid)
    assert (row["status"], row["acknowledged_by"]) == ("acknowledged", "supervisor-1")
    again = client.post(
        f"/console/warnings/{wid}/acknowledge",
        data={"note": "twice", "csrf_token": token},
    )
    assert again.status_code == 409  # a human page, not a traceback
    assert "Traceback" not in again.text
    done = client.post(
        f"/console/warnings/{wid}/close",
        data={"note": "核实无误", "csrf_token": token},
    )
    assert done.status_code == 200
    assert 'id="warning-done"' in done.text
    assert "核实无误" in done.text
    assert console.store.get_warning(wid)["status"] == "closed"
    log = AuditLog(console.store)
    kinds = [e.kind for e in log.entries(actor="supervisor-1", subject=BOUND, limit=50)]
    assert "warning_acknowledged" in kinds
    assert "warning_closed" in kinds
    closed = log.entries(kind="warning_closed", newest_first=True, limit=1)[0]
    assert closed.payload["note"] == "核实无误"
    assert log.verify().ok


def test_only_supervisors_and_admins_move_warnings_and_forms_need_the_token(
    console, seeded
):
    wid = seeded["plain_ew01"]
    auditor = console.client()
    sign_in(auditor, console.secrets["auditor"])
    token = csrf_of(auditor.get(f"/console/warnings/{wid}").text)
    refused = auditor.post(
        f"/console/warnings/{wid}/close", data={"note": "x", "csrf_token": token}
    )
    assert refused.status_code == 403
    supervisor = console.client()
    sign_in(supervisor, console.secrets["supervisor"])
    no_token = supervisor.post(f"/console/warnings/{wid}/close", data={"note": "x"})
    assert no_token.status_code == 403
    assert console.store.get_warning(wid)["status"] == "new"
    scientist = console.client()
    sign_in(scientist, console.secrets["data_scientist"])
    assert scientist.get("/console/warnings").status_code == 403
