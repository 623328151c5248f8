"""The 3101/3102/3103 messages, field by field (../shared/reference/nhsa.md §2), and their validation.

One table of fields serves the validator (hot path: plain dicts, no model objects), the OpenAPI models
(``api.gateway_schema`` builds them from it) and the client. Each field: name, kind, maximum length,
required, Chinese title. Kinds: ``str`` (numbers are accepted and turned into text), ``num`` (a number or
a numeric string), ``date`` / ``datetime`` (``yyyy-MM-dd`` with an optional time; "" means none), ``strs``
(a list of text), ``obj`` (any object) and ``list:<dto>`` (a list of objects of that DTO).

A required field must be present and not null; an empty text counts as given (an inpatient still in hospital
has an empty ``dscg_date``). Errors name the field by its full path, in Chinese.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from dataclasses import dataclass
from typing import Any

from fundguard.errors import RealtimeRequestError


@dataclass(frozen=True)
class Field:
    name: str
    kind: str
    length: int | None
    required: bool
    title: str


def _f(name: str, kind: str = "str", length: int | None = None, required: bool = False, title: str = "") -> Field:
    return Field(name, kind, length, required, title)


Y = True
ENVELOPE = (
    _f("infno", "str", 4, Y, "交易编号（3101 事前分析、3102 事中分析、3103 反馈）"),
    _f("msgid", "str", 30, Y, "发送方报文 ID"),
    _f("mdtrtarea_admvs", "str", 6, title="就医地医保区划"),
    _f("insuplc_admdvs", "str", 6, title="参保地医保区划"),
    _f("recer_sys_code", "str", 10, title="接收方系统代码"),
    _f("dev_no", "str", 100, title="设备编号"),
    _f("dev_safe_info", "str", 2000, title="设备安全信息"),
    _f("cainfo", "str", 1024, title="数字签名信息"),
    _f("signtype", "str", 10, title="签名类型"),
    _f("infver", "str", 6, title="接口版本号"),
    _f("opter_type", "str", 3, title="经办人类别"),
    _f("opter", "str", 30, title="经办人"),
    _f("opter_name", "str", 50, title="经办人姓名"),
    _f("inf_time", "datetime", None, title="交易时间"),
    _f("fixmedins_code", "str", 30, title="定点医药机构编号"),
    _f("fixmedins_name", "str", 200, title="定点医药机构名称"),
    _f("fixmedins_soft_fcty", "str", 30, title="定点医药机构软件厂商"),
    _f("sign_no", "str", 30, title="交易签到流水号"),
    _f("input", "obj", None, Y, "交易输入"),
)

ANALYSIS_DATA = (
    _f("syscode", "str", 10, Y, "调用方系统简码"),
    _f("task_id", "str", 50, title="任务 ID（原样返回）"),
    _f("trig_scen", "str", 3, title="触发场景"),
    _f("rule_ids", "strs", 50, title="规则 ID 列表"),
    _f("patient_dtos", "list:patient", None, Y, "参保人信息列表"),
)

PATIENT = (
    _f("patn_id", "str", 50, Y, "参保人标识"),
    _f("patn_name", "str", 50, Y, "参保人姓名"),
    _f("gend", "str", 6, Y, "性别"),
    _f("brdy", "date", None, Y, "出生日期"),
    _f("poolarea", "str", 10, Y, "统筹区编码"),
    _f("curr_mdtrt_id", "str", 50, Y, "当前就诊标识"),
    _f("fsi_encounter_dtos", "list:encounter", None, Y, "就诊信息列表"),
    _f("fsi_his_data_dto", "obj", None, title="医院信息"),
)

ENCOUNTER = (
    _f("mdtrt_id", "str", 50, Y, "就诊标识"),
    _f("medins_id", "str", 50, Y, "定点医疗机构 ID"),
    _f("medins_name", "str", 200, Y, "定点医疗机构名称"),
    _f("medins_admdvs", "str", 6, Y, "定点医疗机构行政区划"),
    _f("medins_type", "str", 6, Y, "定点医疗机构类型"),
    _f("medins_lv", "str", 6, Y, "定点医疗机构等级"),
    _f("wardarea_codg", "str", 30, title="病区编码"),
    _f("wardno", "str", 30, title="病房号"),
    _f("bedno", "str", 30, title="病床号"),
    _f("adm_date", "datetime", None, Y, "入院日期"),
    _f("dscg_date", "datetime", None, Y, "出院日期"),
    _f("dscg_main_dise_codg", "str", 20, Y, "出院主诊断编码"),
    _f("dscg_main_dise_name", "str", 300, Y, "出院主诊断名称"),
    _f("dr_codg", "str", 30, Y, "医师编码"),
    _f("adm_dept_codg", "str", 30, Y, "入院科室编码"),
    _f("adm_dept_name", "str", 100, Y, "入院科室名称"),
    _f("dscg_dept_codg", "str", 30, Y, "出院科室编码"),
    _f("dscg_dept_name", "str", 100, Y, "出院科室名称"),
    _f("med_mdtrt_type", "str", 6, Y, "就诊类型（1 门诊、2 住院、3 购药、4 其他）"),
    _f("med_type", "str", 6, Y, "医疗类别"),
    _f("matn_stas", "str", 3, Y, "生育状态（0 其他、1 妊娠期、2 哺乳期）"),
    _f("medfee_sumamt", "num", None, Y, "总费用"),
    _f("ownpay_amt", "num", None, Y, "自费金额"),
    _f("selfpay_amt", "num", None, Y, "自付金额"),
    _f("acct_payamt", "num", None, title="个人账户支付金额"),
    _f("ma_amt", "num", None, title="医疗救助支付金额"),
    _f("hifp_payamt", "num", None, title="统筹基金支付金额"),
    _f("setl_totlnum", "num", None, Y, "结算总次数"),
    _f("insutype", "str", 6, Y, "险种类型"),
    _f("reim_flag", "str", 3, Y, "报销标志"),
    _f("out_setl_flag", "str", 3, Y, "异地结算标志"),
    _f("fsi_diagnose_dtos", "list:diagnose", None, Y, "诊断信息列表"),
    _f("fsi_order_dtos", "list:order", None, Y, "处方（医嘱）信息列表"),
    _f("fsi_operation_dtos", "list:operation", None, title="手术操作信息列表"),
)

DIAGNOSE = (
    _f("dise_id", "str", 50, title="诊断标识"),
    _f("inout_dise_type", "str", 3, title="出入诊断类别（1 入院、2 出院）"),
    _f("maindise_flag", "str", 3, title="主诊断标志（1 是、0 否）"),
    _f("dias_srt_no", "str", 6, title="诊断排序号"),
    _f("dise_codg", "str", 30, Y, "诊断编码"),
    _f("dise_name", "str", 200, title="诊断名称"),
    _f("dise_date", "datetime", None, title="诊断日期"),
)

ORDER = (
    _f("rx_id", "str", 50, Y, "处方（医嘱）标识"),
    _f("rxno", "str", 50, Y, "处方号"),
    _f("grpno", "str", 50, title="组编号"),
    _f("long_drord_flag", "str", 3, Y, "长期医嘱标志（1 是、0 否）"),
    _f("hilist_type", "str", 6, Y, "目录类别"),
    _f("chrg_type", "str", 6, Y, "收费类别"),
    _f("drord_bhvr", "str", 3, Y, "医嘱行为（0 其他、1 出院带药）"),
    _f("hilist_code", "str", 50, Y, "医保目录代码"),
    _f("hilist_name", "str", 200, Y, "医保目录名称"),
    _f("hilist_dosform", "str", 50, title="医保目录（药品）剂型"),
    _f("hilist_lv", "str", 6, Y, "医保目录等级"),
    _f("hilist_pric", "num", None, Y, "医保目录价格"),
    _f("lv1_hosp_item_pric", "num", None, title="一级医院目录价格"),
    _f("lv2_hosp_item_pric", "num", None, title="二级医院目录价格"),
    _f("lv3_hosp_item_pric", "num", None, title="三级医院目录价格"),
    _f("hilist_memo", "str", 500, title="医保目录备注（限定支付范围）"),
    _f("hosplist_code", "str", 50, Y, "医院目录代码"),
    _f("hosplist_name", "str", 200, Y, "医院目录名称"),
    _f("hosplist_dosform", "str", 50, title="医院目录（药品）剂型"),
    _f("cnt", "num", None, Y, "数量"),
    _f("pric", "num", None, Y, "单价"),
    _f("sumamt", "num", None, Y, "总费用"),
    _f("ownpay_amt", "num", None, Y, "自费金额"),
    _f("selfpay_amt", "num", None, Y, "自付金额"),
    _f("spec", "str", 200, Y, "规格"),
    _f("spec_unt", "str", 50, Y, "数量单位"),
    _f("drord_begn_date", "datetime", None, Y, "医嘱开始日期"),
    _f("drord_stop_date", "datetime", None, title="医嘱停止日期"),
    _f("drord_dept_codg", "str", 30, Y, "下达医嘱的科室标识"),
    _f("drord_dept_name", "str", 100, Y, "下达医嘱科室名称"),
    _f("drord_dr_codg", "str", 30, Y, "开处方（医嘱）医生标识"),
    _f("drord_dr_name", "str", 50, Y, "开处方（医嘱）医生姓名"),
    _f("drord_dr_profttl", "str", 6, Y, "开处方（医嘱）医生职称"),
    _f("curr_drord_flag", "str", 3, Y, "是否当前处方（医嘱）（1 是、0 否）"),
)

OPERATION = (
    _f("setl_list_oprn_id", "str", 50, Y, "手术操作 ID"),
    _f("oprn_code", "str", 30, title="手术操作代码"),
    _f("oprn_name", "str", 500, title="手术操作名称"),
    _f("main_oprn_flag", "str", 3, Y, "主手术操作标志（1 是、0 否）"),
    _f("oprn_date", "datetime", None, title="手术操作日期"),
    _f("anst_way", "str", 30, title="麻醉方式"),
    _f("oper_dr_name", "str", 50, title="术者医师姓名"),
    _f("oper_dr_code", "str", 30, title="术者医师代码"),
    _f("anst_dr_name", "str", 50, title="麻醉医师姓名"),
    _f("anst_dr_code", "str", 30, title="麻醉医师代码"),
)

FEEDBACK_DATA = (
    _f("warn_type", "str", 3, Y, "反馈类型（1 事前、2 事中）"),
    _f("warns", "list:warn", None, Y, "预警反馈列表"),
)

WARN = (
    _f("warn_rslt_id", "str", 50, Y, "违规标识（3101/3102 返回的 jr_id）"),
    _f("dspo_way", "str", 3, Y, "处理方式（1 继续执行医嘱、2 返回修改医嘱）"),
    _f("dspo_way_rea", "str", 500, title="处理原因（继续执行时必填）"),
)

DTOS: dict[str, tuple[Field, ...]] = {
    "envelope": ENVELOPE, "analysis": ANALYSIS_DATA, "patient": PATIENT, "encounter": ENCOUNTER,
    "diagnose": DIAGNOSE, "order": ORDER, "operation": OPERATION, "feedback": FEEDBACK_DATA, "warn": WARN,
}
MAX_NUMBER = 1e12  # amounts are DECIMAL(18,2) in the store
NUMBER_TYPES = (float, int)  # exact types: a bool is no number
KIND_TEXT = {"str": "文本", "num": "数值", "date": "日期（yyyy-MM-dd）", "datetime": "日期时间（yyyy-MM-dd HH:mm:ss）",
             "strs": "文本数组", "obj": "对象"}


class _Spec:
    """A DTO's fields, arranged for fast checks."""

    def __init__(self, fields: tuple[Field, ...]):
        self.fields = {f.name: f for f in fields}
        self.required = tuple(f.name for f in fields if f.required)
        self.texts = {f.name: f.length or math.inf for f in fields if f.kind == "str"}  # name -> maximum length
        self.numbers = frozenset(f.name for f in fields if f.kind == "num")


