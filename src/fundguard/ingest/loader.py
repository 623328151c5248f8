"""Load national-format files into the analytic store: typed, de-duplicated, every batch recorded.

For each file: scan it once into a compact typed table, reject bad rows with file, line, column and
reason (``load_rejects``), then merge on the natural key. A row whose key is new is inserted; a row
identical to the stored one is left alone; a row that differs replaces the stored one and the old
content is kept in ``load_replacements``. A file whose bytes were already loaded into the same
table is recorded as a skipped batch.
"""

from __future__ import annotations

import datetime as dt
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import duckdb

from fundguard.errors import REJECT_REASONS, IngestError
from fundguard.ingest import convert, readers
from fundguard.ingest.tables import ALL_TABLES, TABLES, TableSpec
from fundguard.store.db import quote

# progress(message, fraction): fraction in [0, 1] while a long statement runs, None for a new stage.
Progress = Callable[[str, float | None], None]
_TEMP_TABLES = ("__raw", "__typed", "__bad", "__dups", "__drop", "__thr", "__rej_errors", "__rej_scans")


@dataclass
class BatchResult:
    batch_id: int
    table: str
    file: str
    status: str  # ok | skipped | failed
    rows_in: int = 0
    inserted: int = 0
    replaced: int = 0
    unchanged: int = 0
    rejected: int = 0
    encoding: str = ""
    ignored_columns: list[str] = field(default_factory=list)
    message: str = ""
    seconds: float = 0.0


def find_table_files(directory: Path) -> list[tuple[TableSpec, Path]]:
    """Every ``<table>.<ext>`` file in ``directory``, in load order (reference tables first)."""
    if not directory.is_dir():
        raise IngestError(f"目录不存在：{directory}", code="FG106")
    found = []
    for spec in ALL_TABLES:
        for ext in readers.FORMATS:
            candidate = directory / f"{spec.name}{ext}"
            if candidate.exists():
                found.append((spec, candidate))
    return found


def load_dir(con: duckdb.DuckDBPyConnection, directory: Path, *, force: bool = False,
             progress: Progress | None = None, chunk_rows: int = 100_000) -> list[BatchResult]:
    """Load every table file of ``directory``. A file that fails is recorded and the others still load."""
    files = find_table_files(Path(directory))
    if not files:
        names = ", ".join(s.name for s in ALL_TABLES)
        raise IngestError(
            f"目录 {directory} 中没有可识别的数据文件（应命名为 <表名>.csv/.xlsx/.parquet，表名：{names}）", code="FG107")
    results = []
    for spec, path in files:
        try:
            results.append(load_file(con, spec, path, force=force, progress=progress, chunk_rows=chunk_rows))
        except IngestError:
            results.append(_last_batch(con))
    return results


def load_file(con: duckdb.DuckDBPyConnection, spec: TableSpec | str, path: Path, *, force: bool = False,
              progress: Progress | None = None, chunk_rows: int = 100_000) -> BatchResult:
    spec = TABLES[spec] if isinstance(spec, str) else spec
    path = Path(path)
    say = progress or (lambda _msg, _frac=None: None)
    started = dt.datetime.now()
    batch_id = con.execute("SELECT nextval('seq_load_batch')").fetchone()[0]
    con.execute(
        "INSERT INTO load_batches (batch_id, table_name, file_name, file_path, started_at, status) "
        "VALUES (?, ?, ?, ?, ?, 'running')", [batch_id, spec.name, path.name, str(path.resolve()), started])
    result = BatchResult(batch_id=batch_id, table=spec.name, file=path.name, status="running")
    staged = None
    facts = None
    try:
        if not path.is_file():
            raise IngestError(f"文件不存在：{path}", code="FG106")
        say(f"{spec.name}：检查 {path.name}", None)
        csv_like = path.suffix.lower() in (".csv", ".txt")
        facts = readers.inspect_file(path) if csv_like else readers.hash_file(path)
        result.encoding = facts.encoding
        previous = con.execute(
            "SELECT batch_id FROM load_batches WHERE table_name = ? AND file_hash = ? AND status = 'ok' "
            "ORDER BY batch_id LIMIT 1", [spec.name, facts.sha256]).fetchone()
        if previous and not force:
            result.status = "skipped"
            result.message = f"与批次 {previous[0]} 的文件内容完全相同，未重复导入"
        else:
            staged = readers.stage(con, spec, path, chunk_rows=chunk_rows, facts=facts)
            result.ignored_columns = staged.ignored
            with _watch(con, say, f"{spec.name}：读取并校验 {path.name}"):
                _find_bad_rows(con, spec, staged)
            result.rejected = _record_rejects(con, spec, staged, batch_id)
            with _watch(con, say, f"{spec.name}：合并入库"):
                result.inserted, result.replaced, result.unchanged = _merge(con, spec, staged, batch_id)
            result.rows_in = result.inserted + result.replaced + result.unchanged + result.rejected
            result.status = "ok"
        _finish(con, result, facts, path, started)
    except Exception as exc:
        result.status = "failed"
        result.message = exc.message if isinstance(exc, IngestError) else f"{type(exc).__name__}: {exc}"
        _finish(con, result, facts, path, started)
        raise
    finally:
        for tmp in _TEMP_TABLES:
            con.execute(f"DROP TABLE IF EXISTS {tmp}")
        if staged is not None and staged.cleanup is not None:
            staged.cleanup.cleanup()
    return result


