"""Dashboard and profiles (JSON API), read from the analytic store within the caller's scope."""

from __future__ import annotations

import dataclasses
from typing import Any

from fastapi import APIRouter

from fundguard.api.deps import Duck, Items, Principal
from fundguard.api.errors import ERROR_RESPONSES
from fundguard.reports import dashboard as dash
from fundguard.reports import profiles

router = APIRouter(tags=["统计"], responses=ERROR_RESPONSES)


@router.get("/dashboard", summary="监管总览")
def dashboard(principal: Principal, con: Duck, items: Items) -> dict[str, Any]:
    """最近一次智能审核：基金支付、疑点数与金额（按规则、机构、月份、违规类别）、风险排名，以及疑点处理进度与扣款追回金额。"""
    board = dash.dashboard(con, principal)
    out = dataclasses.asdict(board)
    out["totals"]["vola_rate"] = board.totals.vola_rate
    out["workflow"] = items.stats(principal).model_dump(mode="json")
    return out


@router.get("/profiles/institutions/{fixmedins_code}", summary="机构画像")
def institution(fixmedins_code: str, principal: Principal, con: Duck) -> dict[str, Any]:
    """机构基本信息、结算与基金支付、按规则的疑点、风险评分与理由（大数据筛查运行后）。"""
    return _profile(profiles.institution_profile(con, principal, fixmedins_code))


@router.get("/profiles/persons/{psn_no}", summary="参保人画像")
def person(psn_no: str, principal: Principal, con: Duck) -> dict[str, Any]:
    """参保人信息（无权限时脱敏）、就诊记录、疑点、风险评分。定点机构账号只能看到在本机构就诊的参保人及其在本机构的记录。"""
    return _profile(profiles.person_profile(con, principal, psn_no))


def _profile(profile: profiles.Profile) -> dict[str, Any]:
    out = dataclasses.asdict(profile)
    out["facts"] = [{"label": k, "value": v} for k, v in profile.facts]
    return out
