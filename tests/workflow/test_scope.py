"""Institution scope (by every service method), attachments and the append-only audit log."""

from __future__ import annotations

import hashlib

import pytest
import sqlalchemy as sa

from fundguard.errors import Forbidden, NotFound, ValidationFailed
from fundguard.workflow.models import Item, LogEntryRow
from fundguard.workflow.transitions import Action, State
from fundguard.workflow.views import AttachmentIn, ItemFilter

from .conftest import move

PDF = AttachmentIn(filename="申诉说明.pdf", content_type="application/pdf", data=b"%PDF-1.4 appeal")


def _pushed_world(world):
    """J001, J003 (H001) and J002, J005 (H002) pushed; J002 appealed with a file by H002; J004 (H003) untouched."""
    move(world, ["J001", "J002", "J003", "J005"], "first_confirm", "second_approve", "push")
    [r] = world.items.transition(world.p["inst2"], ["J002"], Action.appeal, "用药符合说明书", [PDF])
    assert r.ok
    return world.items.attachments(world.p["analyst"], "J002")[0].id


def test_institution_sees_nothing_before_the_push(world):
    inst = world.p["inst1"]
    assert world.items.list_items(inst).total == 0
    assert all(n == 0 for n in world.items.counts_by_state(inst).values())
    with pytest.raises(NotFound):
        world.items.get_item(inst, "J001")                                  # its own, but not pushed yet
    with pytest.raises(NotFound):
        world.items.history(inst, "J001")


def test_institution_never_sees_or_acts_on_another_institutions_items(world):
    attachment_id = _pushed_world(world)
    inst1, inst2 = world.p["inst1"], world.p["inst2"]
    assert [i.jr_id for i in world.items.list_items(inst1).items] == ["J001", "J003"]
    assert world.items.list_items(inst1, ItemFilter(fixmedins_code="H002")).total == 0
    assert world.items.list_items(inst1, ItemFilter(q="J002")).total == 0
    assert sum(world.items.counts_by_state(inst1).values()) == 2
    assert world.items.stats(inst1).total == 2
    world.clock.advance(days=30)
    assert {i.jr_id for i in world.items.overdue(inst1)} == {"J001", "J003"}
    for call in (lambda: world.items.get_item(inst1, "J002"),
                 lambda: world.items.history(inst1, "J002"),
                 lambda: world.items.attachments(inst1, "J002"),
                 lambda: world.items.get_attachment(inst1, attachment_id),
                 lambda: world.items.add_note(inst1, "J002", "看看")):
        with pytest.raises(NotFound):
            call()
    for action, reason in ((Action.appeal, "申诉"), (Action.acknowledge, None)):
        [r] = world.items.transition(inst1, ["J005"], action, reason)
        assert not r.ok and r.code == "FG404" and r.message == "未找到该疑点"
    assert world.items.get_item(world.p["analyst"], "J005").state == State.pushed
    with pytest.raises(Forbidden):
        world.items.assign(inst1, ["J001"], world.p["reviewer"].user_id)
    with pytest.raises(Forbidden):
        world.items.rule_quality(inst1)
    # the owner sees its own file
    assert world.items.get_attachment(inst2, attachment_id)[2] == PDF.data


def test_institution_history_starts_at_the_push(world):
    world.items.add_note(world.p["analyst"], "J001", "内部意见：重点核查",
                         [AttachmentIn(filename="内部.txt", data=b"internal")])
    world.items.assign(world.p["analyst"], ["J001"], world.p["reviewer"].user_id)
    move(world, ["J001"], "first_confirm", "second_approve", "push")
    world.items.assign(world.p["analyst"], ["J001"], world.p["analyst"].user_id)
    staff = world.items.history(world.p["analyst"], "J001")
    assert [e.action for e in staff] == ["import", "note", "assign", "first_confirm", "second_approve", "push",
                                         "assign"]
    inst = world.items.history(world.p["inst1"], "J001")
    assert [e.action for e in inst] == ["push"]
    internal_id = staff[1].attachments[0].id
    with pytest.raises(NotFound):
        world.items.get_attachment(world.p["inst1"], internal_id)
    assert world.items.attachments(world.p["inst1"], "J001") == []
    assert world.items.get_attachment(world.p["leader"], internal_id) == ("内部.txt", "text/plain", b"internal")


