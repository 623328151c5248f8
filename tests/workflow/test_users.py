"""Accounts: argon2 hashes, login, throttling, administration, demo users."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from fundguard.errors import AuthFailed, Forbidden, LoginThrottled, ValidationFailed
from fundguard.workflow.access import Role
from fundguard.workflow.models import AdminLogRow, LoginAttempt, User
from fundguard.workflow.users import UserService, ensure_demo_users

from .conftest import FAST_HASHER, PASSWORD


@pytest.fixture
def users(db, clock) -> UserService:
    return UserService(db, clock=clock, hasher=FAST_HASHER)


def _row(db, username) -> User:
    from sqlalchemy import select

    with db.session() as s:
        return s.scalar(select(User).where(User.username == username))


def test_passwords_are_stored_as_argon2id_hashes_only(db, users):
    p = users.create_user("zhang", PASSWORD, Role.analyst, "张稽查")
    assert (p.username, p.role, p.role_label, p.fixmedins_code) == ("zhang", Role.analyst, "监管科/稽查", None)
    row = _row(db, "zhang")
    assert row.password_hash.startswith("$argon2id$") and PASSWORD not in row.password_hash
    with db.engine.connect() as c:
        dump = " ".join(str(v) for r in c.exec_driver_sql("SELECT * FROM wf_users") for v in r)
    assert PASSWORD not in dump


def test_account_rules(users):
    users.create_user("inst", PASSWORD, "institution", "某院医保办", "H001")
    cases = [("Zhang2", PASSWORD, "analyst", "x", None),            # fine, below: duplicates and bad input
             ("INST", PASSWORD, "analyst", "x", None),              # usernames are case-insensitive
             ("a b", PASSWORD, "analyst", "x", None),
             ("li", PASSWORD, "analyst", "x", None),
             ("wang", PASSWORD, "institution", "x", None),          # institution without a code
             ("zhao", PASSWORD, "analyst", "x", "H001"),            # staff bound to an institution
             ("qian", "short1", "analyst", "x", None),
             ("sun", "onlyletters", "analyst", "x", None),
             ("zhou", PASSWORD, "superuser", "x", None),
             ("wu", PASSWORD, "analyst", "", None)]
    users.create_user(*cases[0])
    for case in cases[1:]:
        with pytest.raises(ValidationFailed):
            users.create_user(*case)
    assert [p.username for p in users.list_users()] == ["inst", "Zhang2"]


def test_authenticate_and_rehash(db, users, clock):
    users.create_user("zhang", PASSWORD, Role.reviewer, "张审核")
    p = users.authenticate(" ZHANG ", PASSWORD, "10.0.0.1")
    assert p.username == "zhang" and p.role == Role.reviewer
    assert _row(db, "zhang").last_login_at == clock.now
    for name, pw in (("zhang", "Wrong2025x"), ("nobody", PASSWORD)):
        with pytest.raises(AuthFailed) as exc:
            users.authenticate(name, pw, "10.0.0.1")
        assert exc.value.message == "用户名或密码错误" and exc.value.code == "FG401"
    # a stronger hasher upgrades the stored hash on the next successful login
    stronger = UserService(db, clock=clock, hasher=PasswordHasher(time_cost=2, memory_cost=128, parallelism=1))
    stronger.authenticate("zhang", PASSWORD, "10.0.0.1")
    assert "t=2" in _row(db, "zhang").password_hash


def test_login_throttling_per_username(db, users, clock):
    users.create_user("zhang", PASSWORD, Role.analyst, "张")
    for _ in range(db.settings.login_max_failures):
        with pytest.raises(AuthFailed):
            users.authenticate("zhang", "Wrong2025x", "10.0.0.1")
        clock.advance(seconds=10)
    with pytest.raises(LoginThrottled) as exc:
        users.authenticate("zhang", PASSWORD, "10.0.0.2")             # even the right password, from elsewhere
    assert exc.value.code == "FG429" and "分钟后再试" in exc.value.message
    with db.session() as s:                                            # throttled tries are not recorded
        assert s.query(LoginAttempt).count() == db.settings.login_max_failures
    clock.advance(minutes=db.settings.login_lock_minutes)
    assert users.authenticate("zhang", PASSWORD, "10.0.0.1").username == "zhang"
    # a success starts the count again
    for _ in range(db.settings.login_max_failures - 1):
        with pytest.raises(AuthFailed):
            users.authenticate("zhang", "Wrong2025x", "10.0.0.1")
    assert users.authenticate("zhang", PASSWORD, "10.0.0.1").username == "zhang"


def test_login_throttling_per_address(db, users, clock):
    users.create_user("zhang", PASSWORD, Role.analyst, "张")
    for i in range(db.settings.login_max_failures_per_ip):
        with pytest.raises(AuthFailed):
            users.authenticate(f"guess{i}", "Wrong2025x", "203.0.113.9")
    with pytest.raises(LoginThrottled):
        users.authenticate("zhang", PASSWORD, "203.0.113.9")
    assert users.authenticate("zhang", PASSWORD, "10.0.0.1").username == "zhang"
    clock.advance(minutes=db.settings.login_window_minutes + 1)
    assert users.authenticate("zhang", PASSWORD, "203.0.113.9").username == "zhang"


def test_deactivation_and_password_changes(db, users):
    admin = users.create_user("admin", PASSWORD, Role.admin, "管理员")
    zhang = users.create_user("zhang", PASSWORD, Role.analyst, "张")
    users.set_active(zhang.user_id, False, actor=admin)
    assert users.get_principal(zhang.user_id) is None
    with pytest.raises(AuthFailed) as exc:
        users.authenticate("zhang", PASSWORD, "10.0.0.1")
    assert "停用" in exc.value.message
    users.set_active(zhang.user_id, True, actor=admin)
    with pytest.raises(Forbidden):
        users.set_active(admin.user_id, False, actor=zhang)
    with pytest.raises(ValidationFailed):
        users.set_active(admin.user_id, False, actor=admin)
    with pytest.raises(ValidationFailed):
        users.set_password(zhang.user_id, "NewPass2026", actor=zhang, old_password="wrong")
    users.set_password(zhang.user_id, "NewPass2026", actor=zhang, old_password=PASSWORD)
    users.set_password(zhang.user_id, "Reset2026ab", actor=admin)
    assert users.authenticate("zhang", "Reset2026ab", "10.0.0.1").user_id == zhang.user_id
    with pytest.raises(Forbidden):
        users.create_user("li", PASSWORD, Role.analyst, "李", actor=zhang)
    log = users.admin_log(admin)
    assert [(r["action"], r["target"]) for r in log][:4] == [
        ("set_password", "zhang"), ("set_password", "zhang"), ("activate", "zhang"), ("deactivate", "zhang")]
    assert log[0]["actor"] == "管理员"
    with pytest.raises(Forbidden):
        users.admin_log(zhang)
    with db.session() as s:
        assert s.query(AdminLogRow).count() == 6


def test_demo_users_are_idempotent(db):
    first = ensure_demo_users(db, ["H001", "H002", "H003"], hasher=FAST_HASHER)
    names = [u for u, _, _ in first]
    assert names == ["admin", "leader", "analyst", "reviewer", "reviewer2", "inst1", "inst2"]
    assert {u: label for u, _, label in first}["inst2"] == "定点机构（H002）"
    assert ensure_demo_users(db, ["H001", "H002"], hasher=FAST_HASHER) == first
    users = UserService(db, hasher=FAST_HASHER)
    password = {u: pw for u, pw, _ in first}["inst1"]
    inst1 = users.authenticate("inst1", password, "127.0.0.1")
    assert (inst1.role, inst1.fixmedins_code) == (Role.institution, "H001")
    users.set_password(inst1.user_id, "Changed2026x")
    again = {u: pw for u, pw, _ in ensure_demo_users(db, ["H001", "H002"], hasher=FAST_HASHER)}
    assert again["inst1"] == "（密码已修改）" and again["admin"] == first[0][1]
    assert len(users.list_users()) == 7
