"""Engine adapters: where the working set is built and rule SQL runs. The rules are the same for all."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import duckdb
import pyarrow as pa

from fundguard.engine import sqltools
from fundguard.engine.workset import WORKSET, WORKSET_VIEWS


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
        tree = sqltools.bind(sqltools.parse(sql), params)
        rows = self.con.sql(sqltools.to_dialect(tree, self.dialect)).to_arrow_table()
        self.con.register("__rule_rows", rows)
        try:
            columns = sqltools.output_columns(tree)
            return self.con.sql(sqltools.amount_sql("__rule_rows", columns, amount=amount)).to_arrow_table()
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

    def close(self) -> None:
        for name, _ in WORKSET:
            self.spark.catalog.dropTempView(name)
        for name in self.views:
            self.spark.catalog.dropTempView(name)
        if self.cache:
            self.spark.catalog.clearCache()
        if self._tmp is not None:
            self._tmp.cleanup()