def test_attachments_are_checked_hashed_and_typed_by_extension(world):
    attachment_id = _pushed_world(world)
    [view] = world.items.attachments(world.p["inst2"], "J002")
    assert (view.filename, view.content_type, view.size, view.uploaded_by) == (
        "申诉说明.pdf", "application/pdf", len(PDF.data), "中医院医保办")
    assert view.sha256 == hashlib.sha256(PDF.data).hexdigest() and view.id == attachment_id
    [entry] = [e for e in world.items.history(world.p["analyst"], "J002") if e.action == "appeal"]
    assert entry.attachments == [view] and entry.reason == "用药符合说明书"
    bad = [AttachmentIn(filename="x.html", data=b"<script>"), AttachmentIn(filename="empty.pdf", data=b""),
           AttachmentIn(filename="big.pdf", data=b"0" * (world.db.settings.attachment_max_bytes + 1))]
    for att in bad:
        with pytest.raises(ValidationFailed):
            world.items.transition(world.p["inst1"], ["J001"], Action.appeal, "申诉", [att])
    # the path is dropped and the type follows the extension, whatever the client claims
    note = world.items.add_note(world.p["inst1"], "J001", None,
                                [AttachmentIn(filename="../../etc/病历.PNG", content_type="text/html", data=b"\x89PNG")])
    assert (note.attachments[0].filename, note.attachments[0].content_type) == ("病历.PNG", "image/png")
    [r] = world.items.transition(world.p["reviewer"], ["J004"], Action.first_confirm, None, [PDF])
    assert not r.ok and r.code == "FG422"                       # 初审 takes no files
    with pytest.raises(NotFound):
        world.items.get_attachment(world.p["analyst"], 987654)


def test_the_log_is_append_only(world):
    move(world, ["J001"], "first_confirm")
    world.items.add_note(world.p["analyst"], "J003", "材料", [PDF])
    entries = world.items.history(world.p["analyst"], "J001")
    assert [(e.action, e.from_state, e.to_state, e.actor, e.actor_role) for e in entries] == [
        ("import", None, State.pending_first, "系统", None),
        ("first_confirm", State.pending_first, State.pending_second, "审核丁", "reviewer")]
    assert entries[1].at == world.clock.now and entries[1].reason == "理由"
    # the ORM refuses to change or delete an entry …
    with pytest.raises(PermissionError), world.db.session() as s:
        s.get(LogEntryRow, entries[1].id).reason = "改写"
    with pytest.raises(PermissionError), world.db.session() as s:
        s.delete(s.get(LogEntryRow, entries[1].id))
    # … and so does the database itself
    for sql in ("UPDATE wf_item_log SET reason = 'x'", "DELETE FROM wf_item_log",
                "UPDATE wf_attachments SET filename = 'x'", "DELETE FROM wf_admin_log"):
        with pytest.raises(sa.exc.DBAPIError), world.db.engine.begin() as c:
            c.exec_driver_sql(sql)
    if world.db.dialect == "postgresql":
        with pytest.raises(sa.exc.DBAPIError), world.db.engine.begin() as c:
            c.exec_driver_sql("TRUNCATE wf_item_log CASCADE")
    assert [e.id for e in world.items.history(world.p["analyst"], "J001")] == [e.id for e in entries]


def test_concurrent_change_is_detected(world):
    """Two users act on the same item at once: the second write is refused, not silently merged."""
    with world.db.session() as s:
        stale = s.get(Item, "J001")
    move(world, ["J001"], "first_confirm")
    from sqlalchemy.orm.exc import StaleDataError

    with pytest.raises(StaleDataError), world.db.session() as s:
        s.add(stale)
        stale.state = State.dismissed_first.value
    assert world.items.get_item(world.p["analyst"], "J001").state == State.pending_second
