"""Roles, permissions and institution scope. Authorisation lives here and in the services, never in templates."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from fundguard.errors import Forbidden, NotFound


class Role(StrEnum):
    admin = "admin"
    leader = "leader"
    analyst = "analyst"
    reviewer = "reviewer"
    institution = "institution"


ROLE_LABELS: dict[Role, str] = {
    Role.admin: "管理员",
    Role.leader: "局领导",
    Role.analyst: "监管科/稽查",
    Role.reviewer: "经办审核（初审/复审）",
    Role.institution: "定点机构",
}

STAFF: frozenset[Role] = frozenset({Role.admin, Role.leader, Role.analyst, Role.reviewer})
_CASEWORK: frozenset[Role] = frozenset({Role.leader, Role.analyst, Role.reviewer})
_ALL: frozenset[Role] = frozenset(Role)


def _roles(*roles: Role) -> frozenset[Role]:
    return frozenset(roles)


# Permission -> roles holding it. The per-action permissions (items.<action>) are added from the transition
# table in fundguard.workflow.transitions, so the two never disagree.
PERMISSIONS: dict[str, frozenset[Role]] = {
    "dashboard.read": STAFF,
    "findings.read": _ALL,                         # institution users: only their own pushed items (scope)
    "findings.export": _CASEWORK,
    "items.assign": _CASEWORK,
    "items.note": _CASEWORK | {Role.institution},  # 补充说明/材料 (scope and state rules in the service)
    "pii.read": _CASEWORK,                         # unmasked names and ID numbers
    "rules.read": _ALL,
    "rules.quality": STAFF,
    "users.manage": _roles(Role.admin),
    "calendar.manage": _roles(Role.admin),
    "audit.read": _roles(Role.admin, Role.leader),  # account administration log
    "screening.read": _CASEWORK,
    "realtime.stats": STAFF,
    "items.expire_overdue": _roles(Role.admin, Role.leader),  # may run expire_overdue by hand
}

PERMISSION_LABELS: dict[str, str] = {
    "dashboard.read": "查看总览",
    "findings.read": "查看疑点",
    "findings.export": "导出疑点",
    "items.assign": "分派疑点",
    "items.note": "补充说明和材料",
    "pii.read": "查看未脱敏的个人信息",
    "rules.read": "查看规则",
    "rules.quality": "查看规则质量",
    "users.manage": "管理账号",
    "calendar.manage": "维护节假日",
    "audit.read": "查看账号管理日志",
    "screening.read": "查看大数据筛查",
    "realtime.stats": "查看事前事中审核统计",
    "items.expire_overdue": "执行逾期处理",
}


@dataclass(frozen=True)
class Principal:
    """Who is acting: built from the database on every request, never from client input."""

    user_id: int
    username: str
    display_name: str
    role: Role
    fixmedins_code: str | None = None

    @property
    def is_institution(self) -> bool:
        return self.role == Role.institution

    @property
    def role_label(self) -> str:
        return ROLE_LABELS[self.role]

    def can(self, permission: str) -> bool:
        return self.role in PERMISSIONS.get(permission, frozenset())


def require(principal: Principal, permission: str) -> None:
    if permission not in PERMISSIONS:
        raise KeyError(f"unknown permission {permission!r}")
    if not principal.can(permission):
        what = PERMISSION_LABELS.get(permission, permission)
        raise Forbidden(f"当前角色（{principal.role_label}）无权{what}")


def institution_scope(principal: Principal) -> str | None:
    """None: every institution is visible; otherwise the one fixmedins_code this user may see."""
    if principal.is_institution:
        # An institution account without a code sees nothing: an impossible code, never "everything".
        return principal.fixmedins_code or "\x00"
    return None


def check_institution(principal: Principal, fixmedins_code: str | None) -> None:
    scope = institution_scope(principal)
    if scope is not None and fixmedins_code != scope:
        raise NotFound("未找到该记录")


def mask_name(name: str | None) -> str:
    """张三丰 -> 张*丰, 李四 -> 李*; empty stays empty."""
    if not name:
        return ""
    name = name.strip()
    if len(name) <= 1:
        return "*"
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def mask_id(certno: str | None) -> str:
    """110101199003071234 -> 110101********1234 (ID cards); short numbers keep only the first and last character."""
    if not certno:
        return ""
    certno = certno.strip()
    if len(certno) >= 15:
        return certno[:6] + "*" * (len(certno) - 10) + certno[-4:]
    if len(certno) <= 2:
        return "*" * len(certno)
    return certno[0] + "*" * (len(certno) - 2) + certno[-1]