SPECS = {name: _Spec(fields) for name, fields in DTOS.items()}


def _bad(path: str, field: Field, what: str) -> RealtimeRequestError:
    title = f"（{field.title}）" if field.title else ""
    return RealtimeRequestError(f"字段 {path}{title}{what}", path)


@functools.lru_cache(maxsize=4096)  # the orders of an encounter share a few dates
def parse_datetime(text: str) -> dt.datetime | None:
    """``yyyy-MM-dd``, ``yyyy-MM-dd HH:mm[:ss]`` or ISO ``T`` form; None if it is none of them."""
    if len(text) == 8 and text.isdigit():  # yyyyMMdd
        text = f"{text[:4]}-{text[4:6]}-{text[6:]}"
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return value.replace(tzinfo=None)


def _value(path: str, field: Field, value: Any) -> Any:
    kind = field.kind
    if kind == "str":
        if isinstance(value, str):
            if field.length and len(value) > field.length:
                raise _bad(path, field, f"长度 {len(value)} 超过上限 {field.length}")
            return value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            text = str(value)
            if field.length and len(text) > field.length:
                raise _bad(path, field, f"长度 {len(text)} 超过上限 {field.length}")
            return text
        raise _bad(path, field, f"应为{KIND_TEXT['str']}，收到 {type(value).__name__}")
    if kind == "num":
        number = None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            number = float(value)
        elif isinstance(value, str) and value.strip():
            try:
                number = float(value)
            except ValueError:
                number = None
        if number is None:
            raise _bad(path, field, f"应为{KIND_TEXT['num']}，收到 {value!r}"[:200])
        if math.isnan(number) or abs(number) >= MAX_NUMBER:
            raise _bad(path, field, f"应为有限数值且绝对值小于 {MAX_NUMBER:.0e}，收到 {value!r}"[:200])
        return number
    if kind in ("date", "datetime"):
        if isinstance(value, str):
            if not value.strip():
                return None
            parsed = parse_datetime(value.strip())
            if parsed is not None:
                return parsed.date() if kind == "date" else parsed
        raise _bad(path, field, f"应为{KIND_TEXT[kind]}，收到 {value!r}"[:200])
    if kind == "strs":
        if isinstance(value, str):  # "R1,R2" is tolerated
            value = [v for v in value.replace("，", ",").split(",") if v.strip()]
        if not isinstance(value, list):
            raise _bad(path, field, f"应为{KIND_TEXT['strs']}")
        out = []
        for i, item in enumerate(value):
            if isinstance(item, bool) or not isinstance(item, (str, int, float)):
                raise _bad(f"{path}[{i}]", field, f"应为{KIND_TEXT['str']}")
            out.append(str(item).strip())
        return out
    if kind == "obj":
        if not isinstance(value, dict):
            raise _bad(path, field, f"应为{KIND_TEXT['obj']}")
        return value
    # list:<dto>
    if not isinstance(value, list):
        raise _bad(path, field, "应为数组")
    dto = kind[5:]
    return [check(item, dto, f"{path}[{i}]") for i, item in enumerate(value)]


