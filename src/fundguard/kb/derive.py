"""Derive typed limits from a knowledge point's class and constraint text when no structured value exists.

Each class has one small function; it only fills limits the record does not carry yet, so structured
values (workbook columns, our JSON ``params``) always win. ``REQUIRED`` names the limits a class needs;
``missing()`` lists those still empty, which the importer stores as the point's ``unmapped`` so the
catalogue can report the gap and the rule can skip the point.

Texts are NFKC-normalised first (the 2026-01 revision uses compatibility characters such as ``⼉`` for 儿
and half-width punctuation), so a revision that only changes punctuation derives the same values.
"""

from __future__ import annotations

import re
import unicodedata

from fundguard.kb.records import KbRecord

# Gender keywords: strong ones name the gender itself, weak ones an organ, condition or phase of life.
FEMALE_STRONG = ("女性", "妇女", "女子", "妇科", "孕产", "产科")
MALE_STRONG = ("男性", "男子", "男科")
FEMALE = ("女", "妇", "孕", "产后", "产妇", "分娩", "阴道", "子宫", "宫颈", "卵巢", "输卵管", "月经", "经期", "痛经",
          "绝经", "带下", "白带", "止带", "治带", "赤带", "黄带", "带经", "乳腺", "哺乳", "妊娠", "胎", "恶露", "外阴",
          "盆腔", "盆炎", "更年期", "宫腔", "经前", "经血", "经闭", "闭经", "调经", "流产", "早产", "下乳", "乳汁",
          "奶汁", "催乳", "通乳", "生乳", "暖宫", "宫寒", "崩漏", "排卵", "黄体", "雌激素", "雌二醇", "孕酮", "助产",
          "接生", "剖宫", "羊水", "宫外孕")
MALE = ("男", "前列腺", "睾丸", "阴茎", "阴囊", "精索", "精液", "精子", "遗精", "早泄", "阳痿", "勃起", "包皮", "附睾",
        "雄激素性", "输精管", "去势抵抗")
