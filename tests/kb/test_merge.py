"""Merging JSON and workbook sources: any import order, idempotent re-import, revisions in force, rejects."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from fundguard.kb.importer import (
    KbImportError,
    import_file,
    import_files,
    import_points,
    structured_conflicts,
)
from tests.kb.conftest import write_json, write_workbook

REV = {"batch": None, "batch_tag": "updates_2026-01", "published_at": "2026-01-28"}


def _point(kp_id, rule_class, codes, name, constraint, batch=1, **extra):
    return {"kp_id": kp_id, "rule_class": rule_class, "med_codes": codes, "item_name": name, "constraint": constraint,
            "detect_logic": "检出逻辑", "batch": batch, "published_at": None, "supersedes": None,
            "source": {"attachment_file": "附件.xlsx", "row": int(kp_id.split("-")[-1])}, **extra}


NATIONAL = [
    _point("KP-1", "药品区分性别使用", ["X1", "X2"], "某颗粒", "用于感冒发热。"),
    _point("KP-2", "药品区分性别使用", ["X1", "X2", "X3"], "某颗粒", "用于感冒发热。", supersedes="KP-1", **REV),
    _point("KP-3", "药品限医疗机构级别", ["Y1"], "某注射液", "限二级及以上医疗机构。", batch=5),
    _point("KP-4", "药品限医疗机构级别", ["Y1"], "某注射液", "限三级医疗机构。", supersedes="KP-3", **REV),
    _point("KP-5", "医疗服务项目重复收费", ["A1", "B1"], "甲×乙", "含乙", batch=7),
    _point("KP-6", "手术项目未按规定折价收费", ["S1"], "某手术", "胃肠手术组", batch=2),
    _point("KP-7", "手术项目未按规定折价收费", ["S1"], "某手术", "肝胆手术组", batch=2),
    _point("KP-8", "医疗服务项目区分性别使用", [], "说明：不纳入此规则", "说明"),
]


@pytest.fixture
def files(tmp_path):
    json_file = write_json(tmp_path / "national.json", NATIONAL)
    gender = write_workbook(
        tmp_path / "【第一批】药品规则库(限定性别对象).xlsx",
        ("Sheet1", [["药品通用名", "药品说明", "限定类型", "限定对象"], ["某颗粒", "用于感冒发热。", "限定性别对象", "女"]]),
        ("Sheet2", [["药品通用名", "序号", "国标代码", "限定类型"], ["某颗粒", 1, "X2", "限定性别对象"],
                    ["某颗粒", 2, "X1", "限定性别对象"]]))
    level = write_workbook(
        tmp_path / "【第五批】药品规则库（限定机构等级）.xlsx",
        ("Sheet1", [["药品通用名", "药品说明", "限定类型", "限定值域"],
                    ["某注射液", "限二级及以上医疗机构。", "限定机构等级", "二级"]]),
        ("Sheet2", [["药品通用名", "序号", "国标代码", "限定类型"], ["某注射液", 1, "Y1", "限定机构等级"]]))
    pairs = write_workbook(
        tmp_path / "【第七批】项目规则库（重复收费）.xlsx",
        ("Sheet1", [["序号", "频度", "主项名称", "主项编码", "从项名称", "从项编码", "备注"],
                    [1, "单次就诊", "甲", "A1", "乙", "B1", "含乙"], [2, "单日", "乙", "B1", "甲", "A1", "反向"]]))
    surgery = write_workbook(
        tmp_path / "【第二批】项目规则库（限定主次操作）.xlsx",
        ("Sheet1", [["项目名称", "项目说明", "国标代码", "限定类型", "限定值域"],
                    ["某手术", "经同一切口…", "S1", "限定主次操作", "胃肠手术组"]]))
    return json_file, [gender, level, pairs, surgery]


def snapshot(con):
    points = con.execute("SELECT * FROM kb_points ORDER BY kp_id").fetchall()
    codes = con.execute("SELECT * FROM kb_point_codes ORDER BY ALL").fetchall()
    sources = con.execute("SELECT kp_id, source_kind, file_name, source_row, source_id, batch, published_at, fields "
                          "FROM kb_point_sources ORDER BY ALL").fetchall()
    return points, codes, sources


def _by_source(con, source_id):
    cols = [d[0] for d in con.execute("SELECT * FROM kb_points LIMIT 0").description]
    row = con.execute("SELECT p.* FROM kb_points p JOIN kb_point_sources s USING (kp_id) WHERE s.source_id = ? "
                      "AND s.fields NOT LIKE '%inherited_from%'", [source_id]).fetchone()
    return dict(zip(cols, row))


def test_either_import_order_gives_the_same_points(store, files, tmp_path):
    from fundguard.store.db import connect

    json_file, workbooks = files
    for path in [json_file, *workbooks]:
        import_file(store, path)
    other = connect(tmp_path / "other.duckdb")
    try:
        for path in [*reversed(workbooks), json_file]:
            import_file(other, path)
        assert snapshot(store) == snapshot(other)
    finally:
        other.close()
    classes = dict(store.execute("SELECT rule_class, count(*) FROM kb_points GROUP BY 1").fetchall())
    # one point per class and code; revisions are points of their own; pairs per ordered pair; 折价 per group
    assert classes == {"药品区分性别使用": 2, "药品限医疗机构级别": 2, "医疗服务项目重复收费": 2,
                       "手术项目未按规定折价收费": 2}


def test_structured_values_win_and_a_revision_inherits_them(store, files):
    json_file, workbooks = files
    import_file(store, json_file)
    old, new = _by_source(store, "KP-1"), _by_source(store, "KP-2")
    assert old["gend"] is None and old["unmapped"] == "gend"  # "用于感冒发热" names no gender
    import_files(store, workbooks)  # the workbooks come AFTER the JSON
    old, new = _by_source(store, "KP-1"), _by_source(store, "KP-2")
    assert (old["gend"], new["gend"], new["unmapped"]) == ("2", "2", None)
    inherited = store.execute("SELECT file_name, fields FROM kb_point_sources WHERE kp_id = ? AND fields LIKE "
                              "'%inherited_from%'", [new["kp_id"]]).fetchall()
    assert inherited == [("【第一批】药品规则库(限定性别对象).xlsx",
                          json.dumps({"inherited_from": old["kp_id"], "limits": {"gend": "2"}}, ensure_ascii=False))]
    # the revision states a different level (三级) than its predecessor's text: the workbook's 二级 is not taken
    assert (_by_source(store, "KP-3")["min_hosp_grade"], _by_source(store, "KP-4")["min_hosp_grade"]) == (2, 3)
    # the revision keeps its own code list; the workbook's codes belong to the point it merged with
    codes = store.execute("SELECT hilist_code FROM kb_point_codes WHERE kp_id = ? ORDER BY 1", [new["kp_id"]]).fetchall()
    assert [c for (c,) in codes] == ["X1", "X2", "X3"]


def test_the_newest_revision_is_in_force(store, files):
    json_file, workbooks = files
    import_files(store, [*workbooks, json_file])
    old, new = _by_source(store, "KP-1"), _by_source(store, "KP-2")
    assert new["effective_from"] == dt.date(2026, 1, 28) and new["effective_to"] is None
    assert old["effective_to"] == dt.date(2026, 1, 27) and old["superseded_by"] == new["kp_id"]
    assert new["supersedes"] == "KP-1"
    from fundguard.engine.workset import WORKSET

    sql = dict(WORKSET)["fg_kb"]
    in_force = store.execute(f"SELECT DISTINCT kp_id FROM ({sql}) WHERE hilist_code = 'X1' "
                             "AND DATE '2026-03-01' BETWEEN eff_from AND eff_to").fetchall()
    assert in_force == [(new["kp_id"],)]


def test_reimport_is_idempotent(store, files):
    json_file, workbooks = files
    import_files(store, [json_file, *workbooks])
    before = snapshot(store)
    again = import_file(store, json_file)
    assert (again.points_new, again.points_merged, again.unchanged) == (0, 0, 7)
    assert "知识库未改变" in again.message
    assert import_files(store, workbooks)[0].unchanged == 1
    assert snapshot(store) == before
    assert store.execute("SELECT count(*) FROM kb_imports").fetchone()[0] == 2 * (1 + len(workbooks))


def test_a_changed_row_replaces_its_earlier_version(store, tmp_path):
    first = write_json(tmp_path / "v1.json", NATIONAL[2:3])
    changed = [dict(NATIONAL[2], constraint="限三级医疗机构。")]
    import_file(store, first)
    result = import_file(store, write_json(tmp_path / "v2.json", changed))
    assert (result.points_new, result.points_merged) == (0, 1)
    point = _by_source(store, "KP-3")
    assert (point["constraint_text"], point["min_hosp_grade"]) == ("限三级医疗机构。", 3)
    assert store.execute("SELECT count(*) FROM kb_point_sources").fetchone()[0] == 1


def test_unusable_rows_are_rejected_with_reasons(store, tmp_path):
    bad = [NATIONAL[7], "x", {"rule_class": "", "med_codes": ["Z1"]},
           {"rule_class": "医疗服务项目重复收费", "med_codes": ["A1"], "item_name": "缺B"},
           {"rule_class": "药品区分性别使用", "med_codes": ["Z2"], "params": {"sex": "1"}},
           _point("KP-9", "药品区分性别使用", ["Z3"], "好药", "限女性。")]
    result = import_file(store, write_json(tmp_path / "bad.json", bad))
    assert result.rejected == [(1, "医疗服务项目区分性别使用「说明：不纳入此规则」没有医保编码，无法用于审核"),
                               (2, "不是对象"), (3, "缺少 rule_class"), (4, "医疗服务项目重复收费 需要项目A和项目B两个编码"),
                               (5, "params 中有未知的键：sex")]
    assert result.points_new == 1 and store.execute("SELECT gend FROM kb_points").fetchall() == [("2",)]
    logged = store.execute("SELECT rows_in, rows_rejected, message FROM kb_imports").fetchone()
    assert logged[:2] == (6, 5) and "第1条：" in logged[2]
    with pytest.raises(KbImportError, match="不支持的知识库文件格式"):
        import_file(store, write_json(tmp_path / "x.txt", []))


def test_params_of_our_own_points_win_over_text(store):
    import_points(store, [{"kp_id": "K1", "rule_class": "药品限儿童使用", "med_codes": ["C1"], "item_name": "某药",
                           "constraint": "限3-12岁患者。", "params": {"age_max": 6}}])
    assert store.execute("SELECT age_min, age_max FROM kb_points").fetchone() == (3, 6)


def test_conflicts_between_workbook_and_text_are_listed(store, files):
    json_file, workbooks = files
    import_files(store, [json_file, *workbooks])
    conflicts = structured_conflicts(store)
    assert [(c["rule_class"], c["limit"], c["structured"], c["text"]) for c in conflicts] == [
        ("医疗服务项目重复收费", "scope", "同次就诊", "同日")]


def test_sources_of_an_earlier_version_are_upgraded(store, files):
    json_file, _ = files
    import_file(store, json_file)
    before = snapshot(store)[:2]
    # an older importer stored only the limits in `fields`
    store.execute("UPDATE kb_point_sources SET fields = '{}' WHERE source_id = 'KP-3'")
    import_file(store, json_file)
    assert snapshot(store)[:2] == before
    assert store.execute("SELECT count(*) FROM kb_point_sources WHERE source_id = 'KP-3'").fetchone()[0] == 1