def check(obj: Any, dto: str, path: str) -> dict[str, Any]:
    """Validate one object of ``dto``; returns a new dict holding the known fields with typed values.

    The common cases (text within its length, a number) are checked inline; anything else goes through
    ``_value``, which converts or raises the error naming the field. Paths are only built for errors."""
    spec = SPECS[dto]
    if type(obj) is not dict:
        raise RealtimeRequestError(f"字段 {path} 应为对象", path)
    for name in spec.required:
        if obj.get(name) is None:
            f = spec.fields[name]
            raise RealtimeRequestError(f"缺少必填字段 {path}.{name}（{f.title}）", f"{path}.{name}")
    out: dict[str, Any] = {}
    texts, numbers, known = spec.texts, spec.numbers, spec.fields
    for name, value in obj.items():
        limit = texts.get(name)
        if limit is not None and type(value) is str and len(value) <= limit:
            out[name] = value
        elif name in numbers and type(value) in NUMBER_TYPES and -MAX_NUMBER < value < MAX_NUMBER:
            out[name] = float(value)
        elif name not in known:
            continue  # unknown fields are ignored, as the platform does
        elif value is None:
            out[name] = None
        else:
            out[name] = _value(f"{path}.{name}", known[name], value)
    return out


def check_envelope(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise RealtimeRequestError("报文应为 JSON 对象（交易信封：infno、msgid、input …）")
    return check(body, "envelope", "$")


def check_analysis(envelope: dict[str, Any]) -> dict[str, Any]:
    """The ``input.data`` of a 3101/3102 message."""
    data = envelope["input"].get("data")
    if data is None:
        raise RealtimeRequestError("缺少必填字段 input.data（分析数据）", "input.data")
    data = check(data, "analysis", "input.data")
    if not data.get("trig_scen") and not data.get("rule_ids"):
        raise RealtimeRequestError("字段 input.data.trig_scen（触发场景）与 input.data.rule_ids（规则 ID 列表）至少提供一个",
                                   "input.data.trig_scen")
    if not data["patient_dtos"]:
        raise RealtimeRequestError("字段 input.data.patient_dtos（参保人信息列表）不能为空", "input.data.patient_dtos")
    for i, patient in enumerate(data["patient_dtos"]):
        path = f"input.data.patient_dtos[{i}]"
        ids = [e["mdtrt_id"] for e in patient["fsi_encounter_dtos"]]
        if patient["curr_mdtrt_id"] not in ids:
            raise RealtimeRequestError(
                f"字段 {path}.curr_mdtrt_id（当前就诊标识）{patient['curr_mdtrt_id']!r} 不在该参保人的 fsi_encounter_dtos 中",
                f"{path}.curr_mdtrt_id")
        for j, enc in enumerate(patient["fsi_encounter_dtos"]):
            if enc.get("adm_date") is None:
                raise RealtimeRequestError(f"字段 {path}.fsi_encounter_dtos[{j}].adm_date（入院日期）不能为空",
                                           f"{path}.fsi_encounter_dtos[{j}].adm_date")
            seen: set[str] = set()
            for k, order in enumerate(enc["fsi_order_dtos"]):
                if order["rx_id"] in seen:
                    raise RealtimeRequestError(
                        f"字段 {path}.fsi_encounter_dtos[{j}].fsi_order_dtos[{k}].rx_id（处方（医嘱）标识）"
                        f"{order['rx_id']!r} 在本次就诊中重复", f"{path}.fsi_encounter_dtos[{j}].fsi_order_dtos[{k}].rx_id")
                seen.add(order["rx_id"])
                if order.get("drord_begn_date") is None:
                    raise RealtimeRequestError(
                        f"字段 {path}.fsi_encounter_dtos[{j}].fsi_order_dtos[{k}].drord_begn_date（医嘱开始日期）不能为空",
                        f"{path}.fsi_encounter_dtos[{j}].fsi_order_dtos[{k}].drord_begn_date")
    return data


def check_feedback(envelope: dict[str, Any]) -> dict[str, Any]:
    """The ``input.data`` of a 3103 message."""
    data = envelope["input"].get("data")
    if data is None:
        raise RealtimeRequestError("缺少必填字段 input.data（反馈数据）", "input.data")
    data = check(data, "feedback", "input.data")
    if data["warn_type"] not in ("1", "2"):
        raise RealtimeRequestError("字段 input.data.warn_type（反馈类型）应为 1（事前）或 2（事中）", "input.data.warn_type")
    if not data["warns"]:
        raise RealtimeRequestError("字段 input.data.warns（预警反馈列表）不能为空", "input.data.warns")
    for i, warn in enumerate(data["warns"]):
        path = f"input.data.warns[{i}]"
        if warn["dspo_way"] not in ("1", "2"):
            raise RealtimeRequestError(f"字段 {path}.dspo_way（处理方式）应为 1（继续执行医嘱）或 2（返回修改医嘱）",
                                       f"{path}.dspo_way")
        if warn["dspo_way"] == "1" and not (warn.get("dspo_way_rea") or "").strip():
            raise RealtimeRequestError(f"字段 {path}.dspo_way_rea（处理原因）在继续执行医嘱时必填", f"{path}.dspo_way_rea")
    return data
