"""What a source mapping adds to ingestion: the same rows, contract layout vs mapped.

Two cases, each ingested into fresh engine homes, alternating the two layouts
(``--repeats`` rounds), Great Expectations imported beforehand so neither run
pays for it:

* ``cumcm``: the 1,099,441 real invoices of CUMCM 2020 C. Contract layout: the
  ``vat_invoice`` batch of ``adapt-cumcm`` written as one CSV; mapped: the four
  contest CSVs (decompressed, same format) through ``data/cumcm2020c/mapping.yaml``
  (pseudo-USCCs, file-name values, a value map with a conditional case, date
  parsing in a time zone, repeated invoice numbers numbered, known-at rule).
* ``cumcm-parquet``: the same invoices as shipped: the adapter's Parquet batch
  against the contest's gzip CSVs through the mapping (for information: the
  formats differ).
* ``tax``: the simulated ``tax_filing`` table of a zone, as a contract-layout CSV
  and as a foreign CSV a tax bureau might send: GBK, Chinese headers, 征收项目
  names, amounts in 万元, dates 2024年3月5日, local knowledge times, anonymised
  taxpayer ids with a crosswalk file; mapped back with a mapping written here.

Both layouts must give identical lake rows (checked in every round: same
values, order and fingerprints); the figure is the mapped run's time over the
contract-layout run's, best of the rounds and median, in wall time and in CPU
time (``getrusage`` of the process, all threads: far less sensitive to other
jobs on a shared machine than wall time).

Usage::

    .venv/bin/python benchmarks/bench_mapping.py --zone-home HOME --out mapping.json
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import json
import os
import platform
import resource
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from credit_engine.config import Settings
from credit_engine.data import Lake, ingest_batch, load_vocabulary

REPO = Path(__file__).resolve().parents[1]
CUMCM = REPO / "data" / "cumcm2020c"

TAX_MAPPING = """\
version: 1
name: bench-tax
timezone: Asia/Shanghai
crosswalks:
  taxpayers:
    {file: crosswalk.csv, id: 纳税人编号, uscc: 统一社会信用代码, encoding: gbk}
sources:
  - name: lines
    files: "纳税申报*.csv"
    encoding: gbk
    targets:
      - table: tax_filing
        columns:
          uscc: {column: 纳税人编号, crosswalk: taxpayers}
          source_record_id: 申报序号
          # Due dates, at midnight UTC as the simulator times them
          event_ts: {column: 申报期限, date: "%Y年%m月%d日", timezone: UTC}
          period: 所属期
          tax_type: {column: 征收项目, values: {vocabulary: tax_category}}
          filing_status:
            column: 申报状态
            values: {按期申报: ON_TIME, 逾期申报: LATE, 未申报: OVERDUE}
          filed_date: {column: 申报日期, date: "%Y年%m月%d日"}
          sales_domestic_cny: {column: 境内销售额(万元), scale: 10000}
          sales_export_cny: {column: 出口销售额(万元), scale: 10000}
          payable_cny: {column: 应纳税额(万元), scale: 10000}
          paid_cny: {column: 已缴税额(万元), scale: 10000}
          ingested_at: {column: 数据更新时间, date: "%Y-%m-%d %H:%M:%S.%f"}
