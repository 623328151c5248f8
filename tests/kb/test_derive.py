"""Limits derived from the constraint text (batches 9–17 and the revision carry no structured values)."""

from __future__ import annotations

import pytest

from fundguard.kb import derive, icd
from fundguard.kb.records import KbRecord


def _rec(rule_class: str, constraint: str, item_name: str = "某项目") -> KbRecord:
    rec = KbRecord(rule_class=rule_class, item_name=item_name, codes=[("X1", "")], source_kind="json",
                   file_name="t.json", source_row=1, constraint=constraint)
    derive.fill_limits(rec)
    return rec


@pytest.mark.parametrize("text, gend", [
    ("限转移性激素敏感性前列腺癌(mHSPC)患者。", "1"),
    ("用于神经衰弱，男子更年期障碍或缺乏睾丸素所致的各种疾病。", "1"),  # 男子 outweighs 更年期
    ("清热利湿，调经止带。用于湿热下注，白带过多。", "2"),
    ("适用于先兆流产；习惯性流产；先兆早产。", "2"),
    ("女性孕产相关诊疗操作", "2"),
    ("用于感冒发热。", None),
])
def test_gender_keywords(text, gend):
    rec = _rec("药品区分性别使用", text)
    assert rec.limits.get("gend") == gend
    assert rec.unmapped == ([] if gend else ["gend"])


@pytest.mark.parametrize("rule_class, text, expected", [
    ("药品限儿童使用", "限儿童。", {"age_max": 18}),
    ("药品限儿童使用", "限5至12岁以下单纯性甲型和乙型流感儿童患者。", {"age_min": 5, "age_max": 12}),
    ("药品限儿童使用", "限3-12岁特发性或先天性肺动脉高压患者。", {"age_min": 3, "age_max": 13}),
    ("药品限儿童使用", "限：1.1岁至14岁儿童哮喘的预防；2.2岁至14岁儿童过敏性鼻炎。", {"age_min": 1, "age_max": 15}),
    ("药品限儿童使用", "限3岁及3岁以上伴有症状的儿童患者。", {"age_min": 3, "age_max": 18}),
    ("药品儿童专用", "用于小儿感冒，1-3岁一次半袋。", {"age_max": 18}),  # a dosage table is no limit
    ("医疗服务项目儿童专用", "新生儿专用项目", {"age_max_days": 28, "age_max": 1}),
    ("医疗服务项目儿童专用", "婴幼儿专用项目", {"age_max": 3}),
    ("医疗服务项目儿童专用", "婴儿专用项目", {"age_max": 1}),
    ("医疗服务项目儿童专用", "小儿专用项目", {"age_max": 18}),
    ("医疗服务项目限年龄", "限法定就业年龄段患者", {"age_min": 16, "age_max": 60}),
])
def test_age_limits(rule_class, text, expected):
    assert _rec(rule_class, text).limits == expected


def test_revision_compatibility_characters_are_normalised():
    old = _rec("药品限儿童使用", "限：1.预防儿童肝脏或肾脏移植术后的移植物排斥反应。")
    new = _rec("药品限儿童使用", "限：1.预防⼉童肝脏或肾脏移植术后的移植物排斥反应。")  # U+2F09 in the 2026-01 text
    assert old.limits == new.limits == {"age_max": 18}
    assert derive.norm("不能经饮食或使用“肠内营养剂”") == derive.norm("不能经饮食或使用“肠内营养剂”")


@pytest.mark.parametrize("text, grade", [
    ("限二级及以上医疗机构。", 2),
    ("限二甲双胍等控制效果不佳的患者，首次处方时需由二级及以上医疗机构专科医师开具处方。", 2),
    ("应同时符合：1.需三级综合医院眼科或二级及以上眼科专科医院医师处方。", 3),
    ("限WHO功能分级Ⅱ级-Ⅲ级的患者。", None),
])
def test_institution_level(text, grade):
    assert _rec("药品限医疗机构级别", text).limits.get("min_hosp_grade") == grade


@pytest.mark.parametrize("text, med_types", [
    ("…补充足够营养的住院患者方予支付。", "21;22;23;24;28;52"),
    ("限急诊或住院患者。", "13;21;22;23;24;28;52"),
    ("限门诊使用。", "11;14;51"),
    ("限工伤保险。", None),
])
def test_visit_type(text, med_types):
    assert _rec("药品限就医方式", text).limits.get("med_types") == med_types


