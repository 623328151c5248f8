"""Rule catalogue and rule quality (JSON API)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from fundguard.api.deps import Duck, Items, Principal
from fundguard.api.errors import ERROR_RESPONSES
from fundguard.reports.quality import rule_catalogue, rule_detail, rule_quality_rows

router = APIRouter(tags=["规则"], responses=ERROR_RESPONSES)


@router.get("/rules", summary="规则目录")
def rules(principal: Principal, con: Duck) -> list[dict[str, Any]]:
    """按规则族列出规则：编码、官方名称、层级、严重程度、违规类别、依据；工作人员另见最近一次审核的疑点数与金额。"""
    return rule_catalogue(con, principal)


@router.get("/rules/quality", summary="规则质量")
def quality(principal: Principal, con: Duck, items: Items) -> dict[str, Any]:
    """每条规则的审核结论（确认违规、排除、处理中）与准确率；以及医生对事前事中提醒的继续执行比例（3103 反馈，启用后）。"""
    rows, overrides = rule_quality_rows(con, principal, items)
    return {"rules": rows, "overrides": overrides}


@router.get("/rules/{rule_id}", summary="规则详情")
def rule(rule_id: str, principal: Principal, con: Duck) -> dict[str, Any]:
    return rule_detail(con, principal, rule_id)