INPATIENT_MED_TYPES = ("21", "22", "23", "24", "28", "52")
OUTPATIENT_MED_TYPES = ("11", "14", "51")
EMERGENCY_MED_TYPES = ("13",)
_CN_DIGITS = {"零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
NUM = r"(\d+|[一二两三四五六七八九十]+)"
UNIT_DAYS = {"天": 1, "日": 1, "周": 7, "星期": 7, "个月": 30, "月": 30, "年": 365}


def norm(text: str | None) -> str:
    """NFKC-normalised text with unified dashes and no line breaks."""
    text = unicodedata.normalize("NFKC", text or "")
    return re.sub(r"\s+", " ", text.replace("－", "-").replace("—", "-").replace("～", "~")).strip()


def cn_number(token: str) -> int:
    """'14' → 14, '十二' → 12, '二十' → 20, '一' → 1."""
    if token.isdigit():
        return int(token)
    if "十" in token:
        head, _, tail = token.partition("十")
        return (_CN_DIGITS.get(head, 1) if head else 1) * 10 + (_CN_DIGITS.get(tail, 0) if tail else 0)
    return _CN_DIGITS.get(token, 0)


def to_days(n: int, unit: str) -> int:
    """Days for ``n`` units; whole years of months count 365 days a year (12 个月 → 365)."""
    if unit in ("个月", "月") and n % 12 == 0:
        return n // 12 * 365
    return n * UNIT_DAYS[unit]


def _text(rec: KbRecord) -> str:
    return norm(f"{rec.item_name} {rec.constraint or ''}")


def gender_of(text: str) -> str | None:
    """'1' male / '2' female by weighted keyword hits (a strong word counts 3); ``None`` when tied."""
    female = sum(3 for k in FEMALE_STRONG if k in text) + sum(1 for k in FEMALE if k in text)
    male = sum(3 for k in MALE_STRONG if k in text) + sum(1 for k in MALE if k in text)
    if female == male:
        return None
    return "2" if female > male else "1"


def gender(rec: KbRecord) -> None:
    if "gend" not in rec.limits:
        value = gender_of(_text(rec))
        if value:
            rec.limits["gend"] = value


def age_range(text: str) -> tuple[float | None, float | None]:
    """(age_min, age_max) in years from 限… texts; age_max is exclusive ("3-12岁" → 3, 13)."""
    mins: list[float] = []
    maxs: list[float] = []
    for m in re.finditer(r"(\d+)\s*岁?\s*(?:至|到|-|~)\s*(?:<\s*)?(\d+)\s*岁(以下)?", text):
        lo, hi = int(m.group(1)), int(m.group(2))
        below = m.group(3) or "<" in m.group(0)
        mins.append(lo)
        maxs.append(hi if below else hi + 1)
    for m in re.finditer(r"(?:≥|>=)\s*(\d+)\s*岁|(\d+)\s*岁(?:及(?:\d+\s*岁)?)?以上", text):
        mins.append(int(m.group(1) or m.group(2)))
    for m in re.finditer(r"(?:<|未满)\s*(\d+)\s*(?:周)?岁|(\d+)\s*岁以下", text):
        if not re.search(r"(?:至|到|-|~)\s*$", text[: m.start()]):
            maxs.append(int(m.group(1) or m.group(2)))
    return (min(mins) if mins else None), (max(maxs) if maxs else None)


def child(rec: KbRecord) -> None:
    """Children's items: 新生儿 ≤ 28 days, 婴儿 < 1, 婴幼儿 < 3, otherwise the stated range, by default < 18."""
    text = norm(rec.constraint)
    head = re.match(r"(新生儿|婴幼儿|婴儿|小儿|儿童)专用", text)
    if head and head.group(1) == "新生儿":
        rec.limits.setdefault("age_max_days", 28)
        rec.limits.setdefault("age_max", 1)  # conservative bound in years for rules that read age_max only
    elif head and head.group(1) in ("婴儿", "婴幼儿"):
        rec.limits.setdefault("age_max", 1 if head.group(1) == "婴儿" else 3)
    elif text.startswith("限"):  # policy texts state ranges; drug descriptions (dosage tables) do not count
        lo, hi = age_range(text)
        if lo is not None:
            rec.limits.setdefault("age_min", lo)
        if hi is not None:
            rec.limits.setdefault("age_max", hi)
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


def hosp_grade_of(text: str) -> int | None:
    m = re.search(r"([一二三两])级(?:及以上|以上)?(?:综合)?(?:医疗机构|医院|眼科|专科|定点)", text) \
        or re.search(r"([一二三两])级(?:及以上|以上)", text)
    return cn_number(m.group(1)) if m else None


def hosp_grade(rec: KbRecord) -> None:
    if "min_hosp_grade" not in rec.limits:
        value = hosp_grade_of(norm(rec.constraint))
        if value:
            rec.limits["min_hosp_grade"] = value


def med_types_of(text: str) -> str | None:
    types: list[str] = []
    if "急诊" in text:
        types += EMERGENCY_MED_TYPES
    if "住院" in text or "日间手术" in text:
        types += INPATIENT_MED_TYPES
    if re.search(r"门诊(?!慢特病)", text) and "住院" not in text:
        types += OUTPATIENT_MED_TYPES
    return ";".join(dict.fromkeys(types)) or None


def med_type(rec: KbRecord) -> None:
    if "med_types" not in rec.limits:
        value = med_types_of(norm(rec.constraint))
        if value:
            rec.limits["med_types"] = value


def course_days_of(text: str) -> int | None:
    m = re.search(rf"(?:不超过|不得超过|不多于|最多|最长|限)\s*(?:支付|使用|用药)?\s*{NUM}\s*(个月|星期|天|日|周|月|年)", text)
    return to_days(cn_number(m.group(1)), m.group(2)) if m else None


def interval_days_of(text: str) -> int | None:
    m = re.search(r"间隔(?:时间)?[^\d]{0,6}(\d+)\s*天", text)
    if m:
        return int(m.group(1))
    if re.search(r"每(?:周|星期)(?:最多|限)?(?:支付|使用)?\s*(?:一|1)\s*次", text):
        return 7
    return None


def course(rec: KbRecord) -> None:
    text = norm(rec.constraint)
    if "max_days" not in rec.limits:
        value = course_days_of(text)
        if value:
            rec.limits["max_days"] = value
    if "min_interval_days" not in rec.limits:
        value = interval_days_of(text)
        if value:
            rec.limits["min_interval_days"] = value


def frequency(rec: KbRecord) -> None:
    """限定频次: the published unit is 日/天 (once a day) or 小时 (at most 24 hours a day)."""
    text = norm(rec.constraint)
    if "period" not in rec.limits:
        for unit in ("次住院", "次就诊", "日", "天", "小时", "月", "年"):
            if text.startswith(unit) or f"每{unit}" in text:
                rec.limits["period"] = {"天": "日", "小时": "日"}.get(unit, unit)
                break
    if "max_cnt" not in rec.limits:
        m = re.search(rf"(?:不超过|最多|限)\s*{NUM}\s*次", text)
        if m:
            rec.limits["max_cnt"] = cn_number(m.group(1))
        elif text.startswith("小时"):
            rec.limits["max_cnt"] = 24
        elif rec.limits.get("period") == "日":
            rec.limits["max_cnt"] = 1


def period_days_of(text: str) -> int | None:
    value = interval_days_of(text)
    if value:
        return value
    m = re.search(rf"{NUM}\s*(?:[-~至到]\s*{NUM})?\s*(个月|星期|周|月|天)", text)
    return to_days(cn_number(m.group(1)), m.group(3)) if m else None  # the lower bound of "2-3个月"


def period_frequency(rec: KbRecord) -> None:
    if "period_days" not in rec.limits:
        value = period_days_of(norm(rec.constraint))
        if value:
            rec.limits["period_days"] = value
    rec.limits.setdefault("max_cnt", 1)


def surgery_discount(rec: KbRecord) -> None:
    text = norm(rec.constraint)
    if "group_name" not in rec.limits and text.endswith("组"):
        rec.limits["group_name"] = text
    rec.limits.setdefault("discount", 0.5)


def duplicate_pair(rec: KbRecord) -> None:
    rec.limits.setdefault("scope", "同日")  # the national JSON carries no 频度; the narrower scope is the default


def indication(rec: KbRecord) -> None:
    if "icd_prefixes" not in rec.limits:
        from fundguard.kb import icd

        prefixes = icd.prefixes_for(norm(rec.constraint))
        if prefixes:
            rec.limits["icd_prefixes"] = ";".join(prefixes)


def second_line(rec: KbRecord) -> None:
    """The first-line drugs are never published with the point; only a structured source can give them."""


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
    "药品限二线使用": second_line,
}

