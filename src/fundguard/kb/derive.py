"""Derive typed limits from a knowledge point's class and constraint text when no structured value exists.

Each class has one small function. What cannot be derived is listed in ``record.unmapped`` so the
rule can still run (as 可疑 where the class allows) and the catalogue can report the gap.
"""

from __future__ import annotations

import re

from fundguard.kb.records import KbRecord

FEMALE = ("女", "妇", "孕", "产后", "产妇", "分娩", "阴道", "子宫", "宫颈", "卵巢", "输卵管", "月经", "经期", "痛经",
          "绝经", "带下", "乳腺", "哺乳", "妊娠", "胎", "恶露", "外阴", "盆腔", "更年期", "宫腔", "阴道镜", "产科")
MALE = ("男", "前列腺", "睾丸", "阴茎", "阴囊", "精索", "精液", "遗精", "早泄", "勃起", "包皮", "附睾", "雄激素性")
INPATIENT_MED_TYPES = ("21", "22", "23", "24", "28", "52")
_CN_NUM = {"一": 1, "二": 2, "两": 2, "三": 3}


def _text(rec: KbRecord) -> str:
    return f"{rec.item_name} {rec.constraint or ''}"


def gender(rec: KbRecord) -> None:
    if "gend" in rec.limits:
        return
    text = _text(rec)
    female = any(k in text for k in FEMALE)
    male = any(k in text for k in MALE)
    if female != male:
        rec.limits["gend"] = "2" if female else "1"
    else:
        rec.unmapped.append("gend")


def child(rec: KbRecord) -> None:
    rec.limits.setdefault("age_max", 18)


def newborn(rec: KbRecord) -> None:
    rec.limits.setdefault("age_max_days", 28)


def working_age(rec: KbRecord) -> None:
    rec.limits.setdefault("age_min", 16)
    rec.limits.setdefault("age_max", 60)


def work_injury(rec: KbRecord) -> None:
    rec.limits.setdefault("insutypes", "")


def maternity(rec: KbRecord) -> None:
    rec.limits.setdefault("insutypes", "510")


def hosp_grade(rec: KbRecord) -> None:
    if "min_hosp_grade" in rec.limits:
        return
    m = re.search(r"([一二三两])级(?:及以上|以上)?", rec.constraint or "")
    if m:
        rec.limits["min_hosp_grade"] = _CN_NUM[m.group(1)]
    else:
        rec.unmapped.append("min_hosp_grade")


def med_type(rec: KbRecord) -> None:
    if "med_types" in rec.limits:
        return
    text = rec.constraint or ""
    if "住院" in text:
        rec.limits["med_types"] = ";".join(INPATIENT_MED_TYPES)
    elif "门诊" in text:
        rec.limits["med_types"] = "11;14;51"
    else:
        rec.unmapped.append("med_types")


def course(rec: KbRecord) -> None:
    text = rec.constraint or ""
    if "max_days" not in rec.limits:
        m = re.search(r"(?:不超过|最长|最多|限)\s*(\d+)\s*(天|日|周|个月)", text)
        if m:
            n = int(m.group(1))
            rec.limits["max_days"] = n * {"天": 1, "日": 1, "周": 7, "个月": 30}[m.group(2)]
        else:
            rec.unmapped.append("max_days")
    if "min_interval_days" not in rec.limits:
        m = re.search(r"间隔[^\d]{0,6}(\d+)\s*天", text)
        if m:
            rec.limits["min_interval_days"] = int(m.group(1))


def frequency(rec: KbRecord) -> None:
    text = (rec.constraint or "").strip()
    if "period" not in rec.limits:
        for unit in ("日", "次住院", "次就诊", "月", "年"):
            if text.startswith(unit) or text == unit:
                rec.limits["period"] = unit
                break
        else:
            rec.limits["period"] = "日"
    rec.limits.setdefault("max_cnt", 1)


def period_frequency(rec: KbRecord) -> None:
    text = rec.constraint or ""
    if "period_days" not in rec.limits:
        m = re.search(r"(\d+)\s*[-~至到]\s*(\d+)\s*(周|个月|月|天)", text) or re.search(r"(\d+)\s*()(周|个月|月|天)", text)
        if m:
            n = int(m.group(1))
            rec.limits["period_days"] = n * {"周": 7, "个月": 30, "月": 30, "天": 1}[m.group(3)]
        else:
            rec.unmapped.append("period_days")
    rec.limits.setdefault("max_cnt", 1)


def surgery_discount(rec: KbRecord) -> None:
    rec.limits.setdefault("group_name", (rec.constraint or "").strip() or rec.item_name)
    rec.limits.setdefault("discount", 0.5)


def duplicate_pair(rec: KbRecord) -> None:
    rec.limits.setdefault("scope", "同日")


def indication(rec: KbRecord) -> None:
    if "icd_prefixes" not in rec.limits:
        from fundguard.kb import icd

        prefixes = icd.prefixes_for(rec.constraint or "")
        if prefixes:
            rec.limits["icd_prefixes"] = ";".join(prefixes)
        else:
            rec.unmapped.append("icd_prefixes")


DERIVERS = {
    "药品区分性别使用": gender,
    "医疗服务项目区分性别使用": gender,
    "医用耗材与性别不符": gender,
    "药品儿童专用": child,
    "药品限儿童使用": child,
    "医疗服务项目儿童专用": child,
    "医疗服务项目限儿童使用": child,
    "耗材限儿童使用": child,
    "药品限新生儿使用": newborn,
    "医疗服务项目限新生儿使用": newborn,
    "耗材限新生儿使用": newborn,
    "医疗服务项目限年龄": working_age,
    "药品限工伤保险": work_injury,
    "医疗服务项目限工伤保险": work_injury,
    "药品限生育保险": maternity,
    "医疗服务项目限生育保险": maternity,
    "药品限医疗机构级别": hosp_grade,
    "医疗服务项目限医疗机构级别": hosp_grade,
    "药品限就医方式": med_type,
    "医疗服务项目限就医方式": med_type,
    "药品限支付疗程": course,
    "医疗服务项目限支付疗程": course,
    "医疗服务项目限定频次": frequency,
    "医疗服务项目周期超频次": period_frequency,
    "手术项目未按规定折价收费": surgery_discount,
    "医疗服务项目重复收费": duplicate_pair,
    "药品限适应症": indication,
    "医疗服务项目限适应症": indication,
}


def fill_limits(rec: KbRecord) -> None:
    fn = DERIVERS.get(rec.rule_class)
    if fn is not None:
        fn(rec)
