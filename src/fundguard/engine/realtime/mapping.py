"""A 3101/3102 patient, mapped onto the national tables the rules read (mdtrt_d, fee_list_d, setl_d …).

Every encounter of ``fsi_encounter_dtos`` becomes an ``mdtrt_d`` row (the current one and any earlier ones
the HIS sends along), every order of ``fsi_order_dtos`` a ``fee_list_d`` line (``bkkp_sn`` = ``rx_id``),
every diagnosis a ``setl_list_diag_d`` row and every operation a ``setl_list_oprn_d`` row. The encounter's
money becomes one settlement (``setl_d``): the fund pays ``hifp_payamt`` + ``ma_amt``; when the HIS gives no
fund amount yet (before settlement), the fund is assumed to pay the in-scope part of every line (ratio 1) and
the result's ``vola_amt_stas`` says the amount is an estimate. Days supplied (``prd_days``) are the days from
``drord_begn_date`` to ``drord_stop_date``. The mapping is documented field by field in docs/realtime.md.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field
from typing import Any

from fundguard.rules.library import Rule

# Per national table of a patient: the columns holding identifiers (always copied into the real-time mirror).
ID_COLUMNS: dict[str, tuple[str, ...]] = {
    "mdtrt_d": ("mdtrt_id", "psn_no"),
    "fee_list_d": ("bkkp_sn", "mdtrt_id", "psn_no", "setl_id"),
    "setl_d": ("setl_id", "mdtrt_id", "psn_no"),
    "setl_list_diag_d": ("setl_list_diag_id", "setl_id", "mdtrt_id", "psn_no"),
    "setl_list_oprn_d": ("setl_list_oprn_id", "setl_id", "mdtrt_id", "psn_no"),
    "drord_d": ("drord_id", "mdtrt_id", "psn_no"),
    "psn_info": ("psn_no",),
}
RAW_TABLES = tuple(ID_COLUMNS)
REQUEST_TABLES = ("mdtrt_d", "fee_list_d", "setl_d", "setl_list_diag_d", "setl_list_oprn_d")


def _blank(value: Any) -> Any:
    return None if value == "" else value


def setl_id_of(mdtrt_id: str) -> str:
    return f"{mdtrt_id}-RT"


@dataclass
class Universe:
    """One patient of one request: the rows of the request, and what the answer needs to know."""

    patient: dict[str, Any]
    current: dict[str, Any]  # the current encounter (curr_mdtrt_id)
    rules: list[Rule]
    rows: dict[str, list[tuple]] = field(default_factory=dict)  # table -> rows in the order of COLUMNS[table]
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)  # rx_id of the current encounter -> order
    flagged: set[str] = field(default_factory=set)  # those of its orders that are current (curr_drord_flag 1)
    rx_ids: list[str] = field(default_factory=list)  # every order of the message (all its encounters)
    codes: set[str] = field(default_factory=set)  # their hilist codes
    request_mdtrt_ids: tuple[str, ...] = ()
    estimated: bool = False  # the current encounter's fund amount is an estimate
    hist_from: str | None = None  # history window start, as stored text

    @property
    def psn_no(self) -> str:
        return self.patient["patn_id"]

    @property
    def mdtrt_id(self) -> str:
        return self.current["mdtrt_id"]


@functools.lru_cache(maxsize=4096)  # the orders of an encounter share a few times
def _stamp(value: dt.date) -> str:
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return value.isoformat()


def _ts(value: Any) -> Any:
    """Dates and times as the real-time engine stores them (``lite``: ISO text)."""
    if isinstance(value, dt.date):
        return _stamp(value)
    return value


MDTRT_COLS = ("mdtrt_id", "psn_no", "psn_name", "gend", "brdy", "insutype", "insu_admdvs", "fixmedins_code",
              "fixmedins_name", "hosp_lv", "begntime", "endtime", "med_type", "chfpdr_code", "adm_dept_codg",
              "adm_dept_name", "dscg_dept_codg", "dscg_dept_name", "dscg_maindiag_code", "dscg_maindiag_name",
              "vali_flag")
FEE_COLS = ("bkkp_sn", "mdtrt_id", "psn_no", "setl_id", "fixmedins_code", "fixmedins_name", "fee_ocur_time",
            "rx_drord_no", "med_type", "cnt", "pric", "det_item_fee_sumamt", "pric_uplmt_amt", "fulamt_ownpay_amt",
            "preselfpay_amt", "chrgitm_lv", "hilist_code", "hilist_name", "list_type", "medins_list_codg",
            "medins_list_name", "med_chrgitm_type", "spec", "dosform_name", "bilg_dept_codg", "bilg_dept_name",
            "bilg_dr_code", "bilg_dr_name", "prd_days", "dscg_tkdrug_flag", "memo", "vali_flag")
SETL_COLS = ("setl_id", "mdtrt_id", "psn_no", "fixmedins_code", "insutype", "med_type", "setl_time",
             "medfee_sumamt", "fulamt_ownpay_amt", "preselfpay_amt", "hifp_pay", "maf_pay", "acct_pay",
             "fund_pay_sumamt", "vali_flag", "refd_setl_flag")
DIAG_COLS = ("setl_list_diag_id", "setl_id", "mdtrt_id", "psn_no", "diag_type", "maindiag_flag", "diag_code",
             "diag_name", "vali_flag")
OPRN_COLS = ("setl_list_oprn_id", "setl_id", "mdtrt_id", "psn_no", "main_oprn_flag", "oprn_oprt_code",
             "oprn_oprt_name", "oprn_oprt_date", "anst_way", "oper_dr_name", "oper_dr_code", "anst_dr_name",
             "anst_dr_code", "vali_flag")
COLUMNS = {"mdtrt_d": MDTRT_COLS, "fee_list_d": FEE_COLS, "setl_d": SETL_COLS, "setl_list_diag_d": DIAG_COLS,
           "setl_list_oprn_d": OPRN_COLS}


def _prd_days(order: dict[str, Any]) -> float | None:
    begin, stop = order.get("drord_begn_date"), order.get("drord_stop_date")
    if begin is None or stop is None or stop < begin:
        return None
    return round((stop - begin).total_seconds() / 86400, 2)


def _inscp(order: dict[str, Any]) -> float:
    return (order.get("sumamt") or 0) - (order.get("ownpay_amt") or 0) - (order.get("selfpay_amt") or 0)


def map_patient(patient: dict[str, Any], rules: list[Rule], history_days: int) -> Universe:
    """The national-table rows of one patient of a validated 3101/3102 message."""
    psn = patient["patn_id"]
    mdtrt: list[tuple] = []
    fee: list[tuple] = []
    setl: list[tuple] = []
    diag: list[tuple] = []
    oprn: list[tuple] = []
    current = next(e for e in patient["fsi_encounter_dtos"] if e["mdtrt_id"] == patient["curr_mdtrt_id"])
    universe = Universe(patient=patient, current=current, rules=rules)
    for enc in patient["fsi_encounter_dtos"]:
        mid = enc["mdtrt_id"]
        sid = setl_id_of(mid)
        fixmedins = enc["medins_id"]
        medins_name, med_type = enc.get("medins_name"), enc.get("med_type")
        begn, endt = enc.get("adm_date"), enc.get("dscg_date")
        mdtrt.append((mid, psn, patient.get("patn_name"), patient.get("gend"), _ts(patient.get("brdy")),
                   enc.get("insutype"), _blank(patient.get("poolarea")), fixmedins, enc.get("medins_name"),
                   _blank(enc.get("medins_lv")), _ts(begn), _ts(endt), enc.get("med_type"), _blank(enc.get("dr_codg")), _blank(enc.get("adm_dept_codg")),
                   _blank(enc.get("adm_dept_name")), _blank(enc.get("dscg_dept_codg")),
                   _blank(enc.get("dscg_dept_name")), _blank(enc.get("dscg_main_dise_codg")),
                   _blank(enc.get("dscg_main_dise_name")), "1"))
        inscp_total = 0.0
        last_time = None  # the settlement is dated by the latest order (the encounter's end without orders)
        for order in enc["fsi_order_dtos"]:
            when = order["drord_begn_date"]
            last_time = max(last_time, when) if last_time else when
            inscp_total += _inscp(order)
            price_cap = order.get("hilist_pric")
            universe.rx_ids.append(order["rx_id"])
            if order["hilist_code"]:
                universe.codes.add(order["hilist_code"])
            g = order.get  # validated texts are str or None: ``g(k) or None`` is ``_blank(g(k))``
            fee.append((order["rx_id"], mid, psn, sid, fixmedins, medins_name, _ts(when), g("rxno") or None,
                        med_type, g("cnt"), g("pric"), g("sumamt"), price_cap if price_cap and price_cap > 0 else None,
                        g("ownpay_amt"), g("selfpay_amt"), g("hilist_lv") or None, order["hilist_code"] or None,
                        g("hilist_name") or None, g("hilist_type") or None, g("hosplist_code") or None,
                        g("hosplist_name") or None, g("chrg_type") or None, g("spec") or None,
                        g("hilist_dosform") or None, g("drord_dept_codg") or None, g("drord_dept_name") or None,
                        g("drord_dr_codg") or None, g("drord_dr_name") or None, _prd_days(order),
                        "1" if g("drord_bhvr") == "1" else None, g("hilist_memo") or None, "1"))
            if mid == current["mdtrt_id"]:
                universe.orders[order["rx_id"]] = order
                if g("curr_drord_flag") == "1":  # validated: text
                    universe.flagged.add(order["rx_id"])
        fund = (enc.get("hifp_payamt") or 0) + (enc.get("ma_amt") or 0)
        estimated = fund <= 0
        if mid == current["mdtrt_id"]:
            universe.estimated = estimated
        setl.append((sid, mid, psn, fixmedins, enc.get("insutype"), enc.get("med_type"), _ts(last_time or endt or begn),
                  enc.get("medfee_sumamt"), enc.get("ownpay_amt"), enc.get("selfpay_amt"), enc.get("hifp_payamt"),
                  enc.get("ma_amt"), enc.get("acct_payamt"), inscp_total if estimated else fund, "1", "0"))
        for n, d in enumerate(enc["fsi_diagnose_dtos"], start=1):
            diag.append((d.get("dise_id") or f"{mid}-D{n}", sid, mid, psn, None, _blank(d.get("maindise_flag")),
                      d["dise_codg"], d.get("dise_name"), "1"))
        for n, o in enumerate(enc.get("fsi_operation_dtos") or (), start=1):
            oprn.append((o.get("setl_list_oprn_id") or f"{mid}-O{n}", sid, mid, psn, _blank(o.get("main_oprn_flag")),
                      _blank(o.get("oprn_code")), _blank(o.get("oprn_name")), _ts(o.get("oprn_date")),
                      _blank(o.get("anst_way")), _blank(o.get("oper_dr_name")), _blank(o.get("oper_dr_code")),
                      _blank(o.get("anst_dr_name")), _blank(o.get("anst_dr_code")), "1"))
    universe.rows = {"mdtrt_d": mdtrt, "fee_list_d": fee, "setl_d": setl, "setl_list_diag_d": diag,
                     "setl_list_oprn_d": oprn}
    universe.request_mdtrt_ids = tuple(e["mdtrt_id"] for e in patient["fsi_encounter_dtos"])
    begins = [e["adm_date"] for e in patient["fsi_encounter_dtos"] if e.get("adm_date")]
    universe.hist_from = _ts(min(begins) - dt.timedelta(days=history_days))
    return universe
