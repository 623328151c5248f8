"""What the workflow services return and accept (pydantic models, safe to serialise for the JSON API)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from fundguard.workflow.transitions import Action, State


class ItemFilter(BaseModel):
    """All optional; combined with AND. ``q`` searches ids, item names, rule names and the violation text."""

    rule_id: str | None = None
    fixmedins_code: str | None = None
    psn_no: str | None = None
    period_from: str | None = Field(default=None, pattern=r"^\d{4}-\d{2}$")
    period_to: str | None = Field(default=None, pattern=r"^\d{4}-\d{2}$")
    sev_deg: int | None = None
    state: State | None = None
    states: list[State] | None = None
    closed: bool | None = None
    min_amt: Decimal | None = None
    max_amt: Decimal | None = None
    assignee_id: int | None = None
    overdue: bool | None = None
    q: str | None = Field(default=None, max_length=100)


class ItemView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    jr_id: str
    run_id: int | None = None
    rule_id: str
    rule_name: str | None = None
    sev_deg: int | None = None
    vola_bhvr_type: str | None = None
    mdtrt_id: str | None = None
    setl_id: str | None = None
    psn_no: str | None = None
    fixmedins_code: str | None = None
    fixmedins_name: str | None = None
    hilist_code: str | None = None
    hilist_name: str | None = None
    vola_amt: Decimal
    vola_cont: str | None = None
    vola_evid: str | None = None
    kp_id: str | None = None
    period: str | None = None
    state: State
    state_label: str
    state_since: dt.datetime
    closed: bool
    deadline: dt.date | None = None
    overdue: bool = False
    workdays_left: int | None = None          # working days until the deadline (negative: overdue)
    assignee_id: int | None = None
    assignee: str | None = None               # display name
    imported_at: dt.datetime
    pushed_at: dt.datetime | None = None
    closed_at: dt.datetime | None = None
    penalty_basis: str | None = None
    penalty_basis_label: str | None = None
    deduct_amt: Decimal | None = None
    recover_amt: Decimal | None = None
    fine_amt: Decimal | None = None
    actions: list[Action] = []                # what the asking user may do now (for buttons)


class Page(BaseModel):
    items: list[ItemView]
    total: int
    page: int
    page_size: int


class AttachmentIn(BaseModel):
    filename: str
    content_type: str | None = None           # the client's claim; the stored type follows the file extension
    data: bytes


class AttachmentView(BaseModel):
    id: int
    jr_id: str
    log_id: int
    filename: str
    content_type: str
    size: int
    sha256: str
    uploaded_at: dt.datetime
    uploaded_by: str


class PenaltyIn(BaseModel):
    """违规处理: the basis (a key of ``transitions.PENALTY_BASES``) and amounts in yuan. When neither 扣款 nor 追回
    is given, 扣款 defaults to each item's own vola_amt (so one bulk decision fits every item)."""

    basis: str
    deduct_amt: Decimal | None = Field(default=None, ge=0)
    recover_amt: Decimal | None = Field(default=None, ge=0)
    fine_amt: Decimal | None = Field(default=None, ge=0)


class TransitionResult(BaseModel):
    jr_id: str
    ok: bool
    message: str
    new_state: State | None = None
    code: str | None = None                   # FG code of the error when not ok


class LogEntry(BaseModel):
    id: int
    jr_id: str
    at: dt.datetime
    actor_id: int | None = None
    actor: str                                # display name, or 系统
    actor_role: str | None = None
    action: str
    action_label: str
    from_state: State | None = None
    from_label: str | None = None
    to_state: State
    to_label: str
    reason: str | None = None
    deadline: dt.date | None = None
    detail: dict[str, Any] | None = None
    attachments: list[AttachmentView] = []


class RuleQuality(BaseModel):
    rule_id: str
    rule_name: str | None = None
    total: int
    confirmed: int
    dismissed: int
    open: int
    precision: float | None = None            # confirmed / (confirmed + dismissed); None before any decision
    confirmed_amt: Decimal = Decimal(0)
    needs_review: bool = False                # many decisions and low precision: review the rule


class Breakdown(BaseModel):
    """One row of a dashboard breakdown by institution, rule or period."""

    key: str | None
    label: str | None = None
    total: int
    open: int
    confirmed: int
    dismissed: int
    vola_amt: Decimal = Decimal(0)
    recovered_amt: Decimal = Decimal(0)      # 扣款 + 追回 of confirmed items


class WorkflowStats(BaseModel):
    """Dashboard figures within the asking user's scope."""

    total: int
    open: int
    overdue: int
    vola_amt: Decimal
    open_amt: Decimal
    confirmed: int
    dismissed: int
    deduct_amt: Decimal
    recover_amt: Decimal
    fine_amt: Decimal
    by_state: dict[State, int]
