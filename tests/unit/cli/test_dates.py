"""One date type for the whole command line: parse, message, exit status."""

from __future__ import annotations

import datetime as dt
import re
import typing

import pandas as pd
import pytest
from typer.testing import CliRunner

import credit_engine.pipeline
from credit_engine.cli import app
from credit_engine.cli._dates import _typer_parse_date, parse_date
from credit_engine.pipeline import FeatureSnapshot

runner = CliRunner()


def one_line(output: str) -> str:
    """The output with Rich's panel borders and line breaks taken out."""
    return re.sub(r"[\s│╭╮╰╯─]+", " ", output).strip()


@pytest.mark.parametrize(
    ("text", "expected"),
    [("2026-06-30", dt.date(2026, 6, 30)), ("2024-02-29", dt.date(2024, 2, 29))],
)
def test_a_good_date_is_parsed(text, expected):
    assert parse_date(text) == expected
    assert parse_date(expected) is expected  # defaults given as dates


@pytest.mark.parametrize(
    "text",
    ["2026-13-01", "2026-02-30", "2025-02-29", "2026-6-30", "20260630",
     "2026-W26-2", "2026-06-30T00:00", "30/06/2026", "", "today"],
)  # fmt: skip
def test_anything_but_yyyy_mm_dd_is_refused_with_one_message(text):
    with pytest.raises(
        ValueError,
        match=re.escape(f"{text!r} is not a date; use YYYY-MM-DD, e.g. 2026-06-30."),
    ):
        parse_date(text)


def test_a_bad_date_is_a_bad_parameter_with_the_message_and_exit_2(tmp_path):
    result = runner.invoke(app, ["rate", "--as-of", "2026-13-01"])
    assert result.exit_code == 2
    assert (
        "Invalid value for '--as-of': '2026-13-01' is not a date; use YYYY-MM-DD, "
        "e.g. 2026-06-30." in one_line(result.output)
    )
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["simulate", "--start", "2023-1-1"], "--start"),
        (["simulate", "--end", "2026-09-31"], "--end"),
        (["features", "--as-of", "2025-09-30", "--as-of", "2025-9-30"], "--as-of"),
        (["migrations", "--from", "2026-03-31", "--to", "2026-06-31"], "--to"),
        (["override", "--uscc", "x", "--tier", "A", "--reason", "r", "--actor",
          "a", "--from", "tomorrow"], "--from"),
        (["serve", "--as-of", "2026/06/30"], "--as-of"),
    ],
)  # fmt: skip
def test_every_date_option_gives_the_same_message(tmp_path, args, option):
    result = runner.invoke(app, [*args, "--home", str(tmp_path)])
    assert result.exit_code == 2, result.output
    assert re.search(
        rf"Invalid value for '{option}': '[^']*' is not a date; use YYYY-MM-DD, "
        r"e\.g\. 2026-06-30\.",
        one_line(result.output),
    ), result.output


def test_features_takes_several_as_of_dates_sorted_once(tmp_path, monkeypatch):
    seen = {}

    def fake_snapshot(settings, as_of, feature_set, out, *, progress=None, **options):
        seen.update(as_of=as_of, feature_set=feature_set)
        assert options["engine"] is None  # the settings decide (duckdb by default)
        frame = pd.DataFrame({"uscc": ["u"], "as_of": [as_of[0]], "f": [1.0]})
        lineage = {
            "feature_set": feature_set,
            "definitions_sha256": "0" * 64,
            "lake_state": "1" * 64,
        }
        return FeatureSnapshot(path=out, frame=frame, lineage=lineage)

    monkeypatch.setattr(credit_engine.pipeline, "build_feature_snapshot", fake_snapshot)
    result = runner.invoke(
        app,
        ["features", "--as-of", "2025-09-30", "--as-of", "2025-03-31",
         "--as-of", "2025-09-30", "--out", str(tmp_path / "x.parquet"),
         "--home", str(tmp_path)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert seen == {
        "as_of": [dt.date(2025, 3, 31), dt.date(2025, 9, 30)],
        "feature_set": "credit_v1",
    }


def _commands(typer_app):
    for info in typer_app.registered_commands:
        yield info.callback
    for group in typer_app.registered_groups:
        yield from _commands(group.typer_instance)


def test_every_date_parameter_of_every_command_uses_the_one_parser():
    dated = []
    for callback in _commands(app):
        hints = typing.get_type_hints(callback, include_extras=True)
        for name, hint in hints.items():
            if name == "return":
                continue
            base, *extras = typing.get_args(hint) or (hint,)
            inner = typing.get_args(base) or (base,)
            inner = [a for t in inner for a in (typing.get_args(t) or (t,))]
            assert dt.datetime not in inner, f"{callback.__name__}({name})"
            if dt.date in inner:
                dated.append(f"{callback.__name__}({name})")
                parsers = [getattr(e, "parser", None) for e in extras]
                assert _typer_parse_date in parsers, f"{callback.__name__}({name})"
    assert sorted(dated) == sorted([
        "simulate(start)", "simulate(end)", "features(as_of)", "rate(as_of)",
        "migrations(from_date)", "migrations(to_date)",
        "override(effective_from)", "override(effective_to)", "serve(as_of)",
        "freshness(as_of)",
        "zone(from_date)", "zone(to_date)", "zone(known_at)",
        "monitor(as_of)", "rate(first)", "rate(last)", "warnings(as_of)",
    ])  # fmt: skip