@contextmanager
def _watch(con: duckdb.DuckDBPyConnection, say: Progress, label: str):
    """Report DuckDB's own progress of the running statement every half second."""
    done = threading.Event()

    def poll() -> None:
        while not done.wait(0.5):
            try:
                pct = con.query_progress()
            except duckdb.Error:
                return
            if pct is not None and pct >= 0:
                say(label, min(pct, 100.0) / 100.0)

    say(label, None)
    thread = threading.Thread(target=poll, daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()
        say(label, 1.0)


def _last_batch(con) -> BatchResult:
    row = con.execute(
        "SELECT batch_id, table_name, file_name, status, coalesce(rows_in, 0), message, encoding "
        "FROM load_batches ORDER BY batch_id DESC LIMIT 1").fetchone()
    return BatchResult(batch_id=row[0], table=row[1], file=row[2], status=row[3], rows_in=row[4],
                       message=row[5] or "", encoding=row[6] or "")


def _finish(con, result: BatchResult, facts, path: Path, started: dt.datetime) -> None:
    finished = dt.datetime.now()
    result.seconds = (finished - started).total_seconds()
    con.execute(
        """UPDATE load_batches SET file_hash = ?, file_size = ?, file_format = ?, encoding = ?, finished_at = ?,
           status = ?, rows_in = ?, rows_inserted = ?, rows_replaced = ?, rows_unchanged = ?, rows_rejected = ?,
           ignored_columns = ?, message = ? WHERE batch_id = ?""",
        [facts.sha256 if facts else None, facts.size if facts else None, path.suffix.lower().lstrip("."),
         result.encoding, finished, result.status, result.rows_in, result.inserted, result.replaced,
         result.unchanged, result.rejected, ";".join(result.ignored_columns), result.message, result.batch_id])


def _checks(spec: TableSpec, staged: readers.StagedFile) -> list[tuple[str, str, str]]:
    """(condition over raw ``r_<col>`` and parsed ``p_<col>``, column, reject code) for every check."""
    checks = []
    for col, target in spec.typed_columns:
        if col not in staged.columns:
            if col in spec.key:
                checks.append(("true", col, "R01"))
            continue
        present = convert.present_expr("r_" + col, staged.columns[col])
        if col in spec.key:
            checks.append((f"NOT {present}", col, "R01"))
        elif col in spec.not_empty:
            checks.append((f"NOT {present}", col, "R02"))
        code = convert.reason_for(target)
        if code:
            checks.append((f"{present} AND {quote('p_' + col)} IS NULL", col, code))
    return checks


def _parsed_source(spec: TableSpec, staged: readers.StagedFile, extra: str = "") -> str:
    """The file's rows with every present column both raw (``r_``) and parsed (``p_``)."""
    cols = []
    for c in spec.columns:
        if c in staged.columns:
            cols.append(f"{convert.parse_expr(c, staged.columns[c], spec.type_of(c))} AS {quote('p_' + c)}")
            cols.append(f"{quote(c)} AS {quote('r_' + c)}")
    return f"(SELECT __line, {', '.join(cols)}{extra} FROM {staged.source} src)"


def _good_rows(con, spec: TableSpec, staged: readers.StagedFile) -> str:
    """SELECT of the file's good rows: typed columns, source line and content hash."""
    present = [c for c in spec.columns if c in staged.columns]
    typed = ", ".join(f"{quote('p_' + c)} AS {quote(c)}" for c in present)
    hashed = ", ".join(quote("p_" + c) for c in present)
    drop = ""
    if con.execute("SELECT count(*) FROM __drop").fetchone()[0]:
        drop = "ANTI JOIN __drop d ON d.__line = src.__line"  # one integer column: a cheap hash anti-join
    return f"SELECT src.__line, {typed}, hash({hashed}) AS __hash FROM {_parsed_source(spec, staged)} src {drop}"


def _find_bad_rows(con, spec: TableSpec, staged: readers.StagedFile) -> None:
    """``__bad``: lines failing a check; ``__dups``: keys seen more than once among good lines (with the
    first line); ``__drop``: every line that must not load."""
    bad = " OR ".join(f"({cond})" for cond, _, _ in _checks(spec, staged)) or "false"
    parsed = _parsed_source(spec, staged)
    con.execute(f"CREATE OR REPLACE TEMP TABLE __bad AS SELECT __line FROM {parsed} WHERE coalesce({bad}, false)")
    if staged.collect_structural(con):  # line numbers of a CSV shift around structurally broken lines
        parsed = _parsed_source(spec, staged)
        con.execute(f"CREATE OR REPLACE TEMP TABLE __bad AS SELECT __line FROM {parsed} WHERE coalesce({bad}, false)")
    has_bad = con.execute("SELECT count(*) FROM __bad").fetchone()[0] > 0
    good = f"{parsed} src ANTI JOIN __bad b ON b.__line = src.__line" if has_bad else f"{parsed} src"
    key = ", ".join(f"{quote('p_' + k)} AS {quote(k)}" for k in spec.key)
    group = ", ".join(quote("p_" + k) for k in spec.key)
    con.execute(f"""CREATE OR REPLACE TEMP TABLE __dups AS SELECT {key}, min(__line) AS __first FROM {good}
                    GROUP BY {group} HAVING count(*) > 1""")
    con.execute("CREATE OR REPLACE TEMP TABLE __drop AS SELECT __line FROM __bad")
    if con.execute("SELECT count(*) FROM __dups").fetchone()[0]:
        on = " AND ".join(f"d.{quote(k)} = src.{quote('p_' + k)}" for k in spec.key)
        con.execute(f"INSERT INTO __drop SELECT src.__line FROM {good} JOIN __dups d ON {on} "
                    f"WHERE src.__line <> d.__first")


def _record_rejects(con, spec: TableSpec, staged: readers.StagedFile, batch_id: int) -> int:
    """Write one reject row per bad value, per in-file duplicate key and per broken line; count rows."""
    file_name = staged.path.name
    bad_rows = con.execute("SELECT count(*) FROM __bad").fetchone()[0]
    if bad_rows:
        items = [
            f"CASE WHEN {cond} THEN {{'col': '{col}', 'code': '{code}', 'val': "
            f"{('CAST(' + quote('r_' + col) + ' AS VARCHAR)') if col in staged.columns else 'NULL'}}} END"
            for cond, col, code in _checks(spec, staged)
        ]
        reasons = "map {" + ", ".join(f"'{k}': '{v}'" for k, v in REJECT_REASONS.items()) + "}"
        source = _parsed_source(spec, staged, extra=", to_json(src)::VARCHAR AS __raw_json")
        con.execute(
            f"""INSERT INTO load_rejects
                SELECT ?, ?, ?, __line, e.col, e.val, e.code, {reasons}[e.code] || coalesce('：' || e.val, ''),
                       __raw_json
                FROM (SELECT __line, __raw_json,
                             unnest(list_filter([{', '.join(items)}], lambda x: x IS NOT NULL)) AS e
                      FROM {source} WHERE __line IN (SELECT __line FROM __bad))""",
            [batch_id, spec.name, file_name])
    dup_rows = 0
    if con.execute("SELECT count(*) FROM __dups").fetchone()[0]:
        on = " AND ".join(f"d.{quote(k)} = src.{quote('p_' + k)}" for k in spec.key)
        key_text = " || '/' || ".join(f"CAST(d.{quote(k)} AS VARCHAR)" for k in spec.key)
        source = _parsed_source(spec, staged, extra=", to_json(src)::VARCHAR AS __raw_json")
        dup_rows = con.execute(
            f"""INSERT INTO load_rejects
                SELECT ?, ?, ?, src.__line, '{'+'.join(spec.key)}', {key_text}, 'R05',
                       '{REJECT_REASONS['R05']}：' || {key_text} || '（首次出现于第 ' || d.__first || ' 行）',
                       src.__raw_json
                FROM {source} src JOIN __dups d ON {on} ANTI JOIN __bad b ON b.__line = src.__line
                WHERE src.__line <> d.__first""",
            [batch_id, spec.name, file_name]).fetchone()[0]
    if staged.structural:
        con.executemany(
            "INSERT INTO load_rejects VALUES (?, ?, ?, ?, NULL, ?, 'R06', ?, NULL)",
            [[batch_id, spec.name, file_name, r.line, r.record, f"{REJECT_REASONS['R06']}：{r.message}"]
             for r in staged.structural])
    return bad_rows + dup_rows + len(staged.structural)


def _merge(con, spec: TableSpec, staged: readers.StagedFile, batch_id: int) -> tuple[int, int, int]:
    """Merge the file's good rows on the natural key. Returns (inserted, replaced, unchanged).

    Into an empty table the rows go straight from the file (one scan, nothing materialised); otherwise
    they are staged in ``__typed`` and compared with the stored rows.
    """
    present = [c for c in spec.columns if c in staged.columns]
    cols = ", ".join(quote(c) for c in present)
    good = _good_rows(con, spec, staged)
    con.execute("BEGIN TRANSACTION")
    try:
        if not con.execute(f"SELECT count(*) FROM {spec.name}").fetchone()[0]:
            inserted = con.execute(f"INSERT INTO {spec.name} ({cols}, _batch_id, _src_line, _row_hash) "
                                   f"SELECT {cols}, ?, __line, __hash FROM ({good})", [batch_id]).fetchone()[0]
            con.execute("COMMIT")
            return inserted, 0, 0
        con.execute(f"CREATE OR REPLACE TEMP TABLE __typed AS SELECT *, false AS __bad FROM ({good})")
        total = con.execute("SELECT count(*) FROM __typed").fetchone()[0]
        on = " AND ".join(f"t.{quote(k)} = v.{quote(k)}" for k in spec.key)
        # Rows already stored: identical → unchanged; different content → replaced, old row kept.
        stored_hash = f"hash({', '.join('t.' + quote(c) for c in present)})"
        key_json = "to_json({" + ", ".join(f"'{k}': t.{quote(k)}" for k in spec.key) + "})::VARCHAR"
        changed = " || ".join(
            f"CASE WHEN t.{quote(c)} IS DISTINCT FROM v.{quote(c)} THEN '{c};' ELSE '' END" for c in present)
        replaced = con.execute(
            f"""INSERT INTO load_replacements
                SELECT ?, '{spec.name}', {key_json}, t._batch_id, t._src_line, v.__line,
                       rtrim({changed}, ';'), to_json(t)::VARCHAR
                FROM {spec.name} t JOIN __typed v ON {on} WHERE {stored_hash} <> v.__hash""",
            [batch_id]).fetchone()[0]
        if replaced:
            con.execute(f"DELETE FROM {spec.name} t USING __typed v WHERE {on} AND {stored_hash} <> v.__hash")
        con.execute(f"UPDATE __typed v SET __bad = true FROM {spec.name} t WHERE {on}")
        to_insert = con.execute(
            f"INSERT INTO {spec.name} ({cols}, _batch_id, _src_line, _row_hash) "
            f"SELECT {cols}, ?, __line, __hash FROM __typed WHERE NOT __bad", [batch_id]).fetchone()[0]
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return to_insert - replaced, replaced, total - to_insert
