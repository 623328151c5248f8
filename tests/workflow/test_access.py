"""Roles, permissions, institution scope and masking."""

from __future__ import annotations

import pytest

from fundguard.errors import Forbidden, NotFound
from fundguard.workflow.access import (
    PERMISSIONS,
    ROLE_LABELS,
    Principal,
    Role,
    check_institution,
    institution_scope,
    mask_id,
    mask_name,
    require,
)
from fundguard.workflow.transitions import Action

REQUIRED = ("dashboard.read", "findings.read", "findings.export", "items.assign", "pii.read", "rules.read",
            "rules.quality", "users.manage", "screening.read", "realtime.stats")


def _p(role: Role, code: str | None = None) -> Principal:
    return Principal(1, role.value, role.value, role, code)


def test_permission_table_is_complete():
    for key in REQUIRED:
        assert key in PERMISSIONS
    for action in Action:
        assert f"items.{action.value}" in PERMISSIONS
    assert PERMISSIONS["items.expire"] == frozenset()                 # the system only
    assert set(ROLE_LABELS) == set(Role)


def test_institution_users_hold_only_their_own_views():
    inst = _p(Role.institution, "H001")
    assert inst.is_institution and inst.can("findings.read") and inst.can("items.appeal")
    for key in ("dashboard.read", "findings.export", "pii.read", "screening.read", "users.manage", "items.assign"):
        assert not inst.can(key)
    with pytest.raises(Forbidden) as exc:
        require(inst, "screening.read")
    assert exc.value.code == "FG403" and "定点机构" in exc.value.message
    assert institution_scope(inst) == "H001"
    check_institution(inst, "H001")
    with pytest.raises(NotFound):
        check_institution(inst, "H002")
    # an institution account without a code sees nothing rather than everything
    assert institution_scope(_p(Role.institution)) not in (None, "")
    with pytest.raises(NotFound):
        check_institution(_p(Role.institution), None)


def test_staff_scope_and_admin_duties():
    for role in (Role.admin, Role.leader, Role.analyst, Role.reviewer):
        assert institution_scope(_p(role)) is None
        check_institution(_p(role), "H999")
    admin = _p(Role.admin)
    assert admin.can("users.manage") and not admin.can("pii.read") and not admin.can("items.first_confirm")
    with pytest.raises(KeyError):
        require(admin, "no.such.permission")


def test_masking():
    assert mask_name("张三丰") == "张*丰" and mask_name("李四") == "李*" and mask_name("欧阳娜娜") == "欧**娜"
    assert mask_name("") == "" and mask_name(None) == "" and mask_name("王") == "*"
    assert mask_id("110101199003071234") == "110101********1234"
    assert mask_id("P0001") == "P***1" and mask_id("") == "" and mask_id("AB") == "**"
