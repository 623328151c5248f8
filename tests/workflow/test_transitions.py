"""The transition table: every declared move works for exactly its roles; every other move is rejected."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from fundguard.errors import Forbidden
from fundguard.workflow.access import PERMISSIONS, Role
from fundguard.workflow.models import Item
from fundguard.workflow.transitions import (
    ACTION_LABELS,
    CLOSED_STATES,
    INSTITUTION_STATES,
    STATE_LABELS,
    TRANSITIONS,
    Action,
    State,
    allowed_actions,
)
from fundguard.workflow.views import PenaltyIn

from .conftest import World

ACTOR_BY_ROLE = {Role.admin: "admin", Role.leader: "leader", Role.analyst: "analyst", Role.reviewer: "reviewer",
                 Role.institution: "inst1"}


def put_item(world: World, jr_id: str, state: State, code: str = "H001") -> None:
    """An item placed directly in a state (the table test needs every state, not a path to it)."""
    now = world.clock()
    with world.db.session() as s:
        s.add(Item(jr_id=jr_id, rule_id="R9", rule_name="测试规则", fixmedins_code=code, vola_amt=Decimal("10.00"),
                   state=state.value, state_since=now, deadline=dt.date(2025, 3, 17), imported_at=now,
                   pushed_at=now if state in INSTITUTION_STATES else None, version=1))


def _kwargs(action: Action) -> dict:
    tr = next(t for (_, a), t in TRANSITIONS.items() if a == action)
    out = {"reason": "依据材料处理" if tr.needs_reason else None}
    if tr.needs_penalty:
        out["penalty"] = PenaltyIn(basis="art38")
    return out


def test_labels_are_complete_and_chinese():
    assert set(STATE_LABELS) == set(State) and set(ACTION_LABELS) == set(Action)
    for text in list(STATE_LABELS.values()) + list(ACTION_LABELS.values()):
        assert any("\u4e00" <= ch <= "\u9fff" for ch in text)
    # closed states have no way out
    assert not [key for key in TRANSITIONS if key[0] in CLOSED_STATES]
    # every open state can be left by someone (or by the system)
    open_states = set(State) - CLOSED_STATES
    assert open_states == {state for state, _ in TRANSITIONS}


def test_every_declared_move_works_for_its_roles_only(world):
    cases = []
    for (state, action), tr in TRANSITIONS.items():
        if tr.system_only:
            continue
        for role, who in ACTOR_BY_ROLE.items():
            jr_id = f"T-{state.value}-{action.value}-{role.value}"
            put_item(world, jr_id, state)
            cases.append((jr_id, state, action, tr, role, who))
    for jr_id, state, action, tr, role, who in cases:
        principal = world.p[who]
        if role in tr.roles:
            [result] = world.items.transition(principal, [jr_id], action, **_kwargs(action))
            assert result.ok, (state, action, role, result)
            assert result.new_state == tr.to
            assert world.items.get_item(world.p["leader"], jr_id).state == tr.to
        elif not principal.can(f"items.{action.value}"):
            with pytest.raises(Forbidden):
                world.items.transition(principal, [jr_id], action, **_kwargs(action))
            assert world.items.get_item(world.p["leader"], jr_id).state == state
        else:  # holds the permission for this action elsewhere, but not for this move
            [result] = world.items.transition(principal, [jr_id], action, **_kwargs(action))
            assert not result.ok and result.code == "FG403"


def test_every_undeclared_move_is_rejected(world):
    staff_actor = {action: next(who for role, who in ACTOR_BY_ROLE.items() if role != Role.institution
                                and role in PERMISSIONS.get(f"items.{action.value}", ()))
                   for action in Action if action not in (Action.appeal, Action.acknowledge, Action.expire)}
    checked = 0
    for state in State:
        for action in Action:
            if (state, action) in TRANSITIONS or action == Action.expire:
                continue
            jr_id = f"U-{state.value}-{action.value}"
            put_item(world, jr_id, state)
            who = "inst1" if action in (Action.appeal, Action.acknowledge) else staff_actor[action]
            [result] = world.items.transition(world.p[who], [jr_id], action, **_kwargs(action))
            assert not result.ok, (state, action)
            if who == "inst1" and state not in INSTITUTION_STATES:
                assert result.code == "FG404"   # not yet pushed: the institution cannot even see it
            else:
                assert result.code == "FG409" and STATE_LABELS[state] in result.message
            assert world.items.get_item(world.p["leader"], jr_id).state == state
            checked += 1
    assert checked == len(State) * (len(Action) - 1) - len([k for k in TRANSITIONS if k[1] != Action.expire])


def test_expire_is_reserved_to_the_system(world):
    put_item(world, "E1", State.pushed)
    for who in ACTOR_BY_ROLE.values():
        with pytest.raises(Forbidden):
            world.items.transition(world.p[who], ["E1"], Action.expire)
        assert Action.expire not in allowed_actions(world.p[who], State.pushed)


def test_allowed_actions_follow_the_table():
    from fundguard.workflow.access import Principal

    for role in Role:
        principal = Principal(1, "x", "x", role, "H001" if role == Role.institution else None)
        for state in State:
            expected = [a for (st, a), tr in TRANSITIONS.items()
                        if st == state and role in tr.roles and not tr.system_only]
            assert allowed_actions(principal, state) == expected
    inst = Principal(1, "x", "x", Role.institution, "H001")
    assert allowed_actions(inst, State.pushed) == [Action.appeal, Action.acknowledge]
    assert allowed_actions(Principal(1, "a", "a", Role.admin), State.pending_first) == []


def test_deadlines_follow_the_settings(world):
    tr = TRANSITIONS[(State.pending_push, Action.push)]
    assert tr.deadline_setting == "appeal_deadline_workdays"
    assert tr.deadline_workdays_in(world.db.settings) == 10
    faster = world.db.settings.model_copy(update={"appeal_deadline_workdays": 3})
    assert tr.deadline_workdays_in(faster) == 3
    assert TRANSITIONS[(State.investigating, Action.confirm_violation)].deadline_workdays_in(faster) is None