"""


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _ingest(batch: Path, root: Path, mapping: Path | None) -> tuple[float, float, Any]:
    home = root / f"home-{time.monotonic_ns()}"
    settings = Settings(home=home)
    cpu, start = _cpu(), time.perf_counter()
    report = ingest_batch(batch, settings, mapping=mapping)
    elapsed = time.perf_counter() - start
    return elapsed, _cpu() - cpu, (settings, report)


def _lake_rows(settings: Settings, table: str) -> pa.Table:
    lake = Lake(settings.lake_dir, settings.quarantine_dir)
    listed = ", ".join(f"'{f}'" for f in lake.table_files(table))
    sql = (
        f"SELECT * EXCLUDE (_batch_id) FROM read_parquet([{listed}], "
        "hive_partitioning = false)"
    )
    return duckdb.sql(sql).to_arrow_table()


def _compare(
    name: str,
    table: str,
    batches: tuple[Path, Path],
    mapping: Path,
    root: Path,
    repeats: int,
) -> dict[str, Any]:
    wall: dict[str, list[float]] = {"contract": [], "mapped": []}
    cpu: dict[str, list[float]] = {"contract": [], "mapped": []}
    same: list[bool] = []
    # One untimed ingest of each layout first: the lazy imports and caches of
    # either path are paid outside the timings.
    for batch, use in ((batches[0], None), (batches[1], mapping)):
        shutil.rmtree(_ingest(batch, root, use)[2][0].home, ignore_errors=True)
    for _ in range(repeats):
        reports: dict[str, Any] = {}
        for label, batch, use in (
            ("contract", batches[0], None),
            ("mapped", batches[1], mapping),
        ):
            seconds, cpu_seconds, reports[label] = _ingest(batch, root, use)
            wall[label].append(seconds)
            cpu[label].append(cpu_seconds)
        # Identical lake rows in every round, then the homes go.
        same.append(
            _lake_rows(reports["contract"][0], table).equals(
                _lake_rows(reports["mapped"][0], table)
            )
        )
        for settings, _report in reports.values():
            shutil.rmtree(settings.home, ignore_errors=True)
    t_contract = reports["contract"][1].tables[table]
    t_mapped = reports["mapped"][1].tables[table]

    def overhead(times: dict[str, list[float]], pick: Any) -> float:
        return float(pick(times["mapped"]) / pick(times["contract"]) - 1)

    return {
        "case": name,
        "rows": t_contract.rows_in,
        "loaded": [t_contract.loaded, t_mapped.loaded],
        "quarantined": [t_contract.quarantined, t_mapped.quarantined],
        "identical_lake_rows": all(same),
        "identical_per_round": same,
        "contract_s": wall["contract"],
        "mapped_s": wall["mapped"],
        "contract_cpu_s": cpu["contract"],
        "mapped_cpu_s": cpu["mapped"],
        "overhead_best": overhead(wall, min),
        "overhead_median": overhead(wall, statistics.median),
        "cpu_overhead_best": overhead(cpu, min),
        "cpu_overhead_median": overhead(cpu, statistics.median),
    }


def _cumcm_batches(root: Path) -> tuple[Path, Path, Path]:
    from credit_engine.adapters import convert_cumcm

    out = root / "cumcm"
    batch = convert_cumcm(CUMCM, out)
    contract = out / "contract"
    contract.mkdir()
    pacsv.write_csv(pq.read_table(batch.invoices_path), contract / "vat_invoice.csv")
    foreign = out / "foreign"
    foreign.mkdir()
    for path in sorted(CUMCM.glob("attach*_invoices.csv.gz")):
        with gzip.open(path, "rb") as src, (foreign / path.name[:-3]).open("wb") as dst:
            shutil.copyfileobj(src, dst)
    return contract, foreign, batch.records_dir


def _tax_batches(home: Path, root: Path) -> tuple[Path, Path, Path]:
    # The loaded rows of a zone's lake: the comparison is about the mapping,
    # not about dirty rows (which the contract layout would quarantine).
    settings = Settings(home=home)
    lake = Lake(settings.lake_dir, settings.quarantine_dir)
    columns = [
        "uscc",
        "source_record_id",
        "event_ts",
        "period",
        "tax_type",
        "filing_status",
        "filed_date",
        "sales_domestic_cny",
        "sales_export_cny",
        "payable_cny",
        "paid_cny",
        "ingested_at",
    ]
    table = pa.concat_tables(
        [pq.read_table(f, columns=columns) for f in lake.table_files("tax_filing")]
    )
    contract = root / "tax" / "contract"
    contract.mkdir(parents=True)
    pacsv.write_csv(table, contract / "tax_filing.csv")
    names = {
        c: zh
        for zh, c in load_vocabulary(Settings().definitions_dir, "tax_category").items()
        if zh and not zh.isascii()
    }
    import pandas as pd

    frame = table.to_pandas()
    usccs = sorted(frame["uscc"].dropna().unique())
    ids = {u: f"TP{i:07d}" for i, u in enumerate(usccs)}

    def day(series: Any) -> Any:
        return series.map(
            lambda d: "" if pd.isna(d) else f"{d.year}年{d.month}月{d.day}日"
        )

    local = frame["event_ts"].dt.tz_convert("Asia/Shanghai")
    known = frame["ingested_at"].dt.tz_convert("Asia/Shanghai")
    foreign = {
        "纳税人编号": frame["uscc"].map(ids),
        "申报序号": frame["source_record_id"],
        "申报期限": day(local.dt.date),
        "所属期": frame["period"],
        "征收项目": frame["tax_type"].map(names),
        "申报状态": frame["filing_status"].map(
            {"ON_TIME": "按期申报", "LATE": "逾期申报", "OVERDUE": "未申报"}
        ),
        "申报日期": day(frame["filed_date"]),
        "数据更新时间": known.dt.strftime("%Y-%m-%d %H:%M:%S.%f"),
    }
    for column, zh in (
        ("sales_domestic_cny", "境内销售额(万元)"),
        ("sales_export_cny", "出口销售额(万元)"),
        ("payable_cny", "应纳税额(万元)"),
        ("paid_cny", "已缴税额(万元)"),
    ):
        foreign[zh] = frame[column].map(lambda v: "" if v != v else f"{v / 10000:.6f}")
    out = root / "tax" / "foreign"
    out.mkdir(parents=True)
    pd.DataFrame(foreign).to_csv(out / "纳税申报_2026.csv", index=False, encoding="gbk")
    pd.DataFrame(
        {"纳税人编号": list(ids.values()), "统一社会信用代码": list(ids)}
    ).to_csv(root / "tax" / "crosswalk.csv", index=False, encoding="gbk")
    mapping = root / "tax" / "mapping.yaml"
    mapping.write_text(TAX_MAPPING, encoding="utf-8")
    return contract, out, mapping


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--zone-home",
        type=Path,
        default=None,
        help="Engine home of an ingested simulated zone (tax case).",
    )
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--cases", default="cumcm,tax,cumcm-parquet")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    import great_expectations  # noqa: F401 -- imported once, outside the timings

    load_start = os.getloadavg()
    root = Path(tempfile.mkdtemp(prefix="bench-mapping-"))
    results = []
    try:
        cases = args.cases.split(",")
        if "cumcm" in cases:
            contract, foreign, parquet = _cumcm_batches(root)
            mapping = root / "cumcm" / "mapping.yaml"  # the same, on plain CSV
            text = (CUMCM / "mapping.yaml").read_text(encoding="utf-8")
            mapping.write_text(text.replace(".csv.gz", ".csv"), encoding="utf-8")
            results.append(
                _compare(
                    "cumcm",
                    "vat_invoice",
                    (contract, foreign),
                    mapping,
                    root,
                    args.repeats,
                )
            )
        if "cumcm-parquet" in cases:
            # As shipped: the adapter's Parquet against the contest's gzip CSVs.
            parquet = _cumcm_batches(root)[2] if "cumcm" not in cases else parquet
            results.append(
                _compare(
                    "cumcm-parquet",
                    "vat_invoice",
                    (parquet, CUMCM),
                    CUMCM / "mapping.yaml",
                    root,
                    args.repeats,
                )
            )
        if "tax" in cases and args.zone_home is not None:
            contract, foreign, mapping = _tax_batches(args.zone_home, root)
            results.append(
                _compare(
                    "tax",
                    "tax_filing",
                    (contract, foreign),
                    mapping,
                    root,
                    args.repeats,
                )
            )
    finally:
        shutil.rmtree(root, ignore_errors=True)
    payload = {
        "run_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
        "cpus": os.cpu_count(),
        "load_average_start": load_start,
        "load_average": os.getloadavg(),
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "results": results,
    }
    for r in results:
        contract, mapped = min(r["contract_s"]), min(r["mapped_s"])
        print(
            f"{r['case']:13s} {r['rows']:>10,} rows  contract {contract:6.1f} s  "
            f"mapped {mapped:6.1f} s  overhead best {r['overhead_best']:+.1%}  "
            f"median {r['overhead_median']:+.1%}  identical lake rows: "
            f"{r['identical_lake_rows']}"
        )
        print(
            f"{'':13s} CPU s: contract {r['contract_cpu_s']}  mapped "
            f"{r['mapped_cpu_s']}  overhead best {r['cpu_overhead_best']:+.1%}  "
            f"median {r['cpu_overhead_median']:+.1%}"
        )
    if args.out is not None:
        args.out.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
