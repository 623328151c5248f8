"""Pages for 疑点: the list (filters, sorting, paging, bulk actions, xlsx export), the finding page with its
evidence chain and workflow actions, the overdue list and attachment downloads."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import UploadFile

from fundguard.api.deps import Duck, Items, Principal, Users
from fundguard.api.filters import SORT_KEYS, STATE_CHOICES, item_query, list_items
from fundguard.api.security import csrf_form
from fundguard.engine.evidence import evidence_chain
from fundguard.errors import InvalidTransition, RequestInvalid, ValidationFailed
from fundguard.reports.items_export import attachment_response, items_xlsx_response
from fundguard.rules.library import default_library
from fundguard.web.render import render

router = APIRouter()


def _options(principal, users) -> dict:
    from fundguard.workflow.transitions import ACTION_LABELS, STATE_LABELS

    staff = users.assignable_users() if principal.can("items.assign") else []
    return {
        "rules": sorted(((r.rule_id, r.meta.name) for r in default_library()), key=lambda x: x[1]),
        "state_labels": STATE_LABELS, "state_choices": STATE_CHOICES, "action_labels": ACTION_LABELS,
        "sort_keys": SORT_KEYS, "staff": staff,
    }


@router.get("/findings")
def findings_page(request: Request, principal: Principal, items: Items, users: Users) -> Response:
    from fundguard.workflow.transitions import Action

    query = item_query(request.query_params, max_page_size=200)
    page = list_items(items, principal, query)
    pages = max(1, -(-page.total // page.page_size))
    bulk_actions = sorted({a for item in page.items for a in item.actions}, key=list(Action).index)
    done = request.query_params.get("done")
    flash = {"assigned": f"已分派 {request.query_params.get('n', '')} 条疑点"}.get(done or "")
    return render(request, "findings.html", {
        "title": "疑点清单", "page": page, "pages": pages, "query": query, "params": request.query_params,
        "bulk_actions": bulk_actions, "flash": flash, **_options(principal, users)})


@router.get("/findings/export.xlsx")
def findings_export(request: Request, principal: Principal, items: Items) -> Response:
    query = item_query(request.query_params)
    return items_xlsx_response(items, principal, query)


@router.post("/findings/bulk", dependencies=[Depends(csrf_form)])
async def findings_bulk(request: Request, principal: Principal, items: Items) -> Response:
    form = await request.form()
    jr_ids = [str(v) for v in form.getlist("jr_ids")]
    action = str(form.get("action") or "")
    if not jr_ids:
        raise RequestInvalid("请先勾选要处理的疑点")
    if not action:
        raise RequestInvalid("请选择要执行的操作")
    reason = str(form.get("reason") or "").strip() or None
    results = items.transition(principal, jr_ids, action, reason, **_penalty_kw(form))
    from fundguard.workflow.transitions import ACTION_LABELS

    return render(request, "bulk_result.html", {"title": "批量处理结果", "results": results,
                                                "action_label": ACTION_LABELS.get(action, action),
                                                "back": form.get("back") or "/findings"})


@router.post("/findings/assign", dependencies=[Depends(csrf_form)])
async def findings_assign(request: Request, principal: Principal, items: Items) -> Response:
    form = await request.form()
    jr_ids = [str(v) for v in form.getlist("jr_ids")]
    if not jr_ids:
        raise RequestInvalid("请先勾选要分派的疑点")
    try:
        assignee = int(str(form.get("assignee_id") or ""))
    except ValueError:
        raise RequestInvalid("请选择经办人") from None
    count = items.assign(principal, jr_ids, assignee)
    back = str(form.get("back") or "")
    if back.startswith("/findings/JR") and len(jr_ids) == 1:
        return RedirectResponse(f"/findings/{jr_ids[0]}?done=assigned", status_code=303)
    return RedirectResponse(f"/findings?done=assigned&n={count}", status_code=303)


@router.get("/findings/{jr_id}")
def finding_page(request: Request, jr_id: str, principal: Principal, con: Duck, items: Items,
                 users: Users, done: str | None = None) -> Response:
    return _finding(request, jr_id, principal, con, items, users, done=done)


def _finding(request: Request, jr_id: str, principal, con, items, users, *, done: str | None = None,
             error: str | None = None, status: int = 200) -> Response:
    from fundguard.workflow.transitions import ACTION_LABELS, INSTITUTION_NOTE_STATES, PENALTY_BASES, get_transition

    item = items.get_item(principal, jr_id)  # scope and visibility first (an institution sees pushed items only)
    evidence = evidence_chain(con, principal, jr_id)
    history = items.history(principal, jr_id)
    attachments = items.attachments(principal, jr_id)
    forms = [{"action": a, "label": ACTION_LABELS[a], "transition": get_transition(item.state, a)}
             for a in item.actions]
    flash = None
    if done == "assigned":
        flash = "已分派"
    elif done == "note":
        flash = "已补充说明/材料"
    elif done:
        flash = f"已完成：{ACTION_LABELS.get(done, '操作')}" if done in ACTION_LABELS else None
    return render(request, "finding.html", {
        "title": f"疑点 {jr_id}", "item": item, "ev": evidence, "history": history, "attachments": attachments,
        "forms": forms, "penalty_bases": PENALTY_BASES, "can_note": principal.can("items.note") and (
            not principal.is_institution or item.state in INSTITUTION_NOTE_STATES), "flash": error or flash,
        "flash_kind": "err" if error else "ok", **_options(principal, users)}, status_code=status)


@router.post("/findings/{jr_id}/action", dependencies=[Depends(csrf_form)])
async def finding_action(request: Request, jr_id: str, principal: Principal, con: Duck, items: Items,
                         users: Users) -> Response:
    form = await request.form()
    action = str(form.get("action") or "")
    reason = str(form.get("reason") or "").strip() or None
    files = await _uploads(form)
    [result] = items.transition(principal, [jr_id], action, reason, attachments=files or None, **_penalty_kw(form))
    if not result.ok:
        status = 409 if result.code == "FG409" else 403 if result.code == "FG403" else 422
        if result.code == "FG404":
            from fundguard.errors import NotFound

            raise NotFound(result.message)
        return _finding(request, jr_id, principal, con, items, users, error=result.message, status=status)
    return RedirectResponse(f"/findings/{jr_id}?done={action}", status_code=303)


@router.post("/findings/{jr_id}/note", dependencies=[Depends(csrf_form)])
async def finding_note(request: Request, jr_id: str, principal: Principal, con: Duck, items: Items,
                       users: Users) -> Response:
    form = await request.form()
    try:
        items.add_note(principal, jr_id, str(form.get("text") or ""), attachments=await _uploads(form) or None)
    except (InvalidTransition, ValidationFailed) as exc:
        return _finding(request, jr_id, principal, con, items, users, error=exc.message,
                        status=409 if isinstance(exc, InvalidTransition) else 422)
    return RedirectResponse(f"/findings/{jr_id}?done=note", status_code=303)


async def _uploads(form) -> list:
    from fundguard.workflow.views import AttachmentIn

    files = []
    for upload in form.getlist("files"):
        if isinstance(upload, UploadFile) and upload.filename:
            files.append(AttachmentIn(filename=upload.filename, content_type=upload.content_type,
                                      data=await upload.read()))
    return files


def _penalty_kw(form) -> dict:
    """The 违规处理 decision's basis and amounts, when the form carries them."""
    basis = str(form.get("penalty_basis") or "").strip()
    if not basis:
        return {}
    from fundguard.workflow.views import PenaltyIn

    amounts = {}
    for key in ("deduct_amt", "recover_amt", "fine_amt"):
        value = str(form.get(key) or "").replace(",", "").strip()
        if value:
            try:
                amounts[key] = Decimal(value)
            except InvalidOperation:
                raise RequestInvalid(f"金额格式不正确：{value}") from None
    return {"penalty": PenaltyIn(basis=basis, **amounts)}


@router.get("/overdue")
def overdue_page(request: Request, principal: Principal, items: Items) -> Response:
    rows = items.overdue(principal)
    from fundguard.workflow.transitions import STATE_LABELS

    by_state: dict = {}
    for item in rows:
        by_state[item.state] = by_state.get(item.state, 0) + 1
    return render(request, "overdue.html", {"title": "逾期督办", "items": rows, "by_state": by_state,
                                            "state_labels": STATE_LABELS})


@router.get("/attachments/{attachment_id}")
def attachment_download(attachment_id: int, principal: Principal, items: Items) -> Response:
    return attachment_response(*items.get_attachment(principal, attachment_id))
