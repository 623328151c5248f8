"""Validation and mapping of 3101/3102 messages, and rule selection by stage and scene (no store needed)."""

from __future__ import annotations

import datetime as dt

import pytest

from fundguard.engine.realtime import fields, scenes
from fundguard.engine.realtime.mapping import COLUMNS, map_patient, setl_id_of
from fundguard.errors import RealtimeRequestError
from fundguard.rules.library import default_library
from tests.realtime.conftest import encounter, example


def _data(message):
    return fields.check_analysis(fields.check_envelope(message))


def test_values_are_typed_and_lenient_where_the_platform_is():
    message = example()
    order = encounter(message)["fsi_order_dtos"][0]
    order.update(cnt="2", pric=98.5, rx_id=1001, drord_begn_date="20250310")
    data = _data(message)
    order = data["patient_dtos"][0]["fsi_encounter_dtos"][0]["fsi_order_dtos"][0]
    assert order["cnt"] == 2.0 and order["rx_id"] == "1001"
    assert order["drord_begn_date"] == dt.datetime(2025, 3, 10)
    assert data["patient_dtos"][0]["brdy"] == dt.date(1958, 3, 12)
    assert data["patient_dtos"][0]["fsi_encounter_dtos"][0]["dscg_date"] is None  # still in hospital


@pytest.mark.parametrize("path, value, expected", [
    (("order", "cnt"), "两盒", "fsi_order_dtos[0].cnt（数量）应为数值"),
    (("order", "cnt"), float("nan"), "fsi_order_dtos[0].cnt（数量）应为有限数值"),
    (("order", "hilist_code"), ["x"], "fsi_order_dtos[0].hilist_code（医保目录代码）应为文本"),
    (("order", "drord_begn_date"), "昨天", "drord_begn_date（医嘱开始日期）应为日期时间"),
    (("encounter", "fsi_diagnose_dtos"), "I63.9", "fsi_diagnose_dtos（诊断信息列表）应为数组"),
    (("encounter", "adm_date"), "", "adm_date（入院日期）不能为空"),
    (("patient", "patn_id"), None, "缺少必填字段 input.data.patient_dtos[0].patn_id（参保人标识）"),
])
def test_errors_say_which_field_and_why(path, value, expected):
    message = example()
    enc = encounter(message)
    target = {"order": enc["fsi_order_dtos"][0], "encounter": enc,
              "patient": message["input"]["data"]["patient_dtos"][0]}[path[0]]
    target[path[1]] = value
    with pytest.raises(RealtimeRequestError) as err:
        _data(message)
    assert expected in err.value.message and err.value.code == "FG601"


def test_duplicate_order_ids_are_refused():
    message = example()
    orders = encounter(message)["fsi_order_dtos"]
    orders[1]["rx_id"] = orders[0]["rx_id"]
    with pytest.raises(RealtimeRequestError, match=r"fsi_order_dtos\[1\]\.rx_id.*重复"):
        _data(message)


def test_feedback_is_checked():
    ok = {"infno": "3103", "msgid": "M", "input": {"data": {"warn_type": "1", "warns": [
        {"warn_rslt_id": "JR1", "dspo_way": "1", "dspo_way_rea": "病情需要"}]}}}
    assert fields.check_feedback(fields.check_envelope(ok))["warns"][0]["dspo_way"] == "1"
    for warns, text in (([{"warn_rslt_id": "JR1", "dspo_way": "3"}], "dspo_way（处理方式）应为 1"),
                        ([{"warn_rslt_id": "JR1", "dspo_way": "1", "dspo_way_rea": " "}], "继续执行医嘱时必填"),
                        ([], "不能为空")):
        ok["input"]["data"]["warns"] = warns
        with pytest.raises(RealtimeRequestError, match=text):
            fields.check_feedback(fields.check_envelope(ok))


