"""The real national data (read in place from ../shared/data): JSON batches 1–17 + the 2026-01 revision and
the 14 workbooks of batches 1–8, imported in both orders."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections import Counter

from tests.kb.test_merge import snapshot

POINTS_PER_CLASS = {
    "医疗服务项目重复收费": 900, "药品区分性别使用": 640, "药品限适应症": 510, "医疗服务项目区分性别使用": 390,
    "手术项目未按规定折价收费": 378, "药品儿童专用": 366, "药品限医疗机构级别": 123, "中药饮片单方使用不予支付": 116,
    "药品限二线使用": 110, "药品限就医方式": 76, "医疗服务项目限定频次": 67, "药品限支付疗程": 59,
    "中药饮片单复方均不予支付": 37, "医疗服务项目儿童专用": 30, "药品限儿童使用": 24, "超互联网医院药品支付范围": 22,
    "药品限工伤保险": 18, "医疗服务项目周期超频次": 14, "医疗服务项目限支付疗程": 11, "药品限生育保险": 6,
    "医疗服务项目限年龄": 1,
}
SUPERSEDED_PER_CLASS = {"药品区分性别使用": 156, "药品儿童专用": 95, "药品限医疗机构级别": 61, "药品限就医方式": 34,
                        "药品限支付疗程": 29, "药品限儿童使用": 10, "药品限工伤保险": 9, "药品限生育保险": 3}
WORKBOOK_ROWS = {"药品规则库(限定年龄对象)": 282, "药品规则库(限定性别对象)": 481, "项目规则库(限定年龄对象)": 30,
                 "项目规则库(限定性别对象)": 390, "重复收费": 900, "限定保险类型": 12, "限定主次操作": 378,
                 "限定机构等级": 61, "限定频次": 67, "限定年龄）": 1, "限定疗程": 11, "限定周期": 14,
                 "限定支付疗程": 30, "限定就医方式": 35}


def _open(store, read_only=True):
    from fundguard.store.db import connect

    return connect(store.path, read_only=read_only)


def test_both_import_orders_give_the_same_points_limits_and_sources(kb_stores):
    a, b = _open(kb_stores["json_first"]), _open(kb_stores["xlsx_first"])
    try:
        assert snapshot(a) == snapshot(b)
    finally:
        a.close()
        b.close()
    print("\n导入用时（一次导入 JSON + 14 个工作簿）：" + "，".join(
        f"{k} {v.seconds:.1f} 秒" for k, v in kb_stores.items()))


def test_counts_per_class_without_duplicates(kb_stores):
    con = _open(kb_stores["json_first"])
    try:
        rows = con.execute("SELECT rule_class, count(*), count(superseded_by) FROM kb_points GROUP BY 1").fetchall()
        assert {c: n for c, n, _ in rows} == POINTS_PER_CLASS
        assert {c: s for c, _, s in rows if s} == SUPERSEDED_PER_CLASS
        # every workbook row joined a national point: no point comes from a workbook alone
        alone = con.execute("""SELECT count(*) FROM (SELECT kp_id FROM kb_point_sources GROUP BY kp_id
                               HAVING count(*) FILTER (WHERE source_kind = 'json') = 0)""").fetchone()[0]
        assert alone == 0
        per_file = Counter(dict(con.execute("""SELECT file_name, count(*) FROM kb_point_sources
            WHERE source_kind = 'xlsx' AND fields NOT LIKE '%inherited_from%' GROUP BY 1""").fetchall()))
        assert {k: next(n for f, n in per_file.items() if k in f) for k in WORKBOOK_ROWS} == WORKBOOK_ROWS
        rejected = con.execute("SELECT file_name, rows_rejected FROM kb_imports WHERE rows_rejected > 0").fetchall()
        assert sorted(rejected) == [("two_libraries_all_records.json", 1), ("【第八批-1】项目规则库（限定频次）.xlsx", 2)]
    finally:
        con.close()


def test_every_revision_is_in_force_and_its_predecessor_ended(kb_stores, national_files):
    records = json.loads(national_files[0].read_text(encoding="utf-8"))
    revisions = [r for r in records if r.get("supersedes")]
    assert len(revisions) == 397
    con = _open(kb_stores["xlsx_first"])
    try:
        point_of = dict(con.execute("SELECT source_id, kp_id FROM kb_point_sources WHERE source_kind = 'json'").fetchall())
        cols = ("kp_id", "effective_from", "effective_to", "superseded_by")
        points = {r[0]: dict(zip(cols, r)) for r in con.execute(f"SELECT {', '.join(cols)} FROM kb_points").fetchall()}
    finally:
        con.close()
    for rev in revisions:
        new, old = points[point_of[rev["kp_id"]]], points[point_of[rev["supersedes"]]]
        published = dt.date.fromisoformat(rev["published_at"])
        assert (new["effective_from"], new["effective_to"], new["superseded_by"]) == (published, None, None)
        assert old["effective_to"] == published - dt.timedelta(days=1) and old["superseded_by"] == new["kp_id"]


def test_coverage_of_text_derivation(kb_stores):
    from fundguard.kb.importer import structured_conflicts

    con = _open(kb_stores["json_first"])
    try:
        unmapped = con.execute("""SELECT rule_class, unmapped, count(*) FROM kb_points WHERE unmapped IS NOT NULL
                                  GROUP BY ALL ORDER BY ALL""").fetchall()
        conflicts = structured_conflicts(con)
    finally:
        con.close()
    print("\n限定条件未能结构化：" + "；".join(f"{c} {u} {n}" for c, u, n in unmapped))
    by_limit = Counter((c["rule_class"], c["limit"]) for c in conflicts)
    print("工作簿与文字推导不一致：" + "；".join(f"{c} {lim} {n}" for (c, lim), n in sorted(by_limit.items())))
    assert unmapped == [("药品限二线使用", "first_line_codes", 110), ("药品限适应症", "icd_prefixes", 18)]
    assert by_limit == {("医疗服务项目重复收费", "scope"): 454, ("医疗服务项目周期超频次", "period_days"): 4,
                        ("医疗服务项目儿童专用", "age_max"): 1, ("药品限支付疗程", "max_days"): 1,
                        ("药品限就医方式", "med_types"): 1}


def test_reimporting_the_national_json_changes_nothing(kb_stores, tmp_path, national_files):
    from fundguard.kb.importer import import_file
    from fundguard.store.db import connect

    copy = tmp_path / "copy.duckdb"
    shutil.copy(kb_stores["json_first"].path, copy)
    con = connect(copy)
    try:
        before = snapshot(con)
        result = import_file(con, national_files[0])
        assert (result.points_new, result.points_merged, result.unchanged) == (0, 0, 3898)
        assert snapshot(con) == before
    finally:
        con.close()
