"""The real-time engine runs the rule SQL on SQLite: transpiled from the library's DuckDB SQL with sqlglot.

Why SQLite and not DuckDB for one encounter: DuckDB plans every statement anew, prepared ones included
(measured: 2–4 ms of planning per rule, ~0.5 s for the rules of one inpatient scene, whatever the data
size), while SQLite compiles a statement once per connection and re-runs it in microseconds per row. The rule
text stays the batch engine's: the same ``sqltools.render`` (parameters, amount wrapping), then the same
sqlglot step the Spark engine uses, plus the few rewrites SQLite needs to mean what DuckDB means:

- ``year/month/day(d)`` → ``CAST(substr(d, 1, 4) AS INTEGER)`` … (ISO text, see below); ``starts_with(s, p)``
  → prefix compare;
- ``greatest/least`` skip NULL arguments in DuckDB (SQLite's max/min would return NULL);
- ``a / b`` is always a real division in DuckDB;
- ``unnest(string_split(s, ';'))`` in a select list → a join with ``json_each`` over the split text;
- ``LIKE`` is case-sensitive (``PRAGMA case_sensitive_like``), dates are ``YYYY-MM-DD`` text and
  timestamps ``YYYY-MM-DD HH:MM:SS`` text, decimals are reals.

The golden-case parity test (tests/realtime/test_parity.py) checks every real-time rule's cases against the
batch engine, findings, ids, amounts and texts included.
"""

from __future__ import annotations

import datetime as dt
import decimal
import sqlite3

import sqlglot
from sqlglot import exp

from fundguard.engine import sqltools
from fundguard.rules.library import Rule

KEY_COLUMNS = ("mdtrt_id", "psn_no", "fixmedins_code", "kp_id", "grp", "bkkp_sn", "setl_id", "hilist_code",
               "hilist_name", "bilg_dr_code")
TEXT_KEYS = ("grp", "kp_id", "bkkp_sn", "mdtrt_id", "psn_no", "fixmedins_code", "setl_id", "hilist_code")
INTERNAL = ("__fee", "__line_fund", "__enc_fund")
TS_FORMAT = "%Y-%m-%d %H:%M:%S"


def affinity(duck_type: str) -> str:
    """The SQLite column type of a DuckDB column type."""
    t = duck_type.upper()
    if t.startswith(("DECIMAL", "DOUBLE", "FLOAT", "REAL", "NUMERIC")):
        return "REAL"
    if t.startswith(("INTEGER", "BIGINT", "SMALLINT", "TINYINT", "HUGEINT", "UBIGINT", "UINTEGER", "BOOLEAN")):
        return "INTEGER"
    return "TEXT"


def value(v):
    """A Python value as SQLite stores it here."""
    if isinstance(v, dt.datetime):
        return v.strftime(TS_FORMAT)
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, decimal.Decimal):
        return float(v)
    if isinstance(v, bool):
        return int(v)
    return v


def duck_select(column: str, duck_type: str) -> str:
    """A DuckDB select expression giving ``column`` in this module's SQLite representation."""
    t = duck_type.upper()
    q = f'"{column}"'
    if t.startswith("TIMESTAMP"):
        return f"strftime({q}, '{TS_FORMAT}') AS {q}"
    if t == "DATE":
        return f"CAST({q} AS VARCHAR) AS {q}"
    if t.startswith("DECIMAL"):
        return f"CAST({q} AS DOUBLE) AS {q}"
    if t.startswith(("UBIGINT", "HUGEINT")):
        return f"CAST({q} AS VARCHAR) AS {q}"
    return q


def connect(path: str | None = None) -> sqlite3.Connection:
    """A SQLite connection set up as the transpiled SQL expects (``file:…?mode=ro`` URIs open read-only)."""
    path = path or ":memory:"
    con = sqlite3.connect(path, check_same_thread=True, isolation_level=None, cached_statements=512,
                          uri=path.startswith("file:"))
    con.execute("PRAGMA case_sensitive_like = ON")
    con.execute("PRAGMA temp_store = MEMORY")
    return con


