"""A Python client for integrators: build 3101/3102/3103 messages from Python objects, call, parse answers.

    from fundguard.api.client import GatewayClient, Patient, Encounter, Order, Diagnosis

    with GatewayClient("http://127.0.0.1:8000", fixmedins_code="H11010500012") as client:
        warnings = client.pre_check([Patient(patn_id="P1", patn_name="王某", gend="1", brdy=date(1958, 3, 12),
                                             encounters=[Encounter(mdtrt_id="M1", ...)])], trig_scen="5")
        client.feedback([Disposition(w.jr_id, continue_order=False) for w in warnings])

Dates may be ``date``/``datetime`` objects or text; fields not given are sent empty, as the platform expects
every required field to be present. Any answer with ``infcode`` ≠ 0 raises ``GatewayError``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any, Self

import httpx

PATH = "/fsi/api/rsfComIfsService/callService"


class GatewayError(Exception):
    """The gateway answered with ``infcode`` ≠ 0 (or not at all); ``err_msg`` says why, in Chinese."""

    def __init__(self, infcode: int, err_msg: str, answer: dict | None = None):
        super().__init__(f"infcode={infcode}：{err_msg}")
        self.infcode = infcode
        self.err_msg = err_msg
        self.answer = answer


def _text(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _dto(obj: Any, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    return {f.name: _text(getattr(obj, f.name)) for f in dataclasses.fields(obj)
            if f.name not in skip and getattr(obj, f.name) is not None}


@dataclass
class Order:
    """One order (fsi_order_dtos): ``rx_id`` identifies it in the answer's judge_result_detail_dtos."""

    rx_id: str
    hilist_code: str
    hilist_name: str
    cnt: float
    pric: float
    drord_begn_date: dt.datetime | dt.date | str
    sumamt: float | None = None  # default cnt × pric
    rxno: str = ""
    grpno: str | None = None
    long_drord_flag: str = "0"
    hilist_type: str = ""
    chrg_type: str = ""
    drord_bhvr: str = "0"
    hilist_dosform: str | None = None
    hilist_lv: str = ""
    hilist_pric: float = 0.0
    hilist_memo: str | None = None
    hosplist_code: str = ""
    hosplist_name: str = ""
    ownpay_amt: float = 0.0
    selfpay_amt: float = 0.0
    spec: str = ""
    spec_unt: str = ""
    drord_stop_date: dt.datetime | dt.date | str | None = None
    drord_dept_codg: str = ""
    drord_dept_name: str = ""
    drord_dr_codg: str = ""
    drord_dr_name: str = ""
    drord_dr_profttl: str = ""
    curr_drord_flag: str = "1"

    def to_dict(self) -> dict[str, Any]:
        out = _dto(self)
        if self.sumamt is None:
            out["sumamt"] = round(self.cnt * self.pric, 2)
        return out


@dataclass
class Diagnosis:
    dise_codg: str
    dise_name: str = ""
    maindise_flag: str = "0"
    inout_dise_type: str | None = None
    dise_id: str | None = None
    dias_srt_no: str | None = None
    dise_date: dt.datetime | dt.date | str | None = None

    def to_dict(self) -> dict[str, Any]:
        return _dto(self)


@dataclass
class Operation:
    setl_list_oprn_id: str
    oprn_code: str
    oprn_name: str = ""
    main_oprn_flag: str = "1"
    oprn_date: dt.datetime | dt.date | str | None = None
    anst_way: str | None = None
    oper_dr_code: str | None = None
    oper_dr_name: str | None = None
    anst_dr_code: str | None = None
    anst_dr_name: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return _dto(self)


@dataclass
class Encounter:
    """One encounter (fsi_encounter_dtos). ``med_mdtrt_type``: 1 门诊, 2 住院, 3 购药, 4 其他."""

    mdtrt_id: str
    medins_id: str
    adm_date: dt.datetime | dt.date | str
    med_type: str
    med_mdtrt_type: str = "1"
    insutype: str = "310"
    medins_name: str = ""
    medins_admdvs: str = ""
    medins_type: str = ""
    medins_lv: str = ""
    dscg_date: dt.datetime | dt.date | str = ""
    dscg_main_dise_codg: str = ""
    dscg_main_dise_name: str = ""
    dr_codg: str = ""
    adm_dept_codg: str = ""
    adm_dept_name: str = ""
    dscg_dept_codg: str = ""
    dscg_dept_name: str = ""
    matn_stas: str = "0"
    medfee_sumamt: float | None = None  # default: the orders' total
    ownpay_amt: float = 0.0
    selfpay_amt: float = 0.0
    acct_payamt: float | None = None
    ma_amt: float | None = None
    hifp_payamt: float | None = None  # the fund's payment; leave empty before settlement (amounts are estimated)
    setl_totlnum: int = 0
    reim_flag: str = "0"
    out_setl_flag: str = "0"
    wardarea_codg: str | None = None
    wardno: str | None = None
    bedno: str | None = None
    diagnoses: list[Diagnosis] = field(default_factory=list)
    orders: list[Order] = field(default_factory=list)
    operations: list[Operation] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        out = _dto(self, skip=("diagnoses", "orders", "operations"))
        out["fsi_diagnose_dtos"] = [d.to_dict() for d in self.diagnoses]
        out["fsi_order_dtos"] = [o.to_dict() for o in self.orders]
        out["fsi_operation_dtos"] = [o.to_dict() for o in self.operations]
        if self.medfee_sumamt is None:
            out["medfee_sumamt"] = round(sum(o["sumamt"] for o in out["fsi_order_dtos"]), 2)
        return out


