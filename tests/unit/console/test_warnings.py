"""The warnings queue against the console's protocol (the component is a seam)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from credit_engine.console import WarningsSource
from tests.unit.console.conftest import BOUND, csrf_of, sign_in


class FakeWarnings:
    """An in-memory early-warning queue with the console's protocol."""

    def __init__(self) -> None:
        self.rows = {
            i: {
                "warning_id": i,
                "uscc": BOUND,
                "kind": "refund_ring",
                "severity": sev,
                "status": "open",
                "raised_at": f"2026-07-0{i}T08:00:00+00:00",
                "title_zh": "疑似骗取出口退税团伙",
                "title_en": "Suspected refund ring",
                "evidence": {"shared_address": "思明区某路1号", "refund_share": 0.93},
                "notes": [],
            }
            for i, sev in ((1, "high"), (2, "medium"), (3, "low"))
        }

    def list_warnings(self, *, status, severity, uscc, limit, offset):
        rows = [
            r
            for r in sorted(self.rows.values(), key=lambda r: -r["warning_id"])
            if (status is None or r["status"] == status)
            and (severity is None or r["severity"] == severity)
            and (uscc is None or r["uscc"] == uscc)
        ]
        return rows[offset : offset + limit], len(rows)

    def get_warning(self, warning_id: int) -> dict[str, Any] | None:
        return self.rows.get(warning_id)

    def _move(
        self, warning_id: int, status: str, actor: str, note: str
    ) -> dict[str, Any]:
        row = self.rows[warning_id]
        row["status"] = status
        row["notes"].append(
            {
                "at": dt.datetime.now(dt.UTC).isoformat(),
                "actor": actor,
                "status": status,
                "note": note,
            }
        )
        return row

    def acknowledge(self, warning_id: int, *, actor: str, note: str) -> dict[str, Any]:
        return self._move(warning_id, "acknowledged", actor, note)

    def close(self, warning_id: int, *, actor: str, note: str) -> dict[str, Any]:
        return self._move(warning_id, "closed", actor, note)


@pytest.fixture
def warnings(console, monkeypatch):
    fake = FakeWarnings()
    assert isinstance(fake, WarningsSource)
    monkeypatch.setattr(console.state, "warnings", fake)
    return fake


def test_without_the_component_the_queue_is_an_empty_state(console):
    client = console.client()
    sign_in(client, console.secrets["supervisor"])
    r = client.get("/console/warnings")
    assert r.status_code == 200
    assert 'id="warnings-unavailable"' in r.text


def test_the_queue_filters_and_opens_a_warning(console, warnings):
    client = console.client()
    sign_in(client, console.secrets["auditor"])
    html = client.get("/console/warnings", params={"severity": "high"}).text
    assert html.count('href="/console/warnings/') == 1
    detail = client.get("/console/warnings/1").text
    assert "疑似骗取出口退税团伙" in detail
    assert "思明区某路1号" in detail
    assert 'id="warning-form"' not in detail  # auditors read only
    assert client.get("/console/warnings/99").status_code == 404


def test_a_warning_is_acknowledged_then_closed_with_notes(console, warnings):
    client = console.client()
    sign_in(client, console.secrets["supervisor"])
    html = client.get("/console/warnings/2").text
    token = csrf_of(html)
    empty = client.post(
        "/console/warnings/2/acknowledge", data={"note": "", "csrf_token": token}
    )
    assert empty.status_code == 422
    assert warnings.rows[2]["status"] == "open"
    r = client.post(
        "/console/warnings/2/acknowledge",
        data={"note": "已联系企业核实", "csrf_token": token},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert warnings.rows[2]["status"] == "acknowledged"
    assert warnings.rows[2]["notes"][0]["actor"] == "supervisor-1"
    client.post(
        "/console/warnings/2/close", data={"note": "核实无误", "csrf_token": token}
    )
    assert warnings.rows[2]["status"] == "closed"
    no_token = client.post("/console/warnings/1/close", data={"note": "x"})
    assert no_token.status_code == 403
    assert warnings.rows[1]["status"] == "open"