@pytest.mark.parametrize("rule_class, text, limits", [
    ("药品限支付疗程", "限急性缺血性脑血管疾病，支付不超过14天。", {"max_days": 14}),
    ("药品限支付疗程", "限脑梗死恢复期患者，单次住院最多支付14天。", {"max_days": 14}),
    ("药品限支付疗程", "限以下情况方可支付，且支付不超过12个月：1.HER2阳性…", {"max_days": 365}),
    ("医疗服务项目限支付疗程", "支付不超过一年，每周最多支付一次。", {"max_days": 365, "min_interval_days": 7}),
    ("医疗服务项目限支付疗程", "总时间不超过90天，评定间隔时间不短于14天。", {"max_days": 90, "min_interval_days": 14}),
    ("医疗服务项目限定频次", "日", {"period": "日", "max_cnt": 1}),
    ("医疗服务项目限定频次", "小时", {"period": "日", "max_cnt": 24}),
    ("医疗服务项目周期超频次", "诊疗规范：糖化血红蛋白水平反映近2-3个月的平均血糖水平。", {"period_days": 60, "max_cnt": 1}),
    ("医疗服务项目周期超频次", "评定间隔时间不短于14天。（人社部发〔2016〕23号）", {"period_days": 14, "max_cnt": 1}),
    ("医疗服务项目周期超频次", "每周最多支付一次。", {"period_days": 7, "max_cnt": 1}),
    ("手术项目未按规定折价收费", "胃肠手术组", {"group_name": "胃肠手术组", "discount": 0.5}),
    ("医疗服务项目重复收费", "含监护、床位", {"scope": "同日"}),
    ("药品限工伤保险", "限工伤保险", {"insutypes": ""}),
    ("药品限生育保险", "限生育保险", {"insutypes": "510"}),
])
def test_course_frequency_and_other_limits(rule_class, text, limits):
    assert _rec(rule_class, text).limits == limits


def test_what_cannot_be_derived_is_listed():
    assert _rec("药品限支付疗程", "限新发的急性缺血性脑卒中患者。").unmapped == ["max_days"]
    assert _rec("药品限二线使用", "限二线用药。").unmapped == ["first_line_codes"]
    assert _rec("药品限适应症", "限头孢菌素耐药或重症感染患者。").unmapped == ["icd_prefixes"]
    assert _rec("中药饮片单复方均不予支付", "不得纳入基金支付范围的中药饮片").unmapped == []


@pytest.mark.parametrize("text, prefixes", [
    ("限2型糖尿病。", ["E11"]),  # the longer keyword consumes 糖尿病
    ("限间变性淋巴瘤激酶(ALK)阳性的局部晚期或转移性非小细胞肺癌(NSCLC)患者。", ["C34"]),  # a gene, not a lymphoma
    ("限对传统治疗或肿瘤坏死因子α(TNF-α)拮抗剂应答不足的中重度活动性克罗恩病患者。", ["K50"]),
    ("限国际预后指数为0～2分的CD20阳性弥漫大B细胞性非霍奇金淋巴瘤成人患者。", ["C82", "C83", "C84", "C85"]),
    ("限对奈诺沙星敏感的肺炎链球菌、流感嗜血杆菌引起的社区获得性肺炎。", ["J12", "J13", "J14", "J15", "J16", "J17", "J18"]),
    ("限放化疗。", ["Z51", "C", "D4"]),  # only weak words: used because nothing specific was found
    ("限肾性贫血、非骨髓恶性肿瘤化疗引起的贫血。", ["N18", "D50", "D51", "D52", "D53", "D55", "D56", "D57",
                                                     "D58", "D59", "D60", "D61", "D62", "D63", "D64"]),  # D63.8 ⊂ D63
    ("限有明确药敏试验证据或重症感染的患者。", []),
])
def test_indication_to_icd_prefixes(text, prefixes):
    assert icd.prefixes_for(derive.norm(text)) == prefixes


def test_indication_point_gets_prefixes():
    rec = _rec("药品限适应症", "限：1.反流性食管炎；2.十二指肠溃疡。")
    assert rec.limits["icd_prefixes"] == "K20;K21;K26" and rec.unmapped == []
