"""Golden cases as 3101/3102 messages: the parity between the real-time path and the batch engine.

For a golden case and one of its encounters, ``to_request`` builds the message a HIS would send for that
encounter (its lines as orders, its diagnoses, its settlement's fund amount) and the store the real-time
service reads (every other row of the case: earlier encounters, persons, institutions, catalogue,
knowledge). ``None`` comes back, with the reason, when the encounter holds data that a 3101 message cannot
carry (a death date or discharge way on the encounter, orders of drord_d, a second settlement …).
"""

from __future__ import annotations

import copy
import datetime as dt
import decimal
from typing import Any

from fundguard.rules.cases import ENCOUNTER_DEFAULTS, _fill

MDTRT_MAP = {"mdtrt_id": "mdtrt_id", "fixmedins_code": "medins_id", "insutype": "insutype", "hosp_lv": "medins_lv",
             "med_type": "med_type", "begntime": "adm_date", "endtime": "dscg_date",
             "dscg_maindiag_code": "dscg_main_dise_codg", "dscg_maindiag_name": "dscg_main_dise_name"}
MDTRT_PATIENT = {"psn_no", "gend", "brdy"}
FEE_MAP = {"bkkp_sn": "rx_id", "hilist_code": "hilist_code", "hilist_name": "hilist_name", "cnt": "cnt", "pric": "pric",
           "det_item_fee_sumamt": "sumamt", "fee_ocur_time": "drord_begn_date", "rx_drord_no": "rxno",
           "list_type": "hilist_type", "med_chrgitm_type": "chrg_type", "bilg_dept_codg": "drord_dept_codg",
           "bilg_dept_name": "drord_dept_name", "medins_list_codg": "hosplist_code",
           "medins_list_name": "hosplist_name", "pric_uplmt_amt": "hilist_pric"}
FEE_OTHER = {"mdtrt_id", "psn_no", "fixmedins_code", "setl_id", "prd_days", "fulamt_ownpay_amt", "inscp_amt",
             "preselfpay_amt"}
DIAG_MAP = {"diag_code": "dise_codg", "diag_name": "dise_name", "maindiag_flag": "maindise_flag",
            "setl_list_diag_id": "dise_id"}
DIAG_IGNORED = {"mdtrt_id", "psn_no", "diag_type"}  # diag_type is read by no rule
OPRN_MAP = {"setl_list_oprn_id": "setl_list_oprn_id", "oprn_oprt_code": "oprn_code", "oprn_oprt_name": "oprn_name",
            "main_oprn_flag": "main_oprn_flag", "oprn_oprt_date": "oprn_date", "oper_dr_code": "oper_dr_code"}
SETL_MAP = {"setl_id", "mdtrt_id", "psn_no", "fixmedins_code", "fund_pay_sumamt", "medfee_sumamt", "hifp_pay",
            "setl_time"}