# The limits each class needs before its rule can judge a point (empty ones are reported as unmapped).
REQUIRED: dict[str, tuple[str, ...]] = {
    "药品区分性别使用": ("gend",), "医疗服务项目区分性别使用": ("gend",), "医用耗材与性别不符": ("gend",),
    "药品儿童专用": ("age_max",), "药品限儿童使用": ("age_max",), "医疗服务项目儿童专用": ("age_max",),
    "医疗服务项目限儿童使用": ("age_max",), "耗材限儿童使用": ("age_max",),
    "药品限新生儿使用": ("age_max_days",), "医疗服务项目限新生儿使用": ("age_max_days",),
    "耗材限新生儿使用": ("age_max_days",), "医疗服务项目限年龄": ("age_min", "age_max"),
    "药品限工伤保险": ("insutypes",), "医疗服务项目限工伤保险": ("insutypes",),
    "药品限生育保险": ("insutypes",), "医疗服务项目限生育保险": ("insutypes",),
    "药品限医疗机构级别": ("min_hosp_grade",), "医疗服务项目限医疗机构级别": ("min_hosp_grade",),
    "药品限就医方式": ("med_types",), "医疗服务项目限就医方式": ("med_types",),
    "药品限支付疗程": ("max_days",), "医疗服务项目限支付疗程": ("max_days",),
    "医疗服务项目限定频次": ("max_cnt", "period"), "医疗服务项目周期超频次": ("max_cnt", "period_days"),
    "手术项目未按规定折价收费": ("group_name", "discount"), "医疗服务项目重复收费": ("scope",),
    "药品限适应症": ("icd_prefixes",), "医疗服务项目限适应症": ("icd_prefixes",),
    "药品限二线使用": ("first_line_codes",),
}


def fill_limits(rec: KbRecord) -> None:
    fn = DERIVERS.get(rec.rule_class)
    if fn is not None:
        fn(rec)
    rec.unmapped = missing(rec.rule_class, rec.limits)


def missing(rule_class: str, limits: dict) -> list[str]:
    """Required limits of the class that are still empty ('' is a value: no basic-insurance type allowed)."""
    return [name for name in REQUIRED.get(rule_class, ()) if limits.get(name) is None]