# sqlite3_config options (sqlite3.h)
_CONFIG_MULTITHREAD, _CONFIG_MEMSTATUS = 2, 9


def tune_process() -> bool:
    """Configure the SQLite library of a worker process whose connections are each used by one thread only
    (``Executor``): call before the process opens its first connection. Python builds SQLite's serialized mode,
    where every call (each column value read, each statement step) takes the connection's mutex, and every
    allocation takes a global one for memory statistics; multi-thread mode without those statistics spares
    about 8 % of a real-time request's CPU (measured). Linux only, and only when the library that Python's
    ``sqlite3`` uses is found (by its mapping in this process and its version); returns whether it was applied."""
    import ctypes

    try:
        with open("/proc/self/maps", encoding="utf-8") as maps:
            paths = {line.split()[-1] for line in maps if "/libsqlite3.so" in line}
    except OSError:
        return False
    if len(paths) != 1:  # not found (SQLite linked into Python itself), or ambiguous
        return False
    try:
        lib = ctypes.CDLL(paths.pop())
    except OSError:
        return False
    major, minor, patch = sqlite3.sqlite_version_info
    if lib.sqlite3_libversion_number() != major * 1_000_000 + minor * 1_000 + patch:
        return False
    if lib.sqlite3_shutdown() != 0:
        return False
    applied = lib.sqlite3_config(_CONFIG_MULTITHREAD) == 0
    applied = lib.sqlite3_config(_CONFIG_MEMSTATUS, ctypes.c_int(0)) == 0 and applied
    return lib.sqlite3_initialize() == 0 and applied


# ---- transpiling ------------------------------------------------------------------------------------------
def _not_null_extreme(node: exp.Expression, name: str) -> exp.Expression:
    args = [node.this, *node.expressions]
    if len(args) == 1:
        return args[0]
    # DuckDB's greatest/least ignore NULLs: feed SQLite's max/min every argument with NULLs replaced by another one
    filled = [exp.Coalesce(this=a.copy(), expressions=[b.copy() for b in args if b is not a]) for a in args]
    return exp.Anonymous(this=name, expressions=filled)


def _rewrite(node: exp.Expression) -> exp.Expression:
    if isinstance(node, (exp.Year, exp.Month, exp.Day)):
        # dates and timestamps are ISO text here: the part is a fixed slice (cheaper than parsing with strftime)
        start, length = {exp.Year: (1, 4), exp.Month: (6, 2), exp.Day: (9, 2)}[type(node)]
        return exp.Cast(this=exp.Substring(this=node.this, start=exp.Literal.number(start),
                                           length=exp.Literal.number(length)),
                        to=exp.DataType.build("INTEGER"))
    if isinstance(node, exp.StartsWith):
        return exp.EQ(this=exp.Substring(this=node.this.copy(), start=exp.Literal.number(1),
                                         length=exp.Length(this=node.expression.copy())),
                      expression=node.expression.copy())
    if isinstance(node, exp.Greatest):
        return _not_null_extreme(node, "max")
    if isinstance(node, exp.Least):
        return _not_null_extreme(node, "min")
    if isinstance(node, exp.Div):
        return exp.Div(this=exp.Cast(this=node.this.copy(), to=exp.DataType.build("DOUBLE")),
                       expression=node.expression.copy())
    return node


