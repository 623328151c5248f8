"""疑点 (items) JSON API: list, detail, evidence chain, history, export, transitions (single with attachments,
and bulk), assignment, attachments, overdue list. Thin: every call goes to ItemService, which enforces scope."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Depends, File, Form, Query, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, Field

from fundguard.api.deps import Duck, Items, Principal, Users
from fundguard.api.errors import ERROR_RESPONSES, error_for_code
from fundguard.api.filters import DEFAULT_SORT, item_query, list_items
from fundguard.api.security import csrf_api
from fundguard.engine.evidence import evidence_chain
from fundguard.reports.items_export import attachment_response, items_xlsx_response
from fundguard.workflow.access import require
from fundguard.workflow.transitions import Action
from fundguard.workflow.views import (
    AttachmentIn,
    AttachmentView,
    ItemView,
    LogEntry,
    Page,
    PenaltyIn,
    TransitionResult,
)

router = APIRouter(tags=["疑点"], responses=ERROR_RESPONSES)
write = [Depends(csrf_api)]


def _query_params(
    rule_id: str | None = Query(None, description="规则编码"),
    fixmedins_code: str | None = Query(None, description="定点机构编码（定点机构账号只能是本机构）"),
    psn_no: str | None = Query(None, description="人员编号"),
    period_from: str | None = Query(None, description="起始期间 YYYY-MM（结算月份）"),
    period_to: str | None = Query(None, description="截止期间 YYYY-MM"),
    sev_deg: int | None = Query(None, ge=1, le=2, description="严重程度：1 明确违规，2 可疑"),
    state: str | None = Query(None, description="状态代码；open 未办结（默认）、closed 已办结、all 全部"),
    min_amt: Decimal | None = Query(None, ge=0, description="最低违规金额（元）"),
    max_amt: Decimal | None = Query(None, ge=0, description="最高违规金额（元）"),
    assignee_id: int | None = Query(None, description="经办人账号编号"),
    overdue: bool | None = Query(None, description="true 仅逾期"),
    q: str | None = Query(None, max_length=100, description="关键词：疑点编号、就诊ID、项目、规则、违规内容"),
    sort: str = Query(DEFAULT_SORT, description="排序键，逗号分隔，前加 - 为降序；默认明确违规在前、金额从大到小"),
    page: int = Query(1, ge=1, description="页码"),
    page_size: int = Query(50, ge=1, le=500, description="每页条数"),
) -> dict[str, Any]:
    return {k: v for k, v in locals().items() if v is not None}


@router.get("/items", summary="疑点清单", response_model=Page)
def items_list(principal: Principal, items: Items, params: dict = Depends(_query_params)) -> Page:
    """按规则、机构、期间、严重程度、状态、金额筛选，排序与分页。定点机构账号只看到本机构已推送的疑点。"""
    return list_items(items, principal, item_query(params))


@router.get("/items/export.xlsx", summary="导出疑点（当前筛选）", response_class=Response,
            responses={200: {"content": {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {}},
                             "description": "Excel 工作簿"}})
def items_export(principal: Principal, items: Items, params: dict = Depends(_query_params)) -> Response:
    """按与清单相同的筛选条件导出 Excel（最多 10 万行），附“导出说明”工作表。"""
    return items_xlsx_response(items, principal, item_query(params))


@router.get("/items/{jr_id}", summary="疑点详情", response_model=ItemView)
def item_detail(jr_id: str, principal: Principal, items: Items) -> ItemView:
    """疑点的处理状态、时限、经办人和当前用户可执行的操作。"""
    return items.get_item(principal, jr_id)


@router.get("/items/{jr_id}/evidence", summary="疑点证据链")
def item_evidence(jr_id: str, principal: Principal, items: Items, con: Duck) -> dict[str, Any]:
    """就诊时间线、全部费用明细（违规行标记 violating）、参保人信息（无权限时脱敏）、规则与知识点、法律依据、金额计算过程。"""
    item = items.get_item(principal, jr_id)
    ev = evidence_chain(con, principal, jr_id)
    out = dataclasses.asdict(ev)
    out["item"] = item.model_dump(mode="json")
    if ev.amount is not None:
        out["amount"]["matches"] = ev.amount.matches
    return out


@router.get("/items/{jr_id}/history", summary="处理记录", response_model=list[LogEntry])
def item_history(jr_id: str, principal: Principal, items: Items) -> list[LogEntry]:
    """只增不改的审计日志：谁、何时、从何状态到何状态、理由、附件。"""
    return items.history(principal, jr_id)


@router.get("/items/{jr_id}/attachments", summary="疑点附件", response_model=list[AttachmentView])
def item_attachments(jr_id: str, principal: Principal, items: Items) -> list[AttachmentView]:
    return items.attachments(principal, jr_id)


class BulkIn(BaseModel):
    jr_ids: list[str] = Field(min_length=1, max_length=1000, description="疑点编号")
    action: Action = Field(description="操作代码，如 first_confirm 初审确认、push 推送机构、appeal 申诉")
    reason: str | None = Field(None, max_length=4000, description="理由（排除、退回、申诉、处理等须填写）")
    penalty: PenaltyIn | None = Field(None, description="违规处理的依据与金额（确认违规时必填）")


@router.post("/items/transitions", summary="批量流转", response_model=list[TransitionResult], dependencies=write)
def items_transition(body: BulkIn, principal: Principal, items: Items) -> list[TransitionResult]:
    """对多条疑点执行同一操作；每条单独成功或失败（结果逐条返回）。未声明的流转一律拒绝。"""
    return items.transition(principal, body.jr_ids, body.action, body.reason, penalty=body.penalty)


@router.post("/items/{jr_id}/transitions", summary="流转（可附材料）", response_model=TransitionResult,
             dependencies=write)
async def item_transition(
    jr_id: str, principal: Principal, items: Items,
    action: Action = Form(description="操作代码"),
    reason: str | None = Form(None, max_length=4000, description="理由"),
    files: list[UploadFile] = File(default=[], description="证据材料（申诉、调查核实、处理时可附）"),
    penalty_basis: str | None = Form(None, description="违规处理依据代码（agreement、art38 …）"),
    deduct_amt: Decimal | None = Form(None, ge=0, description="扣款（元）"),
    recover_amt: Decimal | None = Form(None, ge=0, description="追回（元）"),
    fine_amt: Decimal | None = Form(None, ge=0, description="罚款（元）"),
) -> TransitionResult:
    """对一条疑点执行操作（multipart 表单），可上传附件；失败时返回统一错误格式。"""
    attachments = [AttachmentIn(filename=f.filename or "附件", content_type=f.content_type, data=await f.read())
                   for f in files if f.filename]
    penalty = (PenaltyIn(basis=penalty_basis, deduct_amt=deduct_amt, recover_amt=recover_amt, fine_amt=fine_amt)
               if penalty_basis else None)
    [result] = items.transition(principal, [jr_id], action, reason, attachments=attachments or None,
                                penalty=penalty)
    if not result.ok:
        raise error_for_code(result.code, result.message)
    return result


@router.post("/items/{jr_id}/notes", summary="补充说明/材料", response_model=LogEntry, dependencies=write)
async def item_note(
    jr_id: str, principal: Principal, items: Items,
    text: str | None = Form(None, max_length=4000, description="说明"),
    files: list[UploadFile] = File(default=[], description="材料"),
) -> LogEntry:
    """不改变状态的补充说明或材料；定点机构在已推送、已申诉、调查核实中可提交。"""
    attachments = [AttachmentIn(filename=f.filename or "附件", content_type=f.content_type, data=await f.read())
                   for f in files if f.filename]
    return items.add_note(principal, jr_id, text, attachments=attachments or None)


class AssignIn(BaseModel):
    jr_ids: list[str] = Field(min_length=1, max_length=1000)
    assignee_id: int | None = Field(description="经办人账号编号；null 为取消分派")


class AssignOut(BaseModel):
    assigned: int


@router.post("/items/assign", summary="分派", response_model=AssignOut, dependencies=write)
def items_assign(body: AssignIn, principal: Principal, items: Items) -> AssignOut:
    """把疑点分派给工作人员（监管科、经办审核、局领导）。"""
    return AssignOut(assigned=items.assign(principal, body.jr_ids, body.assignee_id))


@router.get("/attachments/{attachment_id}", summary="下载附件", response_class=Response,
            responses={200: {"content": {"application/octet-stream": {}}, "description": "附件文件"}})
def attachment(attachment_id: int, principal: Principal, items: Items) -> Response:
    return attachment_response(*items.get_attachment(principal, attachment_id))


@router.get("/overdue", summary="逾期督办清单", response_model=list[ItemView], tags=["统计"])
def overdue(principal: Principal, items: Items) -> list[ItemView]:
    """超过办理时限（工作日）仍未办结的疑点，时限最早的在前。"""
    return items.overdue(principal)


class StaffOut(BaseModel):
    user_id: int
    username: str
    display_name: str
    role: str
    role_label: str


@router.get("/staff", summary="可分派的工作人员", response_model=list[StaffOut], tags=["账号"])
def staff(principal: Principal, users: Users) -> list[StaffOut]:
    require(principal, "items.assign")
    return [StaffOut(user_id=u.user_id, username=u.username, display_name=u.display_name, role=str(u.role),
                     role_label=u.role_label) for u in users.assignable_users()]
