"""Pages: dashboard, institution and person profiles, rule catalogue, rule quality, accounts."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from fundguard.api.deps import Duck, Items, Principal, Users
from fundguard.api.security import csrf_form
from fundguard.errors import FundGuardError
from fundguard.reports import dashboard as dash
from fundguard.reports import profiles
from fundguard.reports.quality import rule_catalogue, rule_detail, rule_quality_rows
from fundguard.web.render import render

router = APIRouter()


@router.get("/")
def dashboard_page(request: Request, principal: Principal, con: Duck, items: Items) -> Response:
    if not principal.can("dashboard.read"):
        return RedirectResponse("/findings", status_code=303)
    board = dash.dashboard(con, principal, top=10)
    wstats = items.stats(principal)
    from fundguard.workflow.transitions import STATE_LABELS

    pie = [{"name": c["label"], "value": c["vola_amt"]} for c in board.by_category[:7]]
    rest = sum((c["vola_amt"] for c in board.by_category[7:]), 0)
    if rest:
        pie.append({"name": "其他", "value": rest})
    return render(request, "dashboard.html", {"title": "监管总览", "board": board, "wstats": wstats, "pie": pie,
                                              "state_labels": STATE_LABELS})


@router.get("/institutions/{fixmedins_code}")
def institution_page(request: Request, fixmedins_code: str, principal: Principal, con: Duck,
                     items: Items) -> Response:
    profile = profiles.institution_profile(con, principal, fixmedins_code)
    page = _items_for(items, principal, fixmedins_code=fixmedins_code)
    return render(request, "profile.html", {"title": profile.title, "profile": profile, "page": page})


@router.get("/persons/{psn_no}")
def person_page(request: Request, psn_no: str, principal: Principal, con: Duck, items: Items) -> Response:
    profile = profiles.person_profile(con, principal, psn_no)
    page = _items_for(items, principal, psn_no=psn_no)
    return render(request, "profile.html", {"title": "参保人画像", "profile": profile, "page": page})


def _items_for(items, principal, **criteria):
    from fundguard.workflow.views import ItemFilter

    fields = ItemFilter.model_fields
    if "psn_no" in criteria and "psn_no" not in fields:
        criteria = {"q": criteria["psn_no"]}
    return items.list_items(principal, ItemFilter(**criteria), sort="-vola_amt", page=1, page_size=20)


@router.get("/rules")
def rules_page(request: Request, principal: Principal, con: Duck) -> Response:
    return render(request, "rules.html", {"title": "规则目录", "catalogue": rule_catalogue(con, principal)})


@router.get("/rules/quality")
def quality_page(request: Request, principal: Principal, con: Duck, items: Items) -> Response:
    rows, overrides = rule_quality_rows(con, principal, items)
    return render(request, "quality.html", {"title": "规则质量", "rows": rows, "overrides": overrides})


@router.get("/rules/{rule_id}")
def rule_page(request: Request, rule_id: str, principal: Principal, con: Duck) -> Response:
    return render(request, "rule.html", {"title": rule_id, "rule": rule_detail(con, principal, rule_id)})


USER_FLASH = {"created": "已创建账号", "enabled": "已启用账号", "disabled": "已停用账号"}


def _users_page(request: Request, users, flash: str | None = None, kind: str = "ok", status: int = 200):
    from fundguard.workflow.access import ROLE_LABELS

    return render(request, "users.html", {"title": "账号管理", "users": users.user_rows(), "roles": ROLE_LABELS,
                                          "flash": flash, "flash_kind": kind}, status_code=status)


@router.get("/users")
def users_page(request: Request, principal: Principal, users: Users, done: str | None = None) -> Response:
    from fundguard.workflow.access import require

    require(principal, "users.manage")
    return _users_page(request, users, USER_FLASH.get(done or ""))


@router.post("/users", dependencies=[Depends(csrf_form)])
def users_create(request: Request, principal: Principal, users: Users, username: str = Form(""),
                 display_name: str = Form(""), role: str = Form(""), password: str = Form(""),
                 fixmedins_code: str = Form("")) -> Response:
    try:
        users.create_user(username, password, role, display_name, fixmedins_code or None, actor=principal)
    except FundGuardError as exc:
        if type(exc).__name__ == "Forbidden":
            raise
        return _users_page(request, users, exc.message, "err", 422)
    return RedirectResponse("/users?done=created", status_code=303)


@router.post("/users/{user_id}/active", dependencies=[Depends(csrf_form)])
def users_active(request: Request, user_id: int, principal: Principal, users: Users,
                 active: str = Form("0")) -> Response:
    users.set_active(user_id, active == "1", actor=principal)
    return RedirectResponse(f"/users?done={'enabled' if active == '1' else 'disabled'}", status_code=303)
