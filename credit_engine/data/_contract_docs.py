"""Render the record contracts as a Markdown reference (``docs/contracts.md``)."""

from __future__ import annotations

from collections.abc import Mapping

from credit_engine.data._contracts import ColumnSpec, Department, SourceContract

_DEPARTMENT_TITLE = {
    Department.CUSTOMS: "Customs (海关)",
    Department.TAX: "Tax (税务)",
    Department.FOREX: "Forex / SAFE (外汇管理)",
    Department.MARKET: "Market regulation / SAMR (市场监管)",
}


def _rules(col: ColumnSpec) -> str:
    parts = []
    if col.values:
        parts.append("one of " + ", ".join(f"`{v}`" for v in col.values))
    for rule in col.range_rules:
        bound = []
        if rule.min is not None:
            bound.append(f"≥ {rule.min:g}")
        if rule.max is not None:
            bound.append(f"≤ {rule.max:g}")
        text = " and ".join(bound)
        parts.append(f"{text} when `{rule.when}`" if rule.when else text)
    if col.pattern:
        parts.append(f"matches `{col.pattern}`")
    if col.unit:
        parts.append(f"unit: {col.unit}")
    return "; ".join(parts).replace("|", "\\|")


def render_contracts_markdown(contracts: Mapping[str, SourceContract]) -> str:
    """Return the Markdown reference of every contract, grouped by department.

    Parameters
    ----------
    contracts : mapping of str to SourceContract
        Contracts as returned by :func:`load_contracts`.

    Returns
    -------
    str
        The document; ``docs/contracts.md`` is this text (a test keeps it so).
    """
    lines = [
        "# Record contracts",
        "",
        "<!-- Generated from features/sources/*.yaml by "
        "`credit-engine contracts --markdown docs/contracts.md`; do not edit. -->",
        "",
        "Each department table the zone shares is described by a contract in",
        "`features/sources/<table>.yaml`. The engine reads the contracts to build the",
        "Great Expectations suites (`raw.<table>`), the lake schema and the",
        "simulator's output. Every record carries `uscc`, `source_record_id`, its",
        "valid time (`event_ts` for events; `effective_from`/`effective_to` for",
        "states) and",
        "`ingested_at`, the time the zone learned it. A record is identified by its",
        "key. In a versioned table a later `ingested_at` with the same key is a new",
        "version of the record (a fine re-sent when paid, a spell when it ends); in",
        "other tables a second row with the same key is a key conflict.",
        "",
        "Required columns must be non-null. Disclosure levels say who may see a field:",
        "`public`, `shared` between departments, or `internal` to the owner.",
        "",
        "Columns marked *extension* carry fields real extracts have but the zone",
        "simulator does not produce (an annual report's financials, a tax line's",
        "basis and rate): they are optional, null in the simulated zone, and",
        "features treat null as unknown, never as zero. Tables marked *optional",
        "source* (court judgments, trademarks and patents, news) are ones a zone may",
        "or may not have; the simulator writes none. Any extract in another layout",
        "is brought onto these contracts with a source mapping",
        "([bring your own records](bring-your-own-records.md)).",
        "",
    ]
    by_dept: dict[Department, list[SourceContract]] = {}
    for contract in contracts.values():
        by_dept.setdefault(contract.department, []).append(contract)
    for dept in Department:
        if dept not in by_dept:
            continue
        lines += [f"## {_DEPARTMENT_TITLE[dept]}", ""]
        for c in sorted(by_dept[dept], key=lambda x: x.name):
            lines += [
                f"### `{c.name}` — {c.title}",
                "",
                " ".join(c.description.split()),
                "",
                f"Kind: **{c.kind.value}**; key: "
                + ", ".join(f"`{k}`" for k in c.key)
                + (
                    "; **versioned** (updates arrive as new rows with the same key)"
                    if c.is_versioned
                    else "; never updated (one row per key)"
                )
                + f"; default disclosure: {c.disclosure.value}"
                + ("" if c.simulated else "; **optional source** (not simulated)")
                + ".",
                "",
                "| column | type | required | disclosure | rules | meaning |",
                "|---|---|---|---|---|---|",
            ]
            for col in c.columns:
                required = "yes" if col.required else ""
                if col.required_unless:
                    required = f"yes, unless `{col.required_unless}`"
                elif col.extension:
                    required = "*extension*"
                lines.append(
                    f"| `{col.name}` | {col.type.value} | {required}"
                    f" | {c.disclosure_of(col.name).value} | {_rules(col)} | "
                    f"{col.description.replace('|', '/')} |"
                )
            lines.append("")
    return "\n".join(lines)