def _unnest_split(select: exp.Select) -> None:
    """``SELECT a, unnest(string_split(s, ';')) AS x FROM t`` → ``SELECT a, __j.value AS x FROM t, json_each(…) __j``."""
    for i, projection in enumerate(select.expressions):
        inner = projection.this if isinstance(projection, exp.Alias) else projection
        if not isinstance(inner, (exp.Unnest, exp.Explode)):
            continue
        split = inner.expressions[0] if isinstance(inner, exp.Unnest) else inner.this
        if not isinstance(split, exp.Split):
            raise NotImplementedError("实时引擎只支持 unnest(string_split(…)) 形式的展开")
        text, sep = split.this, split.expression
        escaped = f"replace(replace(coalesce({text.sql('duckdb')}, ''), '\\', '\\\\'), '\"', '\\\"')"
        array = f"'[\"' || replace({escaped}, {sep.sql('duckdb')}, '\",\"') || '\"]'"
        alias = projection.alias or "value"
        select.expressions[i] = sqlglot.parse_one(f"__j.value AS {alias}", read="duckdb")
        source = sqlglot.parse_one(f"SELECT * FROM json_each({array}) AS __j", read="duckdb").find(exp.From).this
        select.join(source, join_type="cross", copy=False)
        # json_each of a NULL text gives [""]: keep DuckDB's semantics (no row) for NULL input
        select.where(f"{text.sql('duckdb')} IS NOT NULL", copy=False)


def to_sqlite(sql: str) -> str:
    """DuckDB-dialect SQL (a rule or a working-set select) as SQLite SQL."""
    tree = sqlglot.parse_one(sql, read="duckdb")
    for select in list(tree.find_all(exp.Select)):
        _unnest_split(select)
    tree = tree.transform(_rewrite)
    for cte in tree.find_all(exp.CTE):
        cte.set("materialized", None)
    return tree.sql(dialect="sqlite")


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


_RULE_SQL: dict[tuple[str, str, str], tuple[str, tuple[str, ...], tuple[int, ...]]] = {}


def _rule_sql(rule: Rule, params: dict) -> tuple[str, tuple[str, ...], tuple[int, ...]]:
    values = rule.meta.param_values(params)
    sql, columns = sqltools.render(rule.sql, values, amount=rule.meta.amount, dialect="duckdb")
    present = set(columns)
    select = []
    for col in KEY_COLUMNS:
        select.append(f"CAST(__r.{_ident(col)} AS TEXT) AS {col}" if col in present else f"NULL AS {col}")
    select.append("CAST(__r.vola_fee AS REAL) AS vola_fee" if "vola_fee" in present else "NULL AS vola_fee")
    select += [f"CAST(__r.{c} AS REAL) AS {c}" for c in INTERNAL]
    # the evidence row as the batch engine keeps it (keys as text; missing optionals are None, added by the
    # reader): plain columns, which the reader turns into a dict for the one line per finding that needs it
    # (building JSON here for every row cost a quarter of the rules' time). A key column the row already
    # leads with (as text, as the evidence keeps it) is not selected twice: its position is reused.
    positions = []
    for col in columns:
        if col in TEXT_KEYS:
            positions.append(KEY_COLUMNS.index(col))
            continue
        positions.append(len(select))  # the column appended next
        select.append(f"__r.{_ident(col)} AS __rep{len(positions) - 1}")
    names = (*columns, *(c for c in sqltools.OPTIONAL if c not in present))
    return (f"SELECT {', '.join(select)} FROM ({to_sqlite(sql)}) AS __r "
            "WHERE __r.mdtrt_id IN (SELECT mdtrt_id FROM temp.__rt_current)"), names, tuple(positions)


def rule_statement(rule: Rule, params: dict | None = None) -> tuple[str, tuple[str, ...], tuple[int, ...]]:
    """The SQLite statement of one rule, giving its rows of the current encounter in the common row shape
    (KEY_COLUMNS, vola_fee, __fee, __line_fund, __enc_fund, then the evidence row's values that are not key
    columns), the names of the evidence row's fields (its values, then the optional columns the rule lacks:
    None), and the positions in a row of the values of the evidence row."""
    import json

    key = (rule.rule_id, rule.version, json.dumps(params or {}, sort_keys=True, default=str))
    if key not in _RULE_SQL:
        _RULE_SQL[key] = _rule_sql(rule, params or {})
    return _RULE_SQL[key]


def rule_sql(rule: Rule, params: dict | None = None) -> str:
    """The SQLite statement of one rule (``rule_statement``)."""
    return rule_statement(rule, params)[0]