def test_an_order_becomes_a_fee_line_and_the_encounter_a_settlement():
    message = example()
    enc = encounter(message)
    order = enc["fsi_order_dtos"][0]
    order.update(drord_stop_date="2025-03-17 09:00:00", ownpay_amt=10, selfpay_amt=5.5, hilist_pric=0)
    patient = _data(message)["patient_dtos"][0]
    u = map_patient(patient, [], history_days=400)
    col = {t: {c: [r[i] for r in u.rows[t]] for i, c in enumerate(COLUMNS[t])} for t in COLUMNS}
    fee = col["fee_list_d"]
    i = fee["bkkp_sn"].index("RX0001")
    assert fee["prd_days"][i] == 7.0 and fee["fee_ocur_time"][i] == "2025-03-10 09:00:00"
    assert (fee["fulamt_ownpay_amt"][i], fee["preselfpay_amt"][i], fee["pric_uplmt_amt"][i]) == (10.0, 5.5, None)
    assert fee["setl_id"][i] == setl_id_of("MDT2025030800017") and fee["med_type"][i] == "21"
    setl = col["setl_d"]
    # no fund amount in the request: the fund is taken to pay the in-scope part of every line (an estimate)
    assert u.estimated and setl["fund_pay_sumamt"][0] == pytest.approx(343.8 - 15.5)
    assert col["mdtrt_d"]["endtime"] == [None] and col["mdtrt_d"]["hosp_lv"] == ["01"]
    assert col["setl_list_diag_d"]["diag_code"] == ["I63.9", "I10.x00"]
    assert u.hist_from == "2024-02-02 10:20:00"  # 400 days before admission (2024 is a leap year)
    assert u.rx_ids == ["RX0001", "RX0002", "RX0003", "RX0004"] and "001103000010000" in u.codes


def test_rules_follow_stage_scene_and_rule_ids():
    rules = default_library()
    inpatient = {"med_mdtrt_type": "2", "med_type": "21"}
    pre = scenes.select(rules, "3101", "5", None, inpatient)
    assert pre and all("事前" in r.meta.stages and "住院" in r.meta.scenarios for r in pre)
    assert "FG-A08" not in {r.rule_id for r in pre}  # 事中 only
    assert "FG-A08" in {r.rule_id for r in scenes.select(rules, "3102", "8", None, inpatient)}
    registration = scenes.select(rules, "3102", "3", None, inpatient)
    assert registration and all(r.meta.level != "line" for r in registration)
    pharmacy = scenes.select(rules, "3101", "2", None, {"med_mdtrt_type": "3", "med_type": "41"})
    assert "FG-C08" in {r.rule_id for r in pharmacy}  # 药店销售生活用品: 购药 only
    assert [r.rule_id for r in scenes.select(rules, "3101", "5", ["FG-N87", "FG-A11"], inpatient)] == ["FG-N87"]
    with pytest.raises(RealtimeRequestError, match="不存在的规则"):
        scenes.select(rules, "3101", None, ["FG-X99"], inpatient)


def test_a_selection_kept_for_a_scene_is_the_one_computed_afresh():
    rules = tuple(default_library())  # the service's tuple: selections without rule_ids are kept per scene
    encounters = [{"med_mdtrt_type": "2", "med_type": "21"}, {"med_mdtrt_type": "3", "med_type": "41"},
                  {"med_mdtrt_type": "1", "med_type": "11", "out_setl_flag": "1"}]
    for _ in range(2):
        for infno in ("3101", "3102"):
            for scene in [None, *scenes.SCENES]:
                for enc in encounters:
                    kept = scenes.select(rules, infno, scene, None, enc)
                    afresh = scenes.select(list(rules), infno, scene, None, enc)  # a list is never kept
                    assert [r.rule_id for r in kept] == [r.rule_id for r in afresh]
    picked = scenes.select(rules, "3101", "5", None, encounters[0])
    picked.clear()  # the caller's copy: the kept selection is unchanged
    assert scenes.select(rules, "3101", "5", None, encounters[0])
    other = tuple(default_library())[:5]  # another rule tuple is never given the first one's selection
    assert all(r in other for r in scenes.select(other, "3101", "5", None, encounters[0]))


def test_the_integration_guide_lists_every_field():
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "realtime.md").read_text(encoding="utf-8")
    missing = [f"{dto}.{f.name}" for dto, specs in fields.DTOS.items() for f in specs if f"| `{f.name}` |" not in doc]
    assert not missing, f"docs/realtime.md 缺少字段：{missing}"
    for scene in scenes.SCENES.values():
        assert scene.name in doc
