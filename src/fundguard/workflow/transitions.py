"""The 疑点 procedure as an explicit transition table (NHSA 两库: 初审 → 复审 → 推送 → 申诉 → 调查核实 → 违规处理).

Only the moves declared in ``TRANSITIONS`` exist; the service rejects every other (state, action) pair with
``InvalidTransition`` and every role not listed with ``Forbidden``. The deadline of a state (in working days) is
set when an item enters it and comes from the settings, so a 医保局 can change it without code.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from fundguard.workflow.access import PERMISSION_LABELS, PERMISSIONS, Principal, Role


class State(StrEnum):
    pending_first = "pending_first"
    pending_second = "pending_second"
    dismissed_first = "dismissed_first"
    pending_push = "pending_push"
    dismissed_second = "dismissed_second"
    pushed = "pushed"
    appealed = "appealed"
    acknowledged = "acknowledged"
    investigating = "investigating"
    violation = "violation"
    not_confirmed = "not_confirmed"


STATE_LABELS: dict[State, str] = {
    State.pending_first: "待初审",
    State.pending_second: "初审确认（待复审）",
    State.dismissed_first: "初审排除",
    State.pending_push: "复审通过（待推送）",
    State.dismissed_second: "复审排除",
    State.pushed: "已推送机构（待申诉/反馈）",
    State.appealed: "机构已申诉",
    State.acknowledged: "机构认可或逾期（待处理）",
    State.investigating: "调查核实中",
    State.violation: "确认违规（扣款/追回）",
    State.not_confirmed: "不予认定",
}

CLOSED_STATES: frozenset[State] = frozenset(
    {State.dismissed_first, State.dismissed_second, State.violation, State.not_confirmed})
CONFIRMED_STATES: frozenset[State] = frozenset({State.violation})
DISMISSED_STATES: frozenset[State] = frozenset({State.dismissed_first, State.dismissed_second, State.not_confirmed})
# An institution sees its items only once they have been pushed to it (every later state follows a push).
INSTITUTION_STATES: frozenset[State] = frozenset(
    {State.pushed, State.appealed, State.acknowledged, State.investigating, State.violation, State.not_confirmed})
# States in which an institution may add supplementary explanations and material.
INSTITUTION_NOTE_STATES: frozenset[State] = frozenset({State.pushed, State.appealed, State.investigating})

# The settings field holding each open state's time limit in working days.
STATE_DEADLINE_SETTING: dict[State, str] = {
    State.pending_first: "first_review_deadline_workdays",
    State.pending_second: "second_review_deadline_workdays",
    State.pending_push: "push_deadline_workdays",
    State.pushed: "appeal_deadline_workdays",
    State.appealed: "investigate_deadline_workdays",
    State.acknowledged: "handle_deadline_workdays",
    State.investigating: "investigate_deadline_workdays",
}


class Action(StrEnum):
    first_confirm = "first_confirm"
    first_dismiss = "first_dismiss"
    second_approve = "second_approve"
    second_dismiss = "second_dismiss"
    second_return = "second_return"
    push = "push"
    appeal = "appeal"
    acknowledge = "acknowledge"
    expire = "expire"
    investigate = "investigate"
    confirm_violation = "confirm_violation"
    not_confirmed = "not_confirmed"


ACTION_LABELS: dict[Action, str] = {
    Action.first_confirm: "初审确认",
    Action.first_dismiss: "初审排除",
    Action.second_approve: "复审通过",
    Action.second_dismiss: "复审排除",
    Action.second_return: "退回初审",
    Action.push: "推送机构",
    Action.appeal: "提出申诉",
    Action.acknowledge: "认可疑点",
    Action.expire: "逾期未反馈（视同认可）",
    Action.investigate: "受理并调查核实",
    Action.confirm_violation: "确认违规并扣款/追回",
    Action.not_confirmed: "不予认定",
}


class Event(StrEnum):
    """Log entries that do not change the state."""

    imported = "import"
    assign = "assign"
    note = "note"


EVENT_LABELS: dict[Event, str] = {
    Event.imported: "生成疑点",
    Event.assign: "分派",
    Event.note: "补充说明/材料",
}


def log_action_label(action: str) -> str:
    if action in Action._value2member_map_:
        return ACTION_LABELS[Action(action)]
    if action in Event._value2member_map_:
        return EVENT_LABELS[Event(action)]
    return action


@dataclass(frozen=True)
class Transition:
    to: State
    roles: frozenset[Role]
    needs_reason: bool = False
    system_only: bool = False          # only the system may take it (expire_overdue); no user ever can
    needs_penalty: bool = False        # records the penalty basis (条例 article) and amounts
    attachments: bool = False          # the actor may attach evidence

    @property
    def deadline_setting(self) -> str | None:
        return STATE_DEADLINE_SETTING.get(self.to)

    def deadline_workdays_in(self, settings) -> int | None:
        key = self.deadline_setting
        return int(getattr(settings, key)) if key else None

    @property
    def deadline_workdays(self) -> int | None:
        """Time limit of the target state in working days (from the current settings); None for closed states."""
        from fundguard.config import get_settings

        return self.deadline_workdays_in(get_settings())


_REVIEW = frozenset({Role.reviewer, Role.analyst})
_INST = frozenset({Role.institution})
_DECIDE = frozenset({Role.analyst, Role.leader})

TRANSITIONS: dict[tuple[State, Action], Transition] = {
    # 初审
    (State.pending_first, Action.first_confirm): Transition(State.pending_second, _REVIEW),
    (State.pending_first, Action.first_dismiss): Transition(State.dismissed_first, _REVIEW, needs_reason=True),
    # 复审 (another person than the 初审 when settings.workflow_four_eyes)
    (State.pending_second, Action.second_approve): Transition(State.pending_push, _REVIEW),
    (State.pending_second, Action.second_dismiss): Transition(State.dismissed_second, _REVIEW, needs_reason=True),
    (State.pending_second, Action.second_return): Transition(State.pending_first, _REVIEW, needs_reason=True),
    # 推送机构
    (State.pending_push, Action.push): Transition(State.pushed, _REVIEW),
    # 机构申诉 / 认可; no answer by the deadline: the system records it as acknowledged
    (State.pushed, Action.appeal): Transition(State.appealed, _INST, needs_reason=True, attachments=True),
    (State.pushed, Action.acknowledge): Transition(State.acknowledged, _INST, attachments=True),
    (State.pushed, Action.expire): Transition(State.acknowledged, frozenset(), system_only=True),
    # 调查核实
    (State.appealed, Action.investigate): Transition(State.investigating, frozenset({Role.analyst}),
                                                     attachments=True),
    (State.acknowledged, Action.investigate): Transition(State.investigating, frozenset({Role.analyst}),
                                                         attachments=True),
    # 违规处理
    (State.investigating, Action.confirm_violation): Transition(State.violation, _DECIDE, needs_reason=True,
                                                                needs_penalty=True, attachments=True),
    (State.acknowledged, Action.confirm_violation): Transition(State.violation, _DECIDE, needs_reason=True,
                                                               needs_penalty=True, attachments=True),
    (State.investigating, Action.not_confirmed): Transition(State.not_confirmed, _DECIDE, needs_reason=True,
                                                            attachments=True),
    (State.appealed, Action.not_confirmed): Transition(State.not_confirmed, _DECIDE, needs_reason=True,
                                                       attachments=True),
    (State.acknowledged, Action.not_confirmed): Transition(State.not_confirmed, _DECIDE, needs_reason=True,
                                                           attachments=True),
}

# Penalty bases a 违规处理 decision may cite. multiplier: the fine's range as a multiple of the recovered loss;
# band: a fixed fine range in yuan. Source: 《医疗保障基金使用监督管理条例》(国务院令第735号) and the service agreement.
PENALTY_BASES: dict[str, dict] = {
    "agreement": {"label": "医保服务协议（条例第十三条：协议处理）", "multiplier": None, "band": None},
    "art38": {"label": "条例第三十八条（违规使用基金：退回 + 1–2 倍罚款）", "multiplier": (1, 2), "band": None},
    "art39": {"label": "条例第三十九条（内部管理违规：1–5 万元罚款）", "multiplier": None, "band": (10_000, 50_000)},
    "art40": {"label": "条例第四十条（欺诈骗保：退回 + 2–5 倍罚款）", "multiplier": (2, 5), "band": None},
    "art41": {"label": "条例第四十一条（个人违规：退回；骗保另处 2–5 倍罚款）", "multiplier": (2, 5), "band": None},
}


def _action_permissions() -> None:
    for (_, action), tr in TRANSITIONS.items():
        key = f"items.{action.value}"
        PERMISSIONS[key] = PERMISSIONS.get(key, frozenset()) | tr.roles
        PERMISSION_LABELS[key] = ACTION_LABELS[action]


_action_permissions()


def get_transition(state: State, action: Action) -> Transition | None:
    return TRANSITIONS.get((State(state), Action(action)))


def allowed_actions(principal: Principal, state: State) -> list[Action]:
    """Actions this user may take on an item in this state, in table order (for rendering buttons)."""
    return [action for (st, action), tr in TRANSITIONS.items()
            if st == state and not tr.system_only and principal.role in tr.roles]


def is_closed(state: State) -> bool:
    return State(state) in CLOSED_STATES