def _text(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat(sep=" ") if isinstance(value, dt.datetime) else value.isoformat()
    return value


def _num(value: Any) -> float:
    return float(decimal.Decimal(str(value)))


def _when(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time())
    return dt.datetime.fromisoformat(str(value))


def to_request(case: dict, mdtrt_id: str, rule_id: str, infno: str, *,
               reads_setl_time: bool = True) -> tuple[dict, dict] | tuple[None, str]:
    """(message, store rows) for encounter ``mdtrt_id`` of ``case``; or (None, reason)."""
    given = copy.deepcopy(case.get("given") or {})
    encounters = [_fill("mdtrt_d", r, {}) for r in given.get("mdtrt_d", [])]
    enc_by_id = {e["mdtrt_id"]: e for e in encounters}
    enc = enc_by_id[mdtrt_id]
    extra = set(enc) - set(MDTRT_MAP) - MDTRT_PATIENT - {"vali_flag"}
    if extra:
        return None, f"就诊行含有 3101 无法携带的字段 {sorted(extra)}"
    lines = [_fill("fee_list_d", r, enc_by_id) for r in given.get("fee_list_d", []) if r.get("mdtrt_id") == mdtrt_id]
    diags = [r for r in given.get("setl_list_diag_d", []) if r.get("mdtrt_id") == mdtrt_id]
    oprns = [r for r in given.get("setl_list_oprn_d", []) if r.get("mdtrt_id") == mdtrt_id]
    setls = [r for r in given.get("setl_d", []) if r.get("mdtrt_id") == mdtrt_id]
    if any(r.get("mdtrt_id") == mdtrt_id for r in given.get("drord_d", [])):
        return None, "本次就诊的院端医嘱（drord_d）无法由 3101 携带"
    for line in lines:
        extra = set(line) - set(FEE_MAP) - FEE_OTHER
        if extra:
            return None, f"费用行含有 3101 无法携带的字段 {sorted(extra)}"
        if line["psn_no"] != enc["psn_no"] or line["fixmedins_code"] != enc["fixmedins_code"]:
            return None, "费用行的人员或机构与就诊不同"
    if any(line["setl_id"] is None for line in lines):
        return None, "费用行没有结算（批量审核按 0 计金额，3101 按预估的基金支付计金额）"
    if len({line["setl_id"] for line in lines}) > 1 or len(setls) > 1:
        return None, "一次就诊有多笔结算"
    for d in diags:
        if set(d) - set(DIAG_MAP) - DIAG_IGNORED:
            return None, f"诊断行含有无法携带的字段 {sorted(set(d) - set(DIAG_MAP) - DIAG_IGNORED)}"
    for o in oprns:
        if set(o) - set(OPRN_MAP) - {"mdtrt_id", "psn_no"}:
            return None, "手术行含有无法携带的字段"
    orders = []
    for line in lines:
        begin = _when(line["fee_ocur_time"])
        det = _num(line["det_item_fee_sumamt"])
        selfpay = _num(line.get("preselfpay_amt") or 0)
        if line.get("fulamt_ownpay_amt") is not None:
            ownpay = _num(line["fulamt_ownpay_amt"])
        elif line.get("inscp_amt") is not None:
            ownpay = det - _num(line["inscp_amt"]) - selfpay
        else:
            ownpay = 0.0
        order = {"rx_id": line["bkkp_sn"], "rxno": line.get("rx_drord_no") or "", "long_drord_flag": "0",
                 "hilist_type": line.get("list_type") or "", "chrg_type": line.get("med_chrgitm_type") or "",
                 "drord_bhvr": "0", "hilist_code": line.get("hilist_code") or "", "hilist_name": line.get("hilist_name") or "",
                 "hilist_lv": "", "hilist_pric": _num(line["pric_uplmt_amt"]) if line.get("pric_uplmt_amt") else 0,
                 "hosplist_code": line.get("medins_list_codg") or "", "hosplist_name": line.get("medins_list_name") or "",
                 "cnt": _num(line["cnt"]), "pric": _num(line["pric"]), "sumamt": det, "ownpay_amt": ownpay,
                 "selfpay_amt": selfpay, "spec": "", "spec_unt": "", "drord_begn_date": _text(begin),
                 "drord_dept_codg": line.get("bilg_dept_codg") or "", "drord_dept_name": line.get("bilg_dept_name") or "",
                 "drord_dr_codg": "", "drord_dr_name": "", "drord_dr_profttl": "", "curr_drord_flag": "1"}
        if line.get("prd_days") is not None:
            order["drord_stop_date"] = _text(begin + dt.timedelta(days=_num(line["prd_days"])))
        orders.append(order)
    fund = None
    if setls:
        s = setls[0]
        if set(s) - SETL_MAP:
            return None, f"结算行含有无法携带的字段 {sorted(set(s) - SETL_MAP)}"
        latest = max((_when(line["fee_ocur_time"]) for line in lines), default=_when(enc["begntime"]))
        if reads_setl_time and s.get("setl_time") is not None and _when(s["setl_time"]) != latest:
            return None, "结算时间不是最后一条费用的时间"
        fund = _num(s["fund_pay_sumamt"]) if s.get("fund_pay_sumamt") is not None else None
        if fund is not None and fund <= 0:
            return None, "结算的基金支付为 0（3101 视为尚未结算）"
    med_type = str(enc.get("med_type"))
    kind = "2" if med_type.startswith("2") or med_type == "52" else "3" if med_type == "41" else "1"
    encounter = {
        "mdtrt_id": mdtrt_id, "medins_id": enc["fixmedins_code"], "medins_name": enc["fixmedins_code"],
        "medins_admdvs": "", "medins_type": "", "medins_lv": enc.get("hosp_lv") or "",
        "adm_date": _text(_when(enc["begntime"])), "dscg_date": _text(_when(enc["endtime"])) if enc.get("endtime") else "",
        "dscg_main_dise_codg": enc.get("dscg_maindiag_code") or "", "dscg_main_dise_name": enc.get("dscg_maindiag_name") or "",
        "dr_codg": "", "adm_dept_codg": "", "adm_dept_name": "", "dscg_dept_codg": "", "dscg_dept_name": "",
        "med_mdtrt_type": kind, "med_type": med_type, "matn_stas": "0",
        "medfee_sumamt": sum(o["sumamt"] for o in orders), "ownpay_amt": 0, "selfpay_amt": 0, "setl_totlnum": 0,
        "insutype": enc.get("insutype") or "", "reim_flag": "0", "out_setl_flag": "0",
        "fsi_diagnose_dtos": [{"dise_id": d.get("setl_list_diag_id"), "dise_codg": d["diag_code"],
                               "dise_name": d.get("diag_name"), "maindise_flag": d.get("maindiag_flag")} for d in diags],
        "fsi_order_dtos": orders,
        "fsi_operation_dtos": [{OPRN_MAP[k]: _text(v) for k, v in o.items() if k in OPRN_MAP} for o in oprns],
    }
    if fund is not None:
        encounter["hifp_payamt"] = fund
    message = {
        "infno": infno, "msgid": f"PARITY-{mdtrt_id}", "fixmedins_code": enc["fixmedins_code"],
        "input": {"data": {"syscode": "TEST", "task_id": f"T-{mdtrt_id}", "rule_ids": [rule_id], "patient_dtos": [{
            "patn_id": enc["psn_no"], "patn_name": "测试", "gend": str(enc.get("gend") or ""), "brdy": _text(enc.get("brdy")) or "",
            "poolarea": "", "curr_mdtrt_id": mdtrt_id, "fsi_encounter_dtos": [encounter]}]}},
    }
    store = {k: [r for r in v if not (isinstance(r, dict) and r.get("mdtrt_id") == mdtrt_id)]
             if k in ("mdtrt_d", "fee_list_d", "setl_list_diag_d", "setl_list_oprn_d", "setl_d") else v
             for k, v in given.items()}
    return message, store


def case_message(case: dict, rule) -> tuple[dict | None, list[str]]:
    """One message holding every encounter of the case that a message can carry, each as its own patient entry
    (the case's store keeps all rows: the service reads an encounter's own rows from the message only)."""
    patients, reasons, template = [], [], None
    for mdtrt_id in encounter_ids(case):
        message, why = to_request(case, mdtrt_id, rule.rule_id, applicable_infno(rule),
                                  reads_setl_time=reads_setl_time(rule))
        if message is None:
            reasons.append(f"{mdtrt_id}: {why}")
        else:
            template = template or message
            patients += message["input"]["data"]["patient_dtos"]
    if template is None:
        return None, reasons
    message = template
    message["input"]["data"]["patient_dtos"] = patients
    message["input"]["data"]["task_id"] = "T-CASE"
    return message, reasons


def reads_setl_time(rule) -> bool:
    """Whether the rule's SQL reads the settlement time (3101 dates the settlement by the latest order)."""
    return "setl_time" in rule.sql


def applicable_infno(rule) -> str:
    return "3101" if "事前" in rule.meta.stages else "3102"


def encounter_ids(case: dict) -> list[str]:
    return [r["mdtrt_id"] for r in (case.get("given") or {}).get("mdtrt_d", [])] or []


__all__ = ["ENCOUNTER_DEFAULTS", "applicable_infno", "case_message", "encounter_ids", "reads_setl_time", "to_request"]
