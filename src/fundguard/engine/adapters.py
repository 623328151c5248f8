"""Engine adapters: where the working set is built and rule SQL runs. The rules are the same for all."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from fundguard.engine import sqltools
from fundguard.engine.workset import WORKSET, WORKSET_VIEWS

# A rule to fetch: (SQL, parameter values, amount basis); fetch_rules gives (rows with amount inputs or the
# exception raised, seconds) per rule, in order, calling ``before(i)`` as rule i starts.
RuleJob = tuple[str, dict, str]
Fetched = tuple[pa.Table | Exception, float]


def _timed(jobs: list[RuleJob], before: Callable[[int], None] | None, fetch: Callable[[str, dict, str], object]
           ) -> list[tuple[object, float]]:
    """``fetch(sql, params, amount)`` of each job in turn: (its result or the exception raised, seconds)."""
    out: list[tuple[object, float]] = []
    for i, (sql, params, amount) in enumerate(jobs):
        if before:
            before(i)
        started = time.perf_counter()
        try:
            out.append((fetch(sql, params, amount), time.perf_counter() - started))
        except Exception as exc:  # noqa: BLE001 - the runner records a failed rule and goes on
            out.append((exc, time.perf_counter() - started))
    return out


def fetch_each(engine, jobs: list[RuleJob], before: Callable[[int], None] | None) -> list[Fetched]:
    """fetch_rules one rule at a time, each with its own amount lookup."""
    return _timed(jobs, before, lambda sql, params, amount: engine.fetch_rule(sql, params, amount=amount))


class DuckDBEngine:
    """The embedded default: the working set as temp tables next to the store's tables."""

    name = "duckdb"
    dialect = "duckdb"

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self.con = con

    def prepare(self) -> None:
        # Ordinary (not TEMP) tables: DuckDB compresses them, so a city-year's working set stays in the buffer
        # pool instead of spilling uncompressed; in-memory stores (real-time, golden cases) keep them in memory.
        for name, select in WORKSET:
            self._drop(name)
            kind = "VIEW" if name in WORKSET_VIEWS else "TABLE"
            self.con.execute(f"CREATE {kind} {name} AS {select}")

    def fetch(self, sql: str) -> pa.Table:
        return self.con.sql(sql).to_arrow_table()

    def fetch_rule(self, sql: str, params: dict, *, amount: str) -> pa.Table:
        """A rule's rows with their amount inputs, in two steps: the rule's rows first, then the lookup of their
        lines' fee and fund share. In one statement DuckDB cannot know how few the rows are and may build its
        hash table on the working set's 20 million lines instead (measured: a fifth of the rules' time)."""
        return self._with_amounts(*self._rule_rows(sql, params), amount)

    def fetch_rules(self, jobs: list[RuleJob], before: Callable[[int], None] | None = None) -> list[Fetched]:
        """Every rule's rows with their amount inputs, in three steps: each rule's statement alone (its rows
        only, as ``fetch_rule``); then the working-set rows of all their lines and encounters in one pass
        (scanning the 20-million-line ``fg_line`` once per rule cost a tenth of an audit); then each rule's
        rows joined with those few rows, exactly as ``fetch_rule`` joins them with the whole working set."""
        out: list[Fetched] = _timed(jobs, before, lambda sql, params, amount: self._rule_rows(sql, params))
        found = [(i, *rows_columns, jobs[i][2]) for i, (rows_columns, _) in enumerate(out)
                 if not isinstance(rows_columns, Exception)]  # (job index, rows, columns, amount)
        lines = self._subset("fg_line", "bkkp_sn", "fee, line_fund",
                             [rows for _, rows, columns, _ in found if "bkkp_sn" in columns])
        encounters = self._subset("fg_enc_amt", "mdtrt_id", "enc_fund",
                                  [rows for _, rows, _, amount in found if amount == "encounter"])
        self.con.register("__rule_lines", lines)
        self.con.register("__rule_encounters", encounters)
        try:
            for i, rows, columns, amount in found:
                started = time.perf_counter()
                try:
                    hits = self._with_amounts(rows, columns, amount, "__rule_lines", "__rule_encounters")
                except Exception as exc:  # noqa: BLE001 - the runner records a failed rule and goes on
                    hits = exc
                out[i] = (hits, out[i][1] + time.perf_counter() - started)
        finally:
            self.con.unregister("__rule_lines")
            self.con.unregister("__rule_encounters")
        return out

    def _rule_rows(self, sql: str, params: dict) -> tuple[pa.Table, list[str]]:
        """A rule's own rows (no amounts yet) and its output columns."""
        tree = sqltools.bind(sqltools.parse(sql), params)
        return self.con.sql(sqltools.to_dialect(tree, self.dialect)).to_arrow_table(), sqltools.output_columns(tree)

    def _subset(self, table: str, key: str, columns: str, tables: list[pa.Table]) -> pa.Table:
        """The rows of working-set ``table`` whose ``key`` some of ``tables`` holds (every such row, so a join
        with the subset gives what a join with the table gives)."""
        keys = [t.column(key).cast(pa.string()) for t in tables if t.num_rows]
        values = pc.unique(pa.chunked_array([c for k in keys for c in k.chunks], pa.string())).drop_null()
        self.con.register("__rule_keys", pa.table({"k": values}))
        try:
            return self.con.sql(f"SELECT {key}, {columns} FROM {table} WHERE {key} IN (SELECT k FROM __rule_keys)"
                                ).to_arrow_table()
        finally:
            self.con.unregister("__rule_keys")

    def _with_amounts(self, rows: pa.Table, columns: list[str], amount: str, lines: str = "fg_line",
                      encounters: str = "fg_enc_amt") -> pa.Table:
        """A rule's rows with the fee and fund share of their lines (from ``lines``) and the fund of their
        encounters (from ``encounters``): the working set's tables, or subsets of them."""
        self.con.register("__rule_rows", rows)
        try:
            return self.con.sql(sqltools.amount_sql("__rule_rows", columns, amount=amount, lines=lines,
                                                    encounters=encounters)).to_arrow_table()
        finally:
            self.con.unregister("__rule_rows")

    def close(self) -> None:
        for name, _ in reversed(WORKSET):
            self._drop(name)

    def _drop(self, name: str) -> None:
        kinds = self.con.execute("SELECT table_type FROM information_schema.tables WHERE table_name = ? "
                                 "AND table_schema = current_schema()", [name]).fetchall()
        for (kind,) in kinds:
            self.con.execute(f"DROP {'VIEW' if kind == 'VIEW' else 'TABLE'} IF EXISTS {name}")


