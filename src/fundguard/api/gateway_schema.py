"""OpenAPI models of the national gateway's messages (3101/3102/3103), with real examples.

The models are built from the field table in ``fundguard.engine.realtime.fields`` (the same table the
validator uses), so the documented shape and the checked shape cannot drift. They document the interface
and drive the fuzzing test; requests are validated on the hot path by the field table directly, with the
platform's error answer (``infcode`` -1, a Chinese ``err_msg`` naming the field), never by these models.
The examples are real: ``tests/realtime/test_gateway.py`` sends the example request to a store holding the
built-in knowledge base and checks that the answer is the example answer.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, create_model

from fundguard.engine.realtime.fields import DTOS
from fundguard.engine.realtime.fields import Field as Spec

_TYPES: dict[str, Any] = {"str": str, "num": float, "date": str, "datetime": str, "strs": list[str],
                          "obj": dict[str, Any]}
_FORMATS = {"date": "yyyy-MM-dd", "datetime": "yyyy-MM-dd HH:mm:ss"}
_MODEL_NAMES = {"envelope": "GatewayRequest", "analysis": "AnalysisData", "patient": "PatientDto",
                "encounter": "EncounterDto", "diagnose": "DiagnoseDto", "order": "OrderDto",
                "operation": "OperationDto", "feedback": "FeedbackData", "warn": "WarnDto"}
_models: dict[str, type[BaseModel]] = {}


def _model(dto: str) -> type[BaseModel]:
    if dto in _models:
        return _models[dto]
    definitions: dict[str, Any] = {}
    for spec in DTOS[dto]:
        definitions[spec.name] = _definition(spec)
    model = create_model(_MODEL_NAMES[dto], __config__=ConfigDict(extra="allow"), **definitions)
    _models[dto] = model
    return model


def _definition(spec: Spec) -> tuple[Any, Any]:
    if spec.kind.startswith("list:"):
        typ: Any = list[_model(spec.kind[5:])]
    elif spec.name == "input" and spec.kind == "obj":
        typ = AnalysisInput | FeedbackInput
    else:
        typ = _TYPES[spec.kind]
    description = spec.title + (f"；格式 {_FORMATS[spec.kind]}" if spec.kind in _FORMATS else "") + \
        (f"；最长 {spec.length}" if spec.length and spec.kind == "str" else "") + ("（必填）" if spec.required else "")
    extra = {"max_length": spec.length} if spec.length and spec.kind == "str" else {}
    if spec.required:
        return typ, Field(..., description=description, **extra)
    return typ | None, Field(None, description=description, **extra)


class AnalysisInput(BaseModel):
    """3101/3102 的 input：`{"data": {...}}`。"""

    model_config = ConfigDict(extra="allow")
    data: _model("analysis") = Field(..., description="分析数据（必填）")  # type: ignore[valid-type]


class FeedbackInput(BaseModel):
    """3103 的 input：`{"data": {...}}`。"""

    model_config = ConfigDict(extra="allow")
    data: _model("feedback") = Field(..., description="反馈数据（必填）")  # type: ignore[valid-type]


GatewayRequest = _model("envelope")


class JudgeResultDetail(BaseModel):
    jrd_id: str = Field(..., description="违规明细标识")
    patn_id: str = Field(..., description="参保人标识")
    mdtrt_id: str | None = Field(None, description="就诊标识")
    rx_id: str | None = Field(None, description="处方（医嘱）标识，对应 fsi_order_dtos.rx_id；整次就诊违规时为空")
    vola_item_type: str = Field(..., description="违规项目类型：1 违规项、2 涉及项")
    vola_amt: float = Field(..., description="该明细的违规金额（元）")


class JudgeResult(BaseModel):
    jr_id: str = Field(..., description="违规标识：同样的数据与规则得到同样的标识（与事后审核一致），3103 反馈时引用")
    rule_id: str = Field(..., description="规则 ID")
    rule_name: str = Field(..., description="规则名称")
    vola_cont: str = Field(..., description="违规内容")
    patn_id: str | None = Field(None, description="参保人标识")
    mdtrt_id: str | None = Field(None, description="就诊标识")
    judge_result_detail_dtos: list[JudgeResultDetail] = Field(..., description="违规明细")
    vola_amt: float = Field(..., description="违规金额（元）：违规费用中由基金支付的部分")
    vola_amt_stas: str = Field(..., description="违规金额计算状态：1 按本次就诊的基金支付额计算；2 尚无基金支付额，按医保范围内金额预估")
    sev_deg: str = Field(..., description="严重程度：1 明确违规、2 可疑")
    vola_evid: str | None = Field(None, description="违规依据（知识点、规则参数、政策与法律依据）")
    vola_bhvr_type: str = Field(..., description="违规行为分类（代码见规则目录 docs/rules.md）")
    task_id: str | None = Field(None, description="请求的 task_id，原样返回")


class AnalysisOutput(BaseModel):
    result: list[JudgeResult] = Field(..., description="违规结果列表；没有违规时为空列表")


class FeedbackOutput(BaseModel):
    feedback_cnt: int = Field(..., description="已保存的反馈条数")


class GatewayAnswer(BaseModel):
    """平台应答信封。infcode 0 表示成功；非 0 时 err_msg 为中文错误说明（含字段名）。"""

    infcode: int = Field(..., description="交易状态码：0 成功，-1 失败")
    inf_refmsgid: str = Field(..., description="请求报文的 msgid")
    refmsg_time: str = Field(..., description="接收报文时间")
    respond_time: str = Field(..., description="响应报文时间")
    err_msg: str = Field(..., description="错误信息（成功时为空）")
    output: AnalysisOutput | FeedbackOutput | None = Field(None, description="交易输出；失败时为 null")


def _order(rx_id: str, code: str, name: str, chrg: str, list_type: str, cnt: float, pric: float, when: str,
           **extra) -> dict[str, Any]:
    order = {"rx_id": rx_id, "rxno": "CF20250310001", "grpno": "1", "long_drord_flag": "1", "hilist_type": list_type,
             "chrg_type": chrg, "drord_bhvr": "0", "hilist_code": code, "hilist_name": name, "hilist_dosform": "",
             "hilist_lv": "01", "hilist_pric": pric, "hosplist_code": "H" + code[-8:], "hosplist_name": name,
             "cnt": cnt, "pric": pric, "sumamt": round(cnt * pric, 2), "ownpay_amt": 0, "selfpay_amt": 0,
             "spec": "", "spec_unt": "盒" if list_type == "101" else "次", "drord_begn_date": when,
             "drord_stop_date": "", "drord_dept_codg": "A03.01", "drord_dept_name": "心血管内科",
             "drord_dr_codg": "D110105000123", "drord_dr_name": "李医生", "drord_dr_profttl": "2",
             "curr_drord_flag": "1"}
    order.update(extra)
    return order


EXAMPLE_3101 = {
    "infno": "3101", "msgid": "H11010500012025031009301500001", "mdtrtarea_admvs": "110105",
    "insuplc_admdvs": "110105", "recer_sys_code": "FSI", "infver": "V1.0", "opter_type": "1",
    "opter": "D110105000123", "opter_name": "李医生", "inf_time": "2025-03-10 09:30:15",
    "fixmedins_code": "H11010500012", "fixmedins_name": "示例市第一人民医院", "sign_no": "",
    "input": {"data": {
        "syscode": "HIS", "task_id": "TASK-20250310-0001", "trig_scen": "5", "rule_ids": [],
        "patient_dtos": [{
            "patn_id": "110105195803120011", "patn_name": "王某某", "gend": "1", "brdy": "1958-03-12",
            "poolarea": "110105", "curr_mdtrt_id": "MDT2025030800017",
            "fsi_encounter_dtos": [{
                "mdtrt_id": "MDT2025030800017", "medins_id": "H11010500012", "medins_name": "示例市第一人民医院",
                "medins_admdvs": "110105", "medins_type": "1", "medins_lv": "01", "wardarea_codg": "W05",
                "wardno": "0512", "bedno": "12", "adm_date": "2025-03-08 10:20:00", "dscg_date": "",
                "dscg_main_dise_codg": "I63.9", "dscg_main_dise_name": "脑梗死", "dr_codg": "D110105000123",
                "adm_dept_codg": "A03.01", "adm_dept_name": "心血管内科", "dscg_dept_codg": "",
                "dscg_dept_name": "", "med_mdtrt_type": "2", "med_type": "21", "matn_stas": "0",
                "medfee_sumamt": 343.8, "ownpay_amt": 0, "selfpay_amt": 0, "acct_payamt": 0, "ma_amt": 0,
                "hifp_payamt": 0, "setl_totlnum": 0, "insutype": "310", "reim_flag": "0", "out_setl_flag": "0",
                "fsi_diagnose_dtos": [
                    {"dise_id": "DX1", "inout_dise_type": "1", "maindise_flag": "1", "dias_srt_no": "1",
                     "dise_codg": "I63.9", "dise_name": "脑梗死", "dise_date": "2025-03-08 10:20:00"},
                    {"dise_id": "DX2", "inout_dise_type": "1", "maindise_flag": "0", "dias_srt_no": "2",
                     "dise_codg": "I10.x00", "dise_name": "原发性高血压", "dise_date": "2025-03-08 10:20:00"}],
                "fsi_order_dtos": [
                    _order("RX0001", "XN07XXT095P999089330140", "依达拉奉注射液", "09", "101", 2, 98.5,
                           "2025-03-10 09:00:00", spec="20ml:30mg"),
                    _order("RX0002", "XG03DAH727S530099033962", "黄体酮软胶囊", "09", "101", 1, 56.8,
                           "2025-03-10 09:00:00", spec="0.1g*10粒"),
                    _order("RX0003", "001103000010000", "住院诊查费", "05", "201", 2, 20.0,
                           "2025-03-10 09:00:00", long_drord_flag="0"),
                    _order("RX0004", "001109000010000", "普通病房床位费(三人间)", "01", "201", 1, 50.0,
                           "2025-03-10 09:00:00")],
                "fsi_operation_dtos": [],
            }],
        }],
    }},
}
# The service's real answer to EXAMPLE_3101 on a store with the built-in knowledge base (checked by a test).
EXAMPLE_3101_ANSWER: dict[str, Any] = {'infcode': 0,
 'inf_refmsgid': 'H11010500012025031009301500001',
 'refmsg_time': '2025-03-10 09:30:15',
 'respond_time': '2025-03-10 09:30:15',
 'err_msg': '',
 'output': {'result': [{'jr_id': 'JR221EEE1F7D243133A417F998',
                        'rule_id': 'GZ10000102014000',
                        'rule_name': '医疗服务项目限定频次',
                        'vola_cont': '住院诊查费（001103000010000）每日限1，2025-03-10共收费2，超出1',
                        'patn_id': '110105195803120011',
                        'mdtrt_id': 'MDT2025030800017',
                        'judge_result_detail_dtos': [{'jrd_id': 'JR221EEE1F7D243133A417F998-001',
                                                      'patn_id': '110105195803120011',
                                                      'mdtrt_id': 'MDT2025030800017',
                                                      'rx_id': 'RX0003',
                                                      'vola_item_type': '1',
                                                      'vola_amt': 20.0}],
                        'vola_amt': 20.0,
                        'vola_amt_stas': '2',
                        'sev_deg': '1',
                        'vola_evid': '知识点 '
                                     'KP6436d5d2c156acd0（FG-builtin；医疗服务项目限定频次；住院诊查费；限定：每日限收费1次。；检出逻辑：超出每日限定频次）；依据：国家医保局两库第八批“医疗服务项目限定频次”知识点（超出限定频次收费）；法律依据：《医疗保障基金使用监督管理条例》第十五条、第三十八条第（三）项；违规类别：超标准收费',
                        'vola_bhvr_type': '03',
                        'task_id': 'TASK-20250310-0001'},
                       {'jr_id': 'JRB88EB3E6C5161536F6B5C3C9',
                        'rule_id': 'GZ10000301004000',
                        'rule_name': '药品区分性别使用',
                        'vola_cont': '黄体酮软胶囊（XG03DAH727S530099033962）限女性使用，患者性别为男，费用日期 2025-03-10',
                        'patn_id': '110105195803120011',
                        'mdtrt_id': 'MDT2025030800017',
                        'judge_result_detail_dtos': [{'jrd_id': 'JRB88EB3E6C5161536F6B5C3C9-001',
                                                      'patn_id': '110105195803120011',
                                                      'mdtrt_id': 'MDT2025030800017',
                                                      'rx_id': 'RX0002',
                                                      'vola_item_type': '1',
                                                      'vola_amt': 56.8}],
                        'vola_amt': 56.8,
                        'vola_amt_stas': '2',
                        'sev_deg': '1',
                        'vola_evid': '知识点 '
                                     'KP9e26603e85b5d7cd（FG-builtin；药品区分性别使用；黄体酮软胶囊；限定：限女性患者使用。；检出逻辑：与限定性别不符）；规则参数：仅判定有医保范围内金额的明细（全自费明细不判定）=False；依据：国家医保局两库第一批“药品区分性别使用”知识点；2026-01 '
                                     '修订；法律依据：《医疗保障基金使用监督管理条例》第十五条、第三十八条第（六）项；违规类别：超限定支付范围',
                        'vola_bhvr_type': '05',
                        'task_id': 'TASK-20250310-0001'}]}}

EXAMPLE_3103 = {
    "infno": "3103", "msgid": "H11010500012025031009320100002", "infver": "V1.0", "opter_type": "1",
    "opter": "D110105000123", "opter_name": "李医生", "inf_time": "2025-03-10 09:32:01",
    "fixmedins_code": "H11010500012", "fixmedins_name": "示例市第一人民医院",
    "input": {"data": {"warn_type": "1", "warns": [
        {"warn_rslt_id": "<3101 返回的 jr_id>", "dspo_way": "2", "dspo_way_rea": ""},
        {"warn_rslt_id": "<3101 返回的另一 jr_id>", "dspo_way": "1", "dspo_way_rea": "病情需要，已向患者说明自费"}]}},
}
EXAMPLE_3103_ANSWER = {"infcode": 0, "inf_refmsgid": "H11010500012025031009320100002",
                       "refmsg_time": "2025-03-10 09:32:01", "respond_time": "2025-03-10 09:32:01", "err_msg": "",
                       "output": {"feedback_cnt": 2}}
EXAMPLE_ERROR_ANSWER = {"infcode": -1, "inf_refmsgid": "H11010500012025031009301500001",
                        "refmsg_time": "2025-03-10 09:30:15", "respond_time": "2025-03-10 09:30:15",
                        "err_msg": "[FG601] 缺少必填字段 input.data.patient_dtos[0].fsi_encounter_dtos[0]."
                                   "fsi_order_dtos[2].rx_id（处方（医嘱）标识）", "output": None}
