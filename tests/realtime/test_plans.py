"""Every real-time statement reads the large reference tables by index, never whole.

A province's catalogue holds 10⁵ codes, its knowledge base 10⁴ points, its purchase records and history 10⁶
rows and more: a rule whose SQLite plan scans one of them, or builds an automatic index or a Bloom filter
over it (both read the whole table), costs tens of milliseconds per request there while staying fast on the
test data. The planner is given a province's table sizes (sqlite_stat1) and every real-time rule's plan,
and the executor's history loads, are checked for such reads.
"""

from __future__ import annotations

import math
import re
import shutil
import sqlite3

import pytest

from fundguard.engine.realtime import lite, scenes
from fundguard.engine.realtime.executor import RAW_TABLES, Executor, _raw_history_insert
from fundguard.engine.realtime.service import RealtimeService

# rows of a province's reference tables, and distinct values of the columns their indexes start with
PROVINCE_ROWS = {"hilist": 150_000, "fg_kb": 40_000, "rt_kp": 5_000, "medins_info": 30_000,
                 "medins_purc": 2_000_000, "medins_invt": 500_000, "kb_relations": 50_000}
HISTORY_ROWS = 10_000_000  # rt_hist_* and rt_ws_*: a province's encounters and lines of the history window
DISTINCT = {"hilist_code": 100_000, "kp_id": 4_000, "fixmedins_code": 3_000, "__psn": 1_000_000,
            "code_a": 10_000, "code_b": 10_000, "list_type": 5, "rel_type": 10, "rule_class": 30,
            "begndate": 20, "__begn": 365}
# reads allowed with the reason
ALLOWED = {("FG-C06", "medins_info"): "LIMIT 1: only whether the list has rows"}
BAD = re.compile(r"^(SCAN|BLOOM FILTER ON) (\w+)|^SEARCH (\w+) USING AUTOMATIC")


def province_statistics(path: str) -> dict[str, int]:
    """Write a province's table sizes into the mirror's sqlite_stat1; the large tables and their rows."""
    con = sqlite3.connect(path)
    big = dict(PROVINCE_ROWS)
    for (name,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                               "AND (name LIKE 'rt_hist_%' OR name LIKE 'rt_ws_%')").fetchall():
        big[name] = HISTORY_ROWS
    stats = []
    for table, rows in big.items():
        stats.append((table, None, str(rows)))
        for (index,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
                                    "AND sql IS NOT NULL", (table,)).fetchall():
            per, keys = [], 1
            for col in [r[2] for r in con.execute(f"PRAGMA index_info({lite._ident(index)})")]:
                keys *= DISTINCT.get(col, 100)
                per.append(str(max(1, math.ceil(rows / keys))))
            stats.append((table, index, " ".join([str(rows), *per])))
    con.execute("DELETE FROM sqlite_stat1")
    con.executemany("INSERT INTO sqlite_stat1 VALUES (?, ?, ?)", stats)
    con.commit()
    con.close()
    return big


@pytest.fixture(scope="module")
def executor(kb_con, tmp_path_factory):
    service = RealtimeService(kb_con, record=False, workers=1)
    version = service.history.ensure()
    path = str(tmp_path_factory.mktemp("plans") / "mirror.sqlite")
    shutil.copyfile(service.history.path, path)
    big = province_statistics(path)
    ex = Executor(path, service.params)
    ex.refresh(version)
    yield ex, big, service.rules
    ex.close()
    service.close()


def whole_reads(con, sql: str, big: dict[str, int]) -> list[str]:
    """Plan lines that read a large table whole."""
    alias = {m.group(2): m.group(1)
             for m in re.finditer(r'(?:FROM|JOIN)\s+(?:\w+\.)?"?(\w+)"?\s+(?:AS\s+)?"?(\w+)"?', sql)}
    numbered = [int(n) for n in re.findall(r"\?(\d+)", sql)]
    params = ["0"] * (max(numbered) if numbered else sql.count("?"))  # the plan does not depend on the values
    out = []
    for row in con.execute("EXPLAIN QUERY PLAN " + sql, params):
        m = BAD.match(row[3])
        if m:
            name = next(g for g in m.groups()[1:] if g)
            table = alias.get(name, name)
            if table in big:
                out.append(f"{table}: {row[3]}")
    return out


def test_province_statistics_are_in_force(executor):
    ex, _, _ = executor
    assert ex.con.execute("SELECT stat FROM main.sqlite_stat1 WHERE tbl = 'hilist' AND idx IS NULL").fetchone() \
        == (str(PROVINCE_ROWS["hilist"]),)
    # a statement that can only scan is reported: the check sees whole reads
    assert whole_reads(ex.con, "SELECT count(*) FROM hilist WHERE hilist_name LIKE '%x%'", executor[1])


def test_rules_read_reference_tables_by_index(executor):
    ex, big, rules = executor
    chosen = {r.rule_id: r for r in scenes.realtime_rules(rules, "事前") + scenes.realtime_rules(rules, "事中")}
    assert len(chosen) > 40
    problems = []
    for rule_id, rule in chosen.items():
        sql = lite.rule_sql(rule, ex.params.get(rule_id))
        for line in whole_reads(ex.con, sql, big):
            if (rule_id, line.split(":")[0]) not in ALLOWED:
                problems.append(f"{rule_id} {line}")
    assert not problems, "规则在全省规模的参考表上整表读取：\n" + "\n".join(problems)


def test_history_loads_read_by_person(executor):
    ex, big, _ = executor
    statements = list(ex._ws_history.values()) + [_raw_history_insert(t) for t in RAW_TABLES]
    assert statements
    problems = [f"{line} ← {sql[:80]}" for sql in statements for line in whole_reads(ex.con, sql, big)]
    assert not problems, "\n".join(problems)