def java_available() -> bool:
    return shutil.which("java") is not None or bool(os.environ.get("JAVA_HOME"))


_SPARK = None


def spark_session():
    """One local Spark session per process (starting one costs seconds)."""
    global _SPARK
    if _SPARK is None:
        from pyspark.sql import SparkSession

        _SPARK = (SparkSession.builder.master("local[2]").appName("fundguard")
                  .config("spark.sql.shuffle.partitions", os.environ.get("FUNDGUARD_SPARK_PARTITIONS", "4")).config("spark.ui.enabled", "false")
                  .config("spark.ui.showConsoleProgress", "false").config("spark.sql.session.timeZone", "UTC")
                  .config("spark.driver.memory", os.environ.get("FUNDGUARD_SPARK_MEMORY", "4g"))
                  .config("spark.sql.ansi.enabled", "false").getOrCreate())
        _SPARK.sparkContext.setLogLevel("ERROR")
    return _SPARK


class SparkEngine:
    """Scale-out path: the same rule SQL transpiled by sqlglot and run on PySpark (local or cluster).

    Base tables come as Parquet files (``<dir>/<table>.parquet``); ``from_store`` exports them from a
    DuckDB store first.
    """

    name = "spark"
    dialect = "spark"

    def __init__(self, parquet_dir: Path | None = None, spark=None, *, cache: bool = True):
        self.spark = spark or spark_session()
        self.cache = cache
        self.views: list[str] = []
        for path in sorted(Path(parquet_dir).glob("*.parquet")) if parquet_dir else []:
            self.spark.read.parquet(str(path)).createOrReplaceTempView(path.stem)
            self.views.append(path.stem)
        self._tmp: tempfile.TemporaryDirectory | None = None

    @classmethod
    def from_store(cls, con: duckdb.DuckDBPyConnection, spark=None, *, small: bool = False) -> "SparkEngine":
        """Hand the store's tables to Spark: via Parquet files, or (``small``) straight from Arrow in memory."""
        tables = [r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' "
            "AND table_type = 'BASE TABLE'").fetchall()]
        if small:
            engine = cls(None, spark, cache=False)
            for table in tables:
                cols = con.execute("SELECT column_name, data_type FROM information_schema.columns "
                                   "WHERE table_name = ? ORDER BY ordinal_position", [table]).fetchall()
                select = ", ".join(f'CAST("{c}" AS VARCHAR) AS "{c}"' if t.startswith("U") else f'"{c}"'
                                   for c, t in cols)  # Spark has no unsigned integers
                arrow = con.sql(f"SELECT {select} FROM {table}").to_arrow_table()
                engine.spark.createDataFrame(arrow).createOrReplaceTempView(table)
                engine.views.append(table)
            return engine
        tmp = tempfile.TemporaryDirectory(prefix="fg-spark-")
        for table in tables:
            con.execute(f"COPY (SELECT * FROM {table}) TO '{Path(tmp.name) / table}.parquet' (FORMAT parquet)")
        engine = cls(Path(tmp.name), spark)
        engine._tmp = tmp
        return engine

    def prepare(self) -> None:
        for name, select in WORKSET:
            df = self.spark.sql(sqltools.to_dialect(sqltools.parse(select), "spark"))
            (df.cache() if self.cache and name not in WORKSET_VIEWS else df).createOrReplaceTempView(name)

    def fetch(self, sql: str) -> pa.Table:
        return self.spark.sql(sql).toArrow()

    def fetch_rule(self, sql: str, params: dict, *, amount: str) -> pa.Table:
        return self.fetch(sqltools.render(sql, params, amount=amount, dialect=self.dialect)[0])

    def fetch_rules(self, jobs: list[RuleJob], before: Callable[[int], None] | None = None) -> list[Fetched]:
        return fetch_each(self, jobs, before)

    def close(self) -> None:
        for name, _ in WORKSET:
            self.spark.catalog.dropTempView(name)
        for name in self.views:
            self.spark.catalog.dropTempView(name)
        if self.cache:
            self.spark.catalog.clearCache()
        if self._tmp is not None:
            self._tmp.cleanup()
