"""ItemService: the 疑点 procedure. Every method checks the role and the institution scope itself.

An institution user sees only items of its own institution that have been pushed to it, and of their history
only what happened from the push on (internal review notes and staffing stay internal). Anything outside the
scope is reported as absent (``NotFound``), never as forbidden, so existence is not revealed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import undefer
from sqlalchemy.orm.exc import StaleDataError

from fundguard.errors import Forbidden, FundGuardError, InvalidTransition, NotFound, ValidationFailed
from fundguard.workflow import evidence, importer
from fundguard.workflow.access import STAFF, Principal, Role, institution_scope, require
from fundguard.workflow.db import WorkflowDB
from fundguard.workflow.models import AttachmentRow, Item, LogEntryRow, User
from fundguard.workflow.transitions import (
    ACTION_LABELS,
    CLOSED_STATES,
    CONFIRMED_STATES,
    DISMISSED_STATES,
    INSTITUTION_NOTE_STATES,
    INSTITUTION_STATES,
    PENALTY_BASES,
    STATE_LABELS,
    Action,
    Event,
    State,
    Transition,
    allowed_actions,
    get_transition,
    log_action_label,
)
from fundguard.workflow.views import (
    AttachmentIn,
    AttachmentView,
    Breakdown,
    ItemFilter,
    ItemView,
    LogEntry,
    Page,
    PenaltyIn,
    RuleQuality,
    TransitionResult,
    WorkflowStats,
)
from fundguard.workflow.workdays import WorkCalendar

SYSTEM_NAME = "系统"
SORT_KEYS = {"vola_amt", "sev_deg", "deadline", "period", "rule_id", "fixmedins_code", "state", "jr_id",
             "state_since", "imported_at"}
MAX_PAGE_SIZE = 500
BREAKDOWN_KEYS = ("fixmedins_code", "rule_id", "period")
_SECOND_REVIEW = frozenset({Action.second_approve, Action.second_dismiss, Action.second_return})
_CENT = Decimal("0.01")
_ITEM_COLUMNS = tuple(name for name in ItemView.model_fields if name in Item.__table__.columns and name != "state")


def _order_by(sort: str) -> list:
    """``"sev_deg,-vola_amt"``: comma-separated keys, ``-`` for descending; unknown keys are refused."""
    order = []
    for part in [p.strip() for p in (sort or "").split(",") if p.strip()] or ["-vola_amt"]:
        key = part.lstrip("-+")
        if key not in SORT_KEYS:
            raise ValidationFailed(f"不支持按 {key!r} 排序，可选：{'、'.join(sorted(SORT_KEYS))}")
        col = getattr(Item, key)
        order.append(col.desc().nulls_last() if part.startswith("-") else col.asc().nulls_last())
    return order


def _money(value) -> Decimal:
    return Decimal(str(value or 0)).quantize(_CENT)


class ItemService:
    def __init__(self, db: WorkflowDB, clock: Callable[[], dt.datetime] = dt.datetime.now):
        self.db = db
        self.clock = clock
        self.settings = db.settings

    # --- import ---------------------------------------------------------------------------------------------

    def import_findings(self, con, run_id: int | None = None) -> int:
        """One item per jr_id from the DuckDB ``findings`` of a run (latest when None); idempotent."""
        return importer.import_findings(self.db, con, run_id, self.clock())

    # --- reading --------------------------------------------------------------------------------------------

    def list_items(self, principal: Principal, f: ItemFilter | None = None, sort: str = "-vola_amt",
                   page: int = 1, page_size: int = 50) -> Page:
        require(principal, "findings.read")
        f = f or ItemFilter()
        if page < 1 or not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValidationFailed(f"页码从 1 开始，每页 1–{MAX_PAGE_SIZE} 条")
        order = _order_by(sort)
        today = self.clock().date()
        where = self._scope(principal) + self._filters(f, today)
        with self.db.session() as s:
            total = s.scalar(select(func.count()).select_from(Item).where(*where))
            rows = s.scalars(select(Item).where(*where).order_by(*order, Item.jr_id)
                             .offset((page - 1) * page_size).limit(page_size)).all()
            views = self._views(s, principal, rows, today)
        return Page(items=views, total=total or 0, page=page, page_size=page_size)

    def get_item(self, principal: Principal, jr_id: str) -> ItemView:
        require(principal, "findings.read")
        with self.db.session() as s:
            item = self._load(s, principal, jr_id)
            return self._views(s, principal, [item], self.clock().date())[0]

    def overdue(self, principal: Principal, today: dt.date | None = None, limit: int = 1000) -> list[ItemView]:
        """Open items past their deadline (the deadline day itself is still in time), oldest deadline first; at
        most ``limit`` (``stats().overdue`` has the full count, ``ItemFilter(overdue=True)`` pages through all)."""
        require(principal, "findings.read")
        today = today or self.clock().date()
        with self.db.session() as s:
            rows = s.scalars(select(Item).where(*self._scope(principal), *self._overdue(today))
                             .order_by(Item.deadline, Item.jr_id).limit(limit)).all()
            return self._views(s, principal, rows, today)

    def counts_by_state(self, principal: Principal) -> dict[State, int]:
        require(principal, "findings.read")
        with self.db.session() as s:
            found = dict(s.execute(select(Item.state, func.count()).where(*self._scope(principal))
                                   .group_by(Item.state)).all())
        return {state: int(found.get(state.value, 0)) for state in State}

    def stats(self, principal: Principal, today: dt.date | None = None) -> WorkflowStats:
        require(principal, "findings.read")
        today = today or self.clock().date()
        closed = Item.state.in_([st.value for st in CLOSED_STATES])
        with self.db.session() as s:
            scope = self._scope(principal)
            total, amount, deduct, recover, fine = s.execute(
                select(func.count(), func.sum(Item.vola_amt), func.sum(Item.deduct_amt), func.sum(Item.recover_amt),
                       func.sum(Item.fine_amt)).where(*scope)).one()
            open_n, open_amt = s.execute(select(func.count(), func.sum(Item.vola_amt)).where(*scope, ~closed)).one()
            overdue = s.scalar(select(func.count()).select_from(Item).where(*scope, *self._overdue(today)))
        by_state = self.counts_by_state(principal)
        return WorkflowStats(
            total=total or 0, open=open_n or 0, overdue=overdue or 0, vola_amt=_money(amount),
            open_amt=_money(open_amt), confirmed=sum(by_state[st] for st in CONFIRMED_STATES),
            dismissed=sum(by_state[st] for st in DISMISSED_STATES), deduct_amt=_money(deduct),
            recover_amt=_money(recover), fine_amt=_money(fine), by_state=by_state)

    def breakdown(self, principal: Principal, by: str = "fixmedins_code") -> list[Breakdown]:
        """Totals per institution, rule or period within the user's scope (dashboard), largest amount first."""
        require(principal, "findings.read")
        if by not in BREAKDOWN_KEYS:
            raise ValidationFailed(f"不支持按 {by!r} 汇总，可选：{'、'.join(BREAKDOWN_KEYS)}")
        key = getattr(Item, by)
        name = {"fixmedins_code": Item.fixmedins_name, "rule_id": Item.rule_name}.get(by, key)
        with self.db.session() as s:
            rows = s.execute(select(key, func.max(name), Item.state, func.count(), func.sum(Item.vola_amt),
                                    func.sum(func.coalesce(Item.deduct_amt, 0) + func.coalesce(Item.recover_amt, 0)))
                             .where(*self._scope(principal)).group_by(key, Item.state)).all()
        out: dict[str | None, Breakdown] = {}
        for value, label, state, count, amount, recovered in rows:
            b = out.setdefault(value, Breakdown(key=value, label=label, total=0, open=0, confirmed=0, dismissed=0))
            b.label = b.label or label
            b.total += count
            b.vola_amt += _money(amount)
            b.recovered_amt += _money(recovered)
            if state in CONFIRMED_STATES:
                b.confirmed += count
            elif state in DISMISSED_STATES:
                b.dismissed += count
            else:
                b.open += count
        return sorted(out.values(), key=lambda b: (-b.vola_amt, str(b.key)))

    def export_items(self, principal: Principal, f: ItemFilter | None = None, sort: str = "-vola_amt",
                     limit: int = 100_000) -> list[ItemView]:
        """Every matching item (no paging) for an export; needs ``findings.export``."""
        require(principal, "findings.export")
        out: list[ItemView] = []
        page = 1
        while len(out) < limit:
            chunk = self.list_items(principal, f, sort, page=page, page_size=MAX_PAGE_SIZE)
            out.extend(chunk.items)
            if page * MAX_PAGE_SIZE >= chunk.total:
                break
            page += 1
        return out[:limit]

    def rule_quality(self, principal: Principal | None = None, min_decided: int = 10,
                     review_below: float = 0.5) -> list[RuleQuality]:
        """Per rule: confirmed (确认违规) vs dismissed (初审/复审排除, 不予认定) and the resulting precision.
        A rule with at least ``min_decided`` decisions and a precision below ``review_below`` is flagged."""
        if principal is not None:
            require(principal, "rules.quality")
        with self.db.session() as s:
            rows = s.execute(select(Item.rule_id, func.max(Item.rule_name), Item.state, func.count(),
                                    func.sum(Item.vola_amt)).group_by(Item.rule_id, Item.state)).all()
        out: dict[str, RuleQuality] = {}
        for rule_id, name, state, count, amount in rows:
            q = out.setdefault(rule_id, RuleQuality(rule_id=rule_id, rule_name=name, total=0, confirmed=0,
                                                    dismissed=0, open=0))
            q.rule_name = q.rule_name or name
            q.total += count
            if state in CONFIRMED_STATES:
                q.confirmed += count
                q.confirmed_amt += _money(amount)
            elif state in DISMISSED_STATES:
                q.dismissed += count
            else:
                q.open += count
        for q in out.values():
            decided = q.confirmed + q.dismissed
            q.precision = round(q.confirmed / decided, 4) if decided else None
            q.needs_review = decided >= min_decided and (q.precision or 0) < review_below
        return sorted(out.values(), key=lambda q: (q.precision is None, q.precision or 0, q.rule_id))

    def history(self, principal: Principal, jr_id: str) -> list[LogEntry]:
        require(principal, "findings.read")
        with self.db.session() as s:
            self._load(s, principal, jr_id)
            entries = self._visible_log(s, principal, jr_id)
            files = s.scalars(select(AttachmentRow).where(AttachmentRow.jr_id == jr_id)
                              .order_by(AttachmentRow.id)).all()
        by_log: dict[int, list[AttachmentView]] = {}
        for row in files:
            by_log.setdefault(row.log_id, []).append(evidence.view(row))
        return [self._log_view(e, by_log.get(e.id, [])) for e in entries]

    def attachments(self, principal: Principal, jr_id: str) -> list[AttachmentView]:
        return [a for entry in self.history(principal, jr_id) for a in entry.attachments]

    def get_attachment(self, principal: Principal, attachment_id: int) -> tuple[str, str, bytes]:
        require(principal, "findings.read")
        with self.db.session() as s:
            row = s.scalar(select(AttachmentRow).options(undefer(AttachmentRow.data))
                           .where(AttachmentRow.id == attachment_id))
            if row is None:
                raise NotFound("未找到该附件")
            try:
                self._load(s, principal, row.jr_id)
            except NotFound:
                raise NotFound("未找到该附件") from None
            if row.log_id not in {e.id for e in self._visible_log(s, principal, row.jr_id)}:
                raise NotFound("未找到该附件")
            return row.filename, row.content_type, bytes(row.data)

    # --- acting ---------------------------------------------------------------------------------------------

    def transition(self, principal: Principal, jr_ids: list[str], action: Action | str, reason: str | None = None,
                   attachments: list[AttachmentIn] | None = None,
                   penalty: PenaltyIn | None = None) -> list[TransitionResult]:
        """Apply one action to each item; each item succeeds or fails on its own (bulk)."""
        try:
            action = Action(action)
        except ValueError:
            raise ValidationFailed(f"未知的操作：{action}") from None
        require(principal, f"items.{action.value}")
        reason = (reason or "").strip() or None
        if reason and len(reason) > 4000:
            raise ValidationFailed("理由不能超过 4000 字")
        files = evidence.validate(attachments, self.settings.attachment_max_bytes)
        if penalty is not None and penalty.basis not in PENALTY_BASES:
            raise ValidationFailed(f"未知的处理依据：{penalty.basis}")
        ids = list(dict.fromkeys(str(j) for j in jr_ids or []))
        if not ids:
            raise ValidationFailed("请至少选择一条疑点")
        now = self.clock()
        results = []
        with self.db.session() as s:
            calendar = WorkCalendar.load(s)
            for jr_id in ids:
                try:
                    with s.begin_nested():
                        item = self._load(s, principal, jr_id)
                        tr = self._check(principal, item, action, reason, files, penalty)
                        self._apply(s, item, tr, action, principal, now, calendar, reason, files, penalty)
                        s.flush()
                    results.append(TransitionResult(jr_id=jr_id, ok=True, message=f"已{ACTION_LABELS[action]}",
                                                    new_state=tr.to))
                except FundGuardError as exc:
                    results.append(TransitionResult(jr_id=jr_id, ok=False, message=exc.message, code=exc.code))
                except StaleDataError:
                    results.append(TransitionResult(jr_id=jr_id, ok=False, message="该疑点刚被他人处理，请刷新后重试",
                                                    code=InvalidTransition.code))
        return results

    def expire_overdue(self, today: dt.date | None = None,
                       principal: Principal | None = None) -> list[TransitionResult]:
        """Items pushed to an institution that did not answer by the appeal deadline become 视同认可 (系统)."""
        if principal is not None:
            require(principal, "items.expire_overdue")
        today = today or self.clock().date()
        now = self.clock()
        tr = get_transition(State.pushed, Action.expire)
        results = []
        with self.db.session() as s:
            calendar = WorkCalendar.load(s)
            items = s.scalars(select(Item).where(Item.state == State.pushed.value, Item.deadline < today)
                              .order_by(Item.jr_id)).all()
            for item in items:
                try:
                    with s.begin_nested():
                        reason = f"申诉期限 {item.deadline.isoformat()} 前未反馈，视同认可"
                        self._apply(s, item, tr, Action.expire, None, now, calendar, reason, [], None)
                        s.flush()
                    results.append(TransitionResult(jr_id=item.jr_id, ok=True, message=reason, new_state=tr.to))
                except StaleDataError:
                    results.append(TransitionResult(jr_id=item.jr_id, ok=False, message="该疑点刚被他人处理",
                                                    code=InvalidTransition.code))
        return results

    def assign(self, principal: Principal, jr_ids: list[str], assignee_user_id: int | None) -> int:
        """Assign open items to a staff member (None: unassign); returns how many items changed."""
        require(principal, "items.assign")
        now = self.clock()
        changed = 0
        with self.db.session() as s:
            assignee = None
            if assignee_user_id is not None:
                assignee = s.get(User, assignee_user_id)
                if assignee is None or not assignee.active or Role(assignee.role) not in STAFF \
                        or assignee.role == Role.admin:
                    raise ValidationFailed("只能分派给在用的医保局业务人员")
            for jr_id in dict.fromkeys(jr_ids or []):
                item = s.scalar(select(Item).where(Item.jr_id == jr_id, *self._scope(principal)))
                if item is None or item.state in CLOSED_STATES or item.assignee_id == assignee_user_id:
                    continue
                item.assignee_id = assignee_user_id
                text = f"分派给 {assignee.display_name}" if assignee else "取消分派"
                self._add_log(s, item, principal, Event.assign.value, item.state, item.state, text, now,
                              {"assignee_id": assignee_user_id})
                changed += 1
        return changed

    def add_note(self, principal: Principal, jr_id: str, text: str | None,
                 attachments: list[AttachmentIn] | None = None) -> LogEntry:
        """补充说明/材料 without changing the state. Institutions may add them while pushed, appealed or under
        investigation; staff at any time."""
        require(principal, "items.note")
        text = (text or "").strip() or None
        files = evidence.validate(attachments, self.settings.attachment_max_bytes)
        if not text and not files:
            raise ValidationFailed("请填写说明或上传附件")
        now = self.clock()
        with self.db.session() as s:
            item = self._load(s, principal, jr_id)
            if principal.is_institution and item.state not in INSTITUTION_NOTE_STATES:
                raise InvalidTransition(f"疑点处于“{STATE_LABELS[State(item.state)]}”，不能再补充材料")
            entry = self._add_log(s, item, principal, Event.note.value, item.state, item.state, text, now, None)
            rows = evidence.rows_for(files, jr_id, entry.id, now, principal.user_id, principal.display_name)
            s.add_all(rows)
            s.flush()
            return self._log_view(entry, [evidence.view(r) for r in rows])

    # --- internals ------------------------------------------------------------------------------------------

    def _scope(self, principal: Principal) -> list:
        code = institution_scope(principal)
        if code is None:
            return []
        return [Item.fixmedins_code == code, Item.state.in_([st.value for st in INSTITUTION_STATES])]

    def _overdue(self, today: dt.date) -> list:
        return [Item.deadline < today, Item.state.not_in([st.value for st in CLOSED_STATES])]

    def _filters(self, f: ItemFilter, today: dt.date) -> list:
        w = []
        for field in ("rule_id", "fixmedins_code", "psn_no", "sev_deg", "assignee_id"):
            value = getattr(f, field)
            if value is not None and value != "":
                w.append(getattr(Item, field) == value)
        if f.period_from:
            w.append(Item.period >= f.period_from)
        if f.period_to:
            w.append(Item.period <= f.period_to)
        if f.state is not None:
            w.append(Item.state == f.state.value)
        if f.states:
            w.append(Item.state.in_([st.value for st in f.states]))
        if f.closed is not None:
            closed = Item.state.in_([st.value for st in CLOSED_STATES])
            w.append(closed if f.closed else ~closed)
        if f.min_amt is not None:
            w.append(Item.vola_amt >= f.min_amt)
        if f.max_amt is not None:
            w.append(Item.vola_amt <= f.max_amt)
        if f.overdue is True:
            w.extend(self._overdue(today))
        elif f.overdue is False:
            w.append(~and_(*self._overdue(today)) | Item.deadline.is_(None))
        if f.q and f.q.strip():
            pattern = "%" + f.q.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            cols = (Item.jr_id, Item.mdtrt_id, Item.setl_id, Item.psn_no, Item.hilist_code, Item.hilist_name,
                    Item.rule_id, Item.rule_name, Item.fixmedins_name, Item.vola_cont)
            w.append(or_(*[c.ilike(pattern, escape="\\") for c in cols]))
        return w

    def _load(self, s, principal: Principal, jr_id: str) -> Item:
        item = s.scalar(select(Item).where(Item.jr_id == str(jr_id), *self._scope(principal)))
        if item is None:
            raise NotFound("未找到该疑点")
        return item

    def _check(self, principal: Principal, item: Item, action: Action, reason: str | None, files,
               penalty: PenaltyIn | None) -> Transition:
        state = State(item.state)
        tr = get_transition(state, action)
        if tr is None or tr.system_only:
            raise InvalidTransition(f"疑点处于“{STATE_LABELS[state]}”，不能{ACTION_LABELS[action]}")
        if principal.role not in tr.roles:
            raise Forbidden(f"当前角色（{principal.role_label}）不能{ACTION_LABELS[action]}")
        if action in _SECOND_REVIEW and self.settings.workflow_four_eyes \
                and item.first_reviewer_id == principal.user_id:
            raise Forbidden("复审须由初审以外的人员进行")
        if tr.needs_reason and not reason:
            raise ValidationFailed(f"{ACTION_LABELS[action]}须填写理由")
        if files and not tr.attachments:
            raise ValidationFailed(f"{ACTION_LABELS[action]}不能上传附件")
        if tr.needs_penalty:
            if penalty is None:
                raise ValidationFailed("确认违规须选择处理依据（条例条款或服务协议）")
            self._check_penalty(item, penalty)
        elif penalty is not None:
            raise ValidationFailed(f"{ACTION_LABELS[action]}不记录处理金额")
        return tr

    @staticmethod
    def _penalty_amounts(item: Item, penalty: PenaltyIn) -> tuple[Decimal, Decimal, Decimal]:
        deduct, recover = penalty.deduct_amt, penalty.recover_amt
        if deduct is None and recover is None:
            deduct = item.vola_amt
        return _money(deduct), _money(recover), _money(penalty.fine_amt)

    def _check_penalty(self, item: Item, penalty: PenaltyIn) -> None:
        deduct, recover, fine = self._penalty_amounts(item, penalty)
        basis = PENALTY_BASES[penalty.basis]
        loss = deduct + recover
        if fine and basis["band"]:
            lo, hi = basis["band"]
            if not lo <= fine <= hi:
                raise ValidationFailed(f"依据{basis['label']}，罚款应在 {lo}–{hi} 元之间")
        elif fine and basis["multiplier"]:
            lo, hi = basis["multiplier"]
            if not loss * lo <= fine <= loss * hi:
                raise ValidationFailed(f"依据{basis['label']}，罚款应为扣款与追回合计（{loss} 元）的 {lo}–{hi} 倍")
        elif fine and not basis["multiplier"] and not basis["band"]:
            raise ValidationFailed(f"依据{basis['label']}不能处以罚款")

    def _apply(self, s, item: Item, tr: Transition, action: Action, principal: Principal | None, now: dt.datetime,
               calendar: WorkCalendar, reason: str | None, files, penalty: PenaltyIn | None) -> None:
        from_state = item.state
        days = tr.deadline_workdays_in(self.settings)
        item.state = tr.to.value
        item.state_since = now
        item.deadline = calendar.add_workdays(now.date(), days) if days else None
        detail = None
        if action == Action.first_confirm and principal is not None:
            item.first_reviewer_id = principal.user_id
        if tr.to == State.pushed:
            item.pushed_at = now
        if tr.to in CLOSED_STATES:
            item.closed_at = now
        if penalty is not None and tr.needs_penalty:
            deduct, recover, fine = self._penalty_amounts(item, penalty)
            item.penalty_basis, item.deduct_amt, item.recover_amt, item.fine_amt = penalty.basis, deduct, recover, fine
            detail = {"penalty_basis": penalty.basis, "deduct_amt": str(deduct), "recover_amt": str(recover),
                      "fine_amt": str(fine)}
        entry = self._add_log(s, item, principal, action.value, from_state, item.state, reason, now, detail)
        if files:
            actor_id = principal.user_id if principal else None
            actor = principal.display_name if principal else SYSTEM_NAME
            s.add_all(evidence.rows_for(files, item.jr_id, entry.id, now, actor_id, actor))

    def _add_log(self, s, item: Item, principal: Principal | None, action: str, from_state: str | None,
                 to_state: str, reason: str | None, now: dt.datetime, detail: dict | None) -> LogEntryRow:
        entry = LogEntryRow(jr_id=item.jr_id, at=now, actor_id=principal.user_id if principal else None,
                            actor_name=principal.display_name if principal else SYSTEM_NAME,
                            actor_role=principal.role.value if principal else None, action=action,
                            from_state=from_state, to_state=to_state, reason=reason, deadline=item.deadline,
                            detail=detail)
        s.add(entry)
        s.flush()
        return entry

    def _visible_log(self, s, principal: Principal, jr_id: str) -> list[LogEntryRow]:
        entries = s.scalars(select(LogEntryRow).where(LogEntryRow.jr_id == jr_id).order_by(LogEntryRow.id)).all()
        if not principal.is_institution:
            return list(entries)
        pushes = [e.id for e in entries if e.action == Action.push.value]
        if not pushes:
            return []
        return [e for e in entries if e.id >= pushes[0] and e.action != Event.assign.value]

    def _log_view(self, e: LogEntryRow, files: list[AttachmentView]) -> LogEntry:
        return LogEntry(id=e.id, jr_id=e.jr_id, at=e.at, actor_id=e.actor_id, actor=e.actor_name,
                        actor_role=e.actor_role, action=e.action, action_label=log_action_label(e.action),
                        from_state=e.from_state, from_label=STATE_LABELS[State(e.from_state)] if e.from_state else None,
                        to_state=e.to_state, to_label=STATE_LABELS[State(e.to_state)], reason=e.reason,
                        deadline=e.deadline, detail=e.detail, attachments=files)

    def _views(self, s, principal: Principal, items: list[Item], today: dt.date) -> list[ItemView]:
        if not items:
            return []
        calendar = WorkCalendar.load(s)
        ids = {i.assignee_id for i in items if i.assignee_id}
        names = dict(s.execute(select(User.id, User.display_name).where(User.id.in_(ids))).all()) if ids else {}
        out = []
        for item in items:
            state = State(item.state)
            closed = state in CLOSED_STATES
            actions = allowed_actions(principal, state)
            if self.settings.workflow_four_eyes and item.first_reviewer_id == principal.user_id:
                actions = [a for a in actions if a not in _SECOND_REVIEW]
            data = {name: getattr(item, name) for name in _ITEM_COLUMNS}
            data.update(
                state=state, state_label=STATE_LABELS[state], closed=closed,
                overdue=bool(item.deadline and not closed and item.deadline < today),
                workdays_left=calendar.workdays_between(today, item.deadline) if item.deadline and not closed else None,
                assignee=names.get(item.assignee_id), actions=actions,
                penalty_basis_label=PENALTY_BASES[item.penalty_basis]["label"] if item.penalty_basis else None)
            out.append(ItemView(**data))
        return out

