"""ItemService: import, lists, bulk transitions, reasons, deadlines, overdue, assignment, penalties, quality."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from fundguard.errors import Forbidden, InvalidTransition, NotFound, ValidationFailed
from fundguard.workflow.service import ItemService
from fundguard.workflow.transitions import Action, State
from fundguard.workflow.views import ItemFilter, PenaltyIn
from fundguard.workflow.workdays import CalendarService

from .conftest import FINDINGS, move


def test_import_creates_one_item_per_finding_with_denormalised_fields(world):
    item = world.items.get_item(world.p["analyst"], "J001")
    assert (item.rule_id, item.rule_name, item.sev_deg, item.fixmedins_code) == ("R1", "药品区分性别使用", 1, "H001")
    assert (item.mdtrt_id, item.setl_id, item.psn_no, item.hilist_name) == ("MD01", "ST01", "P01", "黄体酮注射液")
    assert item.vola_amt == Decimal("655.20") and item.vola_cont == "黄体酮注射液：药品区分性别使用"
    assert item.period == "2025-01" and item.fixmedins_name == "市第一人民医院"
    # J004 has no settlement: the encounter's end gives the period
    assert world.items.get_item(world.p["analyst"], "J004").period == "2025-01"
    assert item.state == State.pending_first and item.state_label == "待初审"
    # 10 working days from Monday 2025-03-03
    assert item.deadline == dt.date(2025, 3, 17) and item.workdays_left == 10 and not item.overdue
    [entry] = world.items.history(world.p["analyst"], "J001")
    assert (entry.action, entry.action_label, entry.actor, entry.to_state) == (
        "import", "生成疑点", "系统", State.pending_first)


def test_import_is_idempotent_and_keeps_states(world):
    move(world, ["J001"], "first_dismiss")
    assert world.items.import_findings(world.con) == 0
    assert world.items.import_findings(world.con, run_id=1) == 0
    world.con.execute("INSERT INTO findings (run_id, jr_id, rule_id, fixmedins_code, vola_amt) "
                      "SELECT 2, jr_id, rule_id, fixmedins_code, vola_amt FROM findings WHERE run_id = 1")
    world.con.execute("INSERT INTO findings (run_id, jr_id, rule_id, fixmedins_code, vola_amt) "
                      "VALUES (2, 'J006', 'R1', 'H001', 5)")
    assert world.items.import_findings(world.con) == 1           # latest run: only J006 is new
    assert world.items.list_items(world.p["analyst"]).total == len(FINDINGS) + 1
    assert world.items.get_item(world.p["analyst"], "J001").state == State.dismissed_first
    assert world.items.get_item(world.p["analyst"], "J001").run_id == 1
    assert len(world.items.history(world.p["analyst"], "J001")) == 2


def test_import_without_findings_table_imports_nothing(world):
    import duckdb

    assert world.items.import_findings(duckdb.connect()) == 0


def test_list_filters_sort_and_pages(world):
    a = world.p["analyst"]
    page = world.items.list_items(a)
    assert [i.jr_id for i in page.items] == ["J005", "J001", "J002", "J003", "J004"]   # -vola_amt
    assert page.total == 5 and page.page == 1
    assert [i.jr_id for i in world.items.list_items(a, sort="vola_amt").items][:2] == ["J004", "J003"]
    assert [i.jr_id for i in world.items.list_items(a, ItemFilter(rule_id="R1")).items] == ["J001", "J002"]
    assert world.items.list_items(a, ItemFilter(fixmedins_code="H002")).total == 2
    assert world.items.list_items(a, ItemFilter(period_from="2025-02", period_to="2025-02")).total == 3
    assert world.items.list_items(a, ItemFilter(sev_deg=2, min_amt=Decimal(10))).total == 2
    assert world.items.list_items(a, ItemFilter(max_amt=Decimal("35.50"))).total == 2
    assert [i.jr_id for i in world.items.list_items(a, ItemFilter(q="中医院")).items] == ["J005", "J002"]
    assert world.items.list_items(a, ItemFilter(q="%")).total == 0      # LIKE wildcards are literal
    two = world.items.list_items(a, page=2, page_size=2)
    assert [i.jr_id for i in two.items] == ["J002", "J003"] and two.total == 5
    with pytest.raises(ValidationFailed):
        world.items.list_items(a, sort="password_hash")
    with pytest.raises(ValidationFailed):
        world.items.list_items(a, page_size=100000)


def test_bulk_transition_reports_each_item(world):
    move(world, ["J003"], "first_dismiss")
    results = world.items.transition(world.p["reviewer"], ["J001", "J003", "NOPE", "J002", "J001"],
                                     Action.first_confirm)
    assert [(r.jr_id, r.ok, r.code) for r in results] == [
        ("J001", True, None), ("J003", False, "FG409"), ("NOPE", False, "FG404"), ("J002", True, None)]
    assert "初审排除" in results[1].message
    assert results[0].new_state == State.pending_second
    assert world.items.counts_by_state(world.p["analyst"])[State.pending_second] == 2


def test_reasons_are_required_where_declared(world):
    for reason in (None, "", "   "):
        [r] = world.items.transition(world.p["reviewer"], ["J001"], Action.first_dismiss, reason)
        assert not r.ok and r.code == "FG422" and "理由" in r.message
    move(world, ["J001"], "first_confirm", "second_approve", "push")
    [r] = world.items.transition(world.p["inst1"], ["J001"], Action.appeal)
    assert not r.ok and r.code == "FG422"
    [r] = world.items.transition(world.p["inst1"], ["J001"], Action.acknowledge)    # no reason needed
    assert r.ok and r.new_state == State.acknowledged
    [entry] = [e for e in world.items.history(world.p["analyst"], "J001") if e.action == "acknowledge"]
    assert entry.reason is None and entry.actor == "一院医保办"


def test_whole_call_errors_raise(world):
    with pytest.raises(ValidationFailed):
        world.items.transition(world.p["reviewer"], ["J001"], "fly_away")
    with pytest.raises(ValidationFailed):
        world.items.transition(world.p["reviewer"], [], Action.first_confirm)
    with pytest.raises(Forbidden):
        world.items.transition(world.p["admin"], ["J001"], Action.first_confirm)


def test_second_review_needs_another_person(world):
    move(world, ["J001", "J002"], "first_confirm")
    [r] = world.items.transition(world.p["reviewer"], ["J001"], Action.second_approve)
    assert not r.ok and r.code == "FG403" and "初审以外" in r.message
    assert Action.second_approve not in world.items.get_item(world.p["reviewer"], "J001").actions
    assert Action.second_approve in world.items.get_item(world.p["reviewer2"], "J001").actions
    [r] = world.items.transition(world.p["reviewer2"], ["J001"], Action.second_return, "金额需复核")
    assert r.ok and r.new_state == State.pending_first
    relaxed = world.db.settings.model_copy(update={"workflow_four_eyes": False})
    world.db.settings = relaxed
    [r] = ItemService(world.db, clock=world.clock).transition(world.p["reviewer"], ["J002"], Action.second_approve)
    assert r.ok


def test_deadlines_count_working_days_over_weekends_and_holidays(world):
    world.clock.now = dt.datetime(2025, 4, 25, 15, 0)               # Friday before 劳动节
    move(world, ["J001"], "first_confirm", "second_approve", "push")
    item = world.items.get_item(world.p["inst1"], "J001")
    # Sun 04-27 is a make-up working day, 05-01..05-05 are holidays: the 10th working day is Tue 05-13
    assert item.state == State.pushed and item.deadline == dt.date(2025, 5, 13)
    # An administrator's own holiday (a local one) moves later deadlines by one working day
    CalendarService(world.db, clock=world.clock).set_days(world.p["admin"], [(dt.date(2025, 5, 7), False, "地方假日")])
    move(world, ["J003"], "first_confirm", "second_approve", "push")
    assert world.items.get_item(world.p["inst1"], "J003").deadline == dt.date(2025, 5, 14)
    with pytest.raises(Forbidden):
        CalendarService(world.db).set_days(world.p["analyst"], [(dt.date(2025, 5, 8), False, None)])


def test_overdue_list_and_expiry_by_the_system(world):
    move(world, ["J001", "J002", "J003"], "first_confirm", "second_approve", "push")   # deadline Mon 03-17
    move(world, ["J003"], "appeal")
    world.clock.now = dt.datetime(2025, 3, 17, 18, 0)
    assert world.items.overdue(world.p["analyst"]) == []                     # the deadline day is still in time
    assert world.items.expire_overdue() == []
    world.clock.now = dt.datetime(2025, 3, 18, 8, 0)
    # items still waiting for 初审 are overdue too (J004, J005); J003's appeal has its own 20-day limit
    overdue = {i.jr_id for i in world.items.overdue(world.p["analyst"])}
    assert overdue == {"J001", "J002", "J004", "J005"}
    assert {i.jr_id for i in world.items.overdue(world.p["inst1"])} == {"J001"}
    assert world.items.list_items(world.p["analyst"], ItemFilter(overdue=True)).total == 4
    assert [i.jr_id for i in world.items.list_items(world.p["analyst"], ItemFilter(overdue=False)).items] == ["J003"]
    assert world.items.get_item(world.p["analyst"], "J001").workdays_left == -1
    results = world.items.expire_overdue(dt.date(2025, 3, 18))
    assert [(r.jr_id, r.ok, r.new_state) for r in results] == [("J001", True, State.acknowledged),
                                                               ("J002", True, State.acknowledged)]
    last = world.items.history(world.p["inst1"], "J001")[-1]
    assert (last.action, last.actor, last.actor_id, last.from_state, last.to_state) == (
        "expire", "系统", None, State.pushed, State.acknowledged)
    assert "2025-03-17" in last.reason
    assert world.items.get_item(world.p["analyst"], "J003").state == State.appealed   # answered in time
    assert world.items.expire_overdue(dt.date(2025, 3, 18)) == []                    # nothing left to expire
    with pytest.raises(Forbidden):
        world.items.expire_overdue(principal=world.p["reviewer"])


def test_assignment(world):
    a = world.p["analyst"]
    assert world.items.assign(a, ["J001", "J002", "NOPE"], world.p["reviewer"].user_id) == 2
    assert world.items.assign(a, ["J001"], world.p["reviewer"].user_id) == 0          # unchanged
    mine = world.items.list_items(a, ItemFilter(assignee_id=world.p["reviewer"].user_id))
    assert [i.jr_id for i in mine.items] == ["J001", "J002"] and mine.items[0].assignee == "审核丁"
    last = world.items.history(a, "J001")[-1]
    assert (last.action_label, last.reason, last.from_state, last.to_state) == (
        "分派", "分派给 审核丁", State.pending_first, State.pending_first)
    move(world, ["J003"], "first_dismiss")
    assert world.items.assign(a, ["J003"], world.p["reviewer"].user_id) == 0          # closed items stay
    for bad in (world.p["inst1"].user_id, world.p["admin"].user_id, 99999):
        with pytest.raises(ValidationFailed):
            world.items.assign(a, ["J001"], bad)
    with pytest.raises(Forbidden):
        world.items.assign(world.p["inst1"], ["J001"], world.p["reviewer"].user_id)
    assert world.items.assign(a, ["J001"], None) == 1
    assert world.items.get_item(a, "J001").assignee_id is None


def test_full_procedure_with_penalty(world):
    move(world, ["J001", "J003"], "first_confirm", "second_approve", "push", "appeal", "investigate")
    with pytest.raises(Forbidden):
        world.items.transition(world.p["reviewer"], ["J001"], Action.confirm_violation, "查实",
                               penalty=PenaltyIn(basis="art38"))
    [r] = world.items.transition(world.p["analyst"], ["J001"], Action.confirm_violation, "查实")
    assert not r.ok and r.code == "FG422" and "处理依据" in r.message
    [r] = world.items.transition(world.p["leader"], ["J001"], Action.confirm_violation, "查实",
                                 penalty=PenaltyIn(basis="art38", fine_amt=Decimal(2000)))
    assert not r.ok and "1–2 倍" in r.message                                   # 655.20 × [1, 2]
    results = world.items.transition(world.p["leader"], ["J001", "J003"], Action.confirm_violation, "经调查核实属实",
                                     penalty=PenaltyIn(basis="art38"))
    assert all(r.ok for r in results)
    j1 = world.items.get_item(world.p["inst1"], "J001")
    assert (j1.state, j1.closed, j1.penalty_basis) == (State.violation, True, "art38")
    assert (j1.deduct_amt, j1.recover_amt, j1.fine_amt) == (Decimal("655.20"), Decimal("0.00"), Decimal("0.00"))
    assert "第三十八条" in j1.penalty_basis_label and j1.actions == [] and j1.deadline is None
    assert world.items.get_item(world.p["analyst"], "J003").deduct_amt == Decimal("35.50")   # each its own amount
    last = world.items.history(world.p["inst1"], "J001")[-1]
    assert last.detail == {"penalty_basis": "art38", "deduct_amt": "655.20", "recover_amt": "0.00",
                           "fine_amt": "0.00"}
    move(world, ["J002"], "first_confirm", "second_approve", "push", "appeal", "investigate")
    [r] = world.items.transition(world.p["analyst"], ["J002"], Action.confirm_violation, "骗保",
                                 penalty=PenaltyIn(basis="art40", recover_amt=Decimal(120),
                                                   fine_amt=Decimal(360)))
    assert r.ok
    stats = world.items.stats(world.p["leader"])
    assert (stats.confirmed, stats.deduct_amt, stats.recover_amt, stats.fine_amt) == (
        3, Decimal("690.70"), Decimal("120.00"), Decimal("360.00"))


def test_penalty_rules(world):
    move(world, ["J001"], "first_confirm", "second_approve", "push", "acknowledge")
    bad = [PenaltyIn(basis="art39", fine_amt=Decimal(5000)), PenaltyIn(basis="agreement", fine_amt=Decimal(1))]
    for penalty in bad:
        [r] = world.items.transition(world.p["analyst"], ["J001"], Action.confirm_violation, "x", penalty=penalty)
        assert not r.ok and r.code == "FG422"
    with pytest.raises(ValidationFailed):
        world.items.transition(world.p["analyst"], ["J001"], Action.confirm_violation, "x",
                               penalty=PenaltyIn(basis="art99"))
    [r] = world.items.transition(world.p["analyst"], ["J001"], Action.not_confirmed, "x",
                                 penalty=PenaltyIn(basis="art38"))
    assert not r.ok and r.code == "FG422"
    [r] = world.items.transition(world.p["analyst"], ["J001"], Action.confirm_violation, "内部管理问题",
                                 penalty=PenaltyIn(basis="art39", deduct_amt=Decimal(0), fine_amt=Decimal(10000)))
    assert r.ok


def test_appeal_upheld_ends_not_confirmed(world):
    move(world, ["J002"], "first_confirm", "second_approve", "push", "appeal")
    [r] = world.items.transition(world.p["analyst"], ["J002"], Action.not_confirmed, "申诉材料证明用药合理")
    assert r.ok and r.new_state == State.not_confirmed
    item = world.items.get_item(world.p["inst2"], "J002")
    assert item.state_label == "不予认定" and item.closed and item.closed_at == world.clock.now


def test_rule_quality_counts_outcomes(world):
    move(world, ["J001"], "first_confirm", "second_approve", "push", "acknowledge")
    world.items.transition(world.p["analyst"], ["J001"], Action.confirm_violation, "属实",
                           penalty=PenaltyIn(basis="art38"))
    move(world, ["J002"], "first_dismiss")
    move(world, ["J003"], "first_confirm", "second_dismiss")
    move(world, ["J005"], "first_confirm", "second_approve", "push", "appeal")
    world.items.transition(world.p["analyst"], ["J005"], Action.not_confirmed, "申诉成立")
    quality = {q.rule_id: q for q in world.items.rule_quality(world.p["leader"])}
    r1, r2 = quality["R1"], quality["R2"]
    assert (r1.total, r1.confirmed, r1.dismissed, r1.open, r1.precision) == (2, 1, 1, 0, 0.5)
    assert r1.confirmed_amt == Decimal("655.20") and r1.rule_name == "药品区分性别使用"
    assert (r2.total, r2.confirmed, r2.dismissed, r2.open, r2.precision) == (3, 0, 2, 1, 0.0)
    assert not r2.needs_review                                       # too few decisions to judge
    assert next(q.rule_id for q in world.items.rule_quality(min_decided=2)) == "R2"
    assert world.items.rule_quality(min_decided=2)[0].needs_review
    with pytest.raises(Forbidden):
        world.items.rule_quality(world.p["inst1"])


def test_stats_and_counts(world):
    move(world, ["J003"], "first_dismiss")
    stats = world.items.stats(world.p["leader"])
    assert (stats.total, stats.open, stats.dismissed, stats.overdue) == (5, 4, 1, 0)
    assert stats.vola_amt == Decimal("1818.70") and stats.open_amt == Decimal("1783.20")
    assert stats.by_state[State.pending_first] == 4 and sum(stats.by_state.values()) == 5


def test_notes_with_and_without_files(world):
    entry = world.items.add_note(world.p["analyst"], "J001", "已调取病历")
    assert (entry.action, entry.action_label, entry.from_state, entry.to_state) == (
        "note", "补充说明/材料", State.pending_first, State.pending_first)
    with pytest.raises(ValidationFailed):
        world.items.add_note(world.p["analyst"], "J001", "  ")
    move(world, ["J001"], "first_dismiss")
    with pytest.raises(NotFound):
        world.items.add_note(world.p["inst1"], "J001", "补充")                # never pushed: invisible
    move(world, ["J003"], "first_confirm", "second_approve", "push", "acknowledge")
    with pytest.raises(InvalidTransition):
        world.items.add_note(world.p["inst1"], "J003", "补充")                # after answering: closed to notes



def test_breakdowns_exports_and_assignable_staff(world):
    move(world, ["J001"], "first_confirm", "second_approve", "push", "acknowledge")
    world.items.transition(world.p["analyst"], ["J001"], Action.confirm_violation, "属实",
                           penalty=PenaltyIn(basis="art38"))
    by_inst = world.items.breakdown(world.p["leader"])
    assert [(b.key, b.label, b.total, b.open, b.confirmed, b.vola_amt) for b in by_inst] == [
        ("H002", "市中医院", 2, 2, 0, Decimal("1120.00")),
        ("H001", "市第一人民医院", 2, 1, 1, Decimal("690.70")),
        ("H003", "某社区卫生服务中心", 1, 1, 0, Decimal("8.00"))]
    assert by_inst[1].recovered_amt == Decimal("655.20")
    assert [(b.key, b.total) for b in world.items.breakdown(world.p["inst1"], "rule_id")] == [("R1", 1)]
    assert {b.key for b in world.items.breakdown(world.p["leader"], "period")} == {"2025-01", "2025-02"}
    with pytest.raises(ValidationFailed):
        world.items.breakdown(world.p["leader"], "psn_no")
    rows = world.items.export_items(world.p["analyst"], ItemFilter(rule_id="R2"), sort="jr_id")
    assert [i.jr_id for i in rows] == ["J003", "J004", "J005"]
    with pytest.raises(Forbidden):
        world.items.export_items(world.p["inst1"])
    assert [p.username for p in world.users.assignable_users()] == ["leader", "analyst", "reviewer", "reviewer2"]
