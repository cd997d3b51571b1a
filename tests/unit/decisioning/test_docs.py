"""The user docs name every statutory fact and policy measure the engine has."""

from __future__ import annotations

from credit_engine.config import default_definitions_dir
from credit_engine.decisioning import load_policy
from credit_engine.rules import RuleBook

ROOT = default_definitions_dir()


def test_rules_readme_lists_every_fact():
    readme = (ROOT / "rules" / "README.md").read_text(encoding="utf-8")
    codes = RuleBook.load(ROOT).fact_codes()
    missing = sorted(c for c in codes if c not in readme and c[:-2] not in readme)
    assert missing == []


def test_decisions_doc_names_every_measure_and_policy_rule():
    doc = (ROOT / "docs" / "decisions.md").read_text(encoding="utf-8")
    policy = load_policy(ROOT)
    named = [m.code for m in policy.measures] + [r.code for r in policy.rules]
    assert [code for code in named if f"`{code}`" not in doc] == []
