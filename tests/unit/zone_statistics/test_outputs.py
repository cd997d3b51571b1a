"""The report's JSON keys, its HTML sections and the written files."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest

from credit_engine.zone_statistics import (
    SECTION_KEYS,
    WARNING_COLUMNS,
    build_zone_report,
    render_html,
    report_payload,
    suppress_small_cells,
    write_zone_report,
)
from tests.unit.zone_statistics.conftest import E1, END, KNOWN, START


@pytest.fixture(scope="module")
def report(mini_zone, reference, rated_store):
    def warnings(start, end, known_before):
        return pd.DataFrame([("X", "S1", START, None)], columns=list(WARNING_COLUMNS))

    return build_zone_report(
        mini_zone, start=START, end=END, knowledge_date=KNOWN, reference=reference,
        decisions=rated_store, warnings=warnings,
    )  # fmt: skip


def test_the_json_has_stable_keys_and_every_section(report):
    payload = report_payload(report, min_cell=5)
    assert {"from", "to", "period", "knowledge_cutoff", "sections"} <= set(payload)
    assert payload["from"] == "2026-01-01"
    assert payload["to"] == "2026-06-30"
    assert payload["period"] == "month"
    assert payload["knowledge_cutoff"] == "2026-07-15"
    assert payload["knowledge_cutoff_instant"] == "2026-07-16T00:00:00+00:00"
    assert payload["disclosure"] == "INTERNAL"
    assert list(payload["sections"]) == list(SECTION_KEYS)
    assert payload["small_cells"]["min_cell"] == 5
    tiers = payload["sections"]["tiers"]["tables"]["tiers"]
    assert tiers["dimensions"] == ["period", "tier"]
    assert tiers["rows"][0] == {
        "period": "2026-03", "tier": "A", "as_of": "2026-03-31", "enterprises": 1,
        "share": 0.3333,
    }  # fmt: skip
    assert payload["sections"]["freshness"]["available"] is False
    json.dumps(payload, allow_nan=False)  # strict JSON: no NaN anywhere


@pytest.fixture(scope="module")
def written(report, reference, tmp_path_factory):
    folder = tmp_path_factory.mktemp("zone_report")
    (folder / "csv").mkdir()
    (folder / "csv" / "old_table.csv").write_text("x\n", encoding="utf-8")
    return write_zone_report(report, folder, reference=reference, min_cell=5)


def test_the_html_has_every_section_with_charts_and_tables(report, written):
    html = written["html"].read_text(encoding="utf-8")
    for key, section in report.sections.items():
        assert f'id="{key}"' in html
        assert section.title.split(" (")[0] in html
    for table in report.tables():
        assert f'id="table-{table.name}"' in html
    assert html.count("data:image/png;base64,") >= 7
    assert "Knowledge cutoff: 2026-07-15" in html
    assert "No data-freshness figures" in html
    assert "思明区 Siming" in html
    assert E1 not in html
    assert html.count("<h2") == len(SECTION_KEYS)


def test_the_files_are_written_with_small_cells_blanked_in_the_csv(report, written):
    paths = written
    assert paths["html"].name == "zone_report.html"
    written = json.loads(paths["json"].read_text(encoding="utf-8"))
    assert (
        written["sections"]["enterprises"]["tables"]["enterprises"]["rows"][0][
            "registered"
        ]
        == 2
    )  # the JSON is exact
    names = sorted(p.stem for p in paths["csv"].glob("*.csv"))
    assert names == sorted(t.name for t in report.tables())  # old_table removed
    shared = pd.read_csv(paths["csv"] / "enterprises.csv")
    assert list(shared.columns) == [
        "period", "registered", "active", "new", "deregistered", "suppressed",
    ]  # fmt: skip
    assert shared["registered"].isna().all()  # 2 or 3 enterprises: all small
    assert shared["suppressed"].all()
    exact = suppress_small_cells(report.table("enterprises"), min_cell=0)
    assert exact["registered"].tolist() == [2, 3, 3, 2, 3, 3]


def test_a_report_cannot_start_after_its_knowledge_date(mini_zone):
    from credit_engine.exceptions import ReportError

    with pytest.raises(ReportError, match="after its knowledge date 2025-12-31"):
        build_zone_report(
            mini_zone, start=START, end=END, knowledge_date=START.replace(year=2025,
            month=12, day=31),
        )  # fmt: skip


def test_a_range_without_ratings_or_records_still_renders(mini_zone, rated_store):
    quiet = build_zone_report(
        mini_zone, start=dt.date(2026, 4, 1), end=dt.date(2026, 5, 31),
        knowledge_date=KNOWN, decisions=rated_store,
    )  # fmt: skip
    assert quiet.table("tiers").frame.empty
    assert "No rating run" in quiet.sections["tiers"].note
    assert quiet.table("migrations").frame.empty
    assert quiet.table("declarations").frame["declarations"].tolist() == [0, 0]
    html = render_html(quiet)
    assert html.count("No figures in this range.") >= 5
    json.dumps(report_payload(quiet), allow_nan=False)