@dataclass
class Patient:
    """One patient (patient_dtos); ``curr_mdtrt_id`` defaults to the last encounter."""

    patn_id: str
    gend: str
    brdy: dt.date | str
    encounters: list[Encounter]
    patn_name: str = ""
    poolarea: str = ""
    curr_mdtrt_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"patn_id": self.patn_id, "patn_name": self.patn_name, "gend": self.gend, "brdy": _text(self.brdy),
                "poolarea": self.poolarea, "curr_mdtrt_id": self.curr_mdtrt_id or self.encounters[-1].mdtrt_id,
                "fsi_encounter_dtos": [e.to_dict() for e in self.encounters]}


@dataclass(frozen=True)
class WarningResult:
    """One entry of output.result[]."""

    jr_id: str
    rule_id: str
    rule_name: str
    vola_cont: str
    vola_amt: float
    vola_amt_stas: str
    sev_deg: str
    vola_bhvr_type: str
    vola_evid: str | None
    patn_id: str | None
    mdtrt_id: str | None
    rx_ids: tuple[str, ...]
    task_id: str | None
    raw: dict = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_dict(cls, r: dict[str, Any]) -> WarningResult:
        return cls(jr_id=r["jr_id"], rule_id=r["rule_id"], rule_name=r["rule_name"], vola_cont=r["vola_cont"],
                   vola_amt=float(r["vola_amt"]), vola_amt_stas=r.get("vola_amt_stas", ""), sev_deg=r.get("sev_deg", ""),
                   vola_bhvr_type=r.get("vola_bhvr_type", ""), vola_evid=r.get("vola_evid"),
                   patn_id=r.get("patn_id"), mdtrt_id=r.get("mdtrt_id"),
                   rx_ids=tuple(d["rx_id"] for d in r.get("judge_result_detail_dtos") or () if d.get("rx_id")),
                   task_id=r.get("task_id"), raw=r)


@dataclass(frozen=True)
class Disposition:
    """The doctor's answer to one warning: continue the order (with a reason) or go back and change it."""

    jr_id: str
    continue_order: bool
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"warn_rslt_id": self.jr_id, "dspo_way": "1" if self.continue_order else "2",
                "dspo_way_rea": self.reason}


class GatewayClient:
    """Calls a FundGuard gateway (or the national platform: same path and messages)."""

    def __init__(self, base_url: str, *, fixmedins_code: str = "", fixmedins_name: str = "", opter: str = "",
                 opter_name: str = "", syscode: str = "HIS", timeout: float = 10.0,
                 transport: httpx.BaseTransport | None = None):
        self.envelope = {"fixmedins_code": fixmedins_code, "fixmedins_name": fixmedins_name, "opter": opter,
                         "opter_name": opter_name, "opter_type": "1", "infver": "V1.0", "recer_sys_code": "FSI"}
        self.syscode = syscode
        self.http = httpx.Client(base_url=base_url, timeout=timeout, transport=transport)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.http.close()

    def message(self, infno: str, data: dict[str, Any]) -> dict[str, Any]:
        now = dt.datetime.now()
        return {"infno": infno, "msgid": uuid.uuid4().hex[:30], "inf_time": now.strftime("%Y-%m-%d %H:%M:%S"),
                **self.envelope, "input": {"data": data}}

    def call(self, infno: str, data: dict[str, Any]) -> dict[str, Any]:
        """Send one message; the answer's ``output`` (raises ``GatewayError`` when infcode ≠ 0)."""
        try:
            response = self.http.post(PATH, json=self.message(infno, data))
            answer = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise GatewayError(-1, f"无法调用网关：{exc}") from exc
        if answer.get("infcode") != 0:
            raise GatewayError(answer.get("infcode", -1), answer.get("err_msg") or "未知错误", answer)
        return answer.get("output") or {}

    def analyse(self, patients: list[Patient], *, infno: str = "3101", trig_scen: str | None = None,
                rule_ids: list[str] | None = None, task_id: str | None = None) -> list[WarningResult]:
        data = {"syscode": self.syscode, "task_id": task_id or uuid.uuid4().hex[:20],
                "patient_dtos": [p.to_dict() for p in patients]}
        if trig_scen:
            data["trig_scen"] = trig_scen
        if rule_ids:
            data["rule_ids"] = list(rule_ids)
        return [WarningResult.from_dict(r) for r in self.call(infno, data).get("result", [])]

    def pre_check(self, patients: list[Patient], **kwargs) -> list[WarningResult]:
        """3101 事前分析."""
        return self.analyse(patients, infno="3101", **kwargs)

    def in_check(self, patients: list[Patient], **kwargs) -> list[WarningResult]:
        """3102 事中分析."""
        return self.analyse(patients, infno="3102", **kwargs)

    def feedback(self, dispositions: list[Disposition], *, warn_type: str = "1") -> int:
        """3103: the doctor's disposition of warnings (warn_type 1 事前, 2 事中); returns how many were stored."""
        output = self.call("3103", {"warn_type": warn_type, "warns": [d.to_dict() for d in dispositions]})
        return int(output.get("feedback_cnt", len(dispositions)))
