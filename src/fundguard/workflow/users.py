"""Accounts: argon2id password hashes, login throttling per username and per address, account administration."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import re
from collections.abc import Callable

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import func, select

from fundguard.errors import AuthFailed, LoginThrottled, NotFound, ValidationFailed
from fundguard.workflow.access import ROLE_LABELS, Principal, Role, require
from fundguard.workflow.db import WorkflowDB
from fundguard.workflow.models import AdminLogRow, LoginAttempt, User

_USERNAME = re.compile(r"^[A-Za-z0-9_.\-]{3,64}$")
SYSTEM_NAME = "系统"


def default_hasher() -> PasswordHasher:
    """argon2id with the library's current recommended parameters (RFC 9106 low-memory profile)."""
    return PasswordHasher()


def _principal(user: User) -> Principal:
    return Principal(user_id=user.id, username=user.username, display_name=user.display_name,
                     role=Role(user.role), fixmedins_code=user.fixmedins_code)


def check_password_strength(password: str, username: str = "") -> None:
    if not isinstance(password, str) or len(password) < 8:
        raise ValidationFailed("密码至少 8 位")
    if len(password) > 128:
        raise ValidationFailed("密码不能超过 128 位")
    if not (re.search(r"[A-Za-z]", password) and re.search(r"\d", password)):
        raise ValidationFailed("密码须同时包含字母和数字")
    if username and password.lower() == username.lower():
        raise ValidationFailed("密码不能与用户名相同")


class UserService:
    def __init__(self, db: WorkflowDB, clock: Callable[[], dt.datetime] = dt.datetime.now,
                 hasher: PasswordHasher | None = None):
        self.db = db
        self.clock = clock
        self.hasher = hasher or default_hasher()
        self._dummy_hash: str | None = None

    # --- accounts -------------------------------------------------------------------------------------------

    def create_user(self, username: str, password: str, role: Role | str, display_name: str,
                    fixmedins_code: str | None = None, *, actor: Principal | None = None) -> Principal:
        if actor is not None:
            require(actor, "users.manage")
        username = (username or "").strip()
        if not _USERNAME.match(username):
            raise ValidationFailed("用户名须为 3–64 位字母、数字、下划线、点或减号")
        try:
            role = Role(role)
        except ValueError:
            raise ValidationFailed(f"未知的角色：{role}") from None
        display_name = (display_name or "").strip()
        if not display_name or len(display_name) > 100:
            raise ValidationFailed("姓名不能为空且不超过 100 字")
        fixmedins_code = (fixmedins_code or "").strip() or None
        if role == Role.institution and not fixmedins_code:
            raise ValidationFailed("定点机构账号必须绑定一个定点医药机构编号")
        if role != Role.institution and fixmedins_code:
            raise ValidationFailed("只有定点机构账号可以绑定机构编号")
        check_password_strength(password, username)
        now = self.clock()
        with self.db.session() as s:
            exists = s.scalar(select(User.id).where(func.lower(User.username) == username.lower()))
            if exists:
                raise ValidationFailed(f"用户名 {username} 已存在")
            user = User(username=username, display_name=display_name, role=role.value,
                        fixmedins_code=fixmedins_code, password_hash=self.hasher.hash(password), active=True,
                        created_at=now, password_changed_at=now)
            s.add(user)
            s.flush()
            self._admin_log(s, actor, "create_user", username,
                            f"角色：{ROLE_LABELS[role]}" + (f"；机构：{fixmedins_code}" if fixmedins_code else ""))
            return _principal(user)

    def get_principal(self, user_id: int) -> Principal | None:
        """The current principal of an active account (None when absent or deactivated)."""
        with self.db.session() as s:
            user = s.get(User, user_id)
            if user is None or not user.active:
                return None
            return _principal(user)

    def get_by_username(self, username: str) -> Principal | None:
        with self.db.session() as s:
            user = s.scalar(select(User).where(func.lower(User.username) == (username or "").strip().lower()))
            return _principal(user) if user is not None and user.active else None

    def list_users(self, include_inactive: bool = True) -> list[Principal]:
        with self.db.session() as s:
            q = select(User).order_by(User.id)
            if not include_inactive:
                q = q.where(User.active.is_(True))
            return [_principal(u) for u in s.scalars(q)]

    def assignable_users(self) -> list[Principal]:
        """Active agency staff who can be assigned items (not administrators, not institutions)."""
        casework = [Role.leader.value, Role.analyst.value, Role.reviewer.value]
        with self.db.session() as s:
            return [_principal(u) for u in s.scalars(select(User).where(User.active.is_(True),
                                                                        User.role.in_(casework)).order_by(User.id))]

    def user_rows(self) -> list[dict]:
        """Account list for the administration page (no hashes)."""
        with self.db.session() as s:
            return [{"user_id": u.id, "username": u.username, "display_name": u.display_name, "role": u.role,
                     "role_label": ROLE_LABELS[Role(u.role)], "fixmedins_code": u.fixmedins_code,
                     "active": u.active, "created_at": u.created_at, "last_login_at": u.last_login_at}
                    for u in s.scalars(select(User).order_by(User.id))]

    def set_password(self, user_id: int, password: str, *, actor: Principal | None = None,
                     old_password: str | None = None) -> None:
        """Set a password. An administrator (actor with users.manage) resets anyone's; a user changing their
        own password (actor is that user) must give the old one."""
        if actor is not None and actor.user_id != user_id:
            require(actor, "users.manage")
        with self.db.session() as s:
            user = s.get(User, user_id)
            if user is None:
                raise NotFound("账号不存在")
            if actor is not None and actor.user_id == user_id and not self._verify(user.password_hash,
                                                                                      old_password or ""):
                raise ValidationFailed("原密码不正确")
            check_password_strength(password, user.username)
            user.password_hash = self.hasher.hash(password)
            user.password_changed_at = self.clock()
            self._admin_log(s, actor, "set_password", user.username, None)

    def set_active(self, user_id: int, active: bool, *, actor: Principal | None = None) -> None:
        if actor is not None:
            require(actor, "users.manage")
            if actor.user_id == user_id and not active:
                raise ValidationFailed("不能停用自己的账号")
        with self.db.session() as s:
            user = s.get(User, user_id)
            if user is None:
                raise NotFound("账号不存在")
            user.active = bool(active)
            self._admin_log(s, actor, "activate" if active else "deactivate", user.username, None)

    def admin_log(self, principal: Principal, limit: int = 200) -> list[dict]:
        require(principal, "audit.read")
        with self.db.session() as s:
            rows = s.scalars(select(AdminLogRow).order_by(AdminLogRow.id.desc()).limit(limit))
            return [{"at": r.at, "actor": r.actor_name, "action": r.action, "target": r.target, "detail": r.detail}
                    for r in rows]

    # --- login ----------------------------------------------------------------------------------------------

    def authenticate(self, username: str, password: str, client_ip: str) -> Principal:
        """The principal for a correct username and password; ``AuthFailed`` otherwise, ``LoginThrottled`` after
        too many failures for this username or this address within the window."""
        name = (username or "").strip().lower()[:64]
        ip = (client_ip or "-")[:64]
        now = self.clock()
        settings = self.db.settings
        with self.db.session() as s:
            self._check_throttle(s, name, ip, now, settings)
            user = s.scalar(select(User).where(func.lower(User.username) == name)) if name else None
            ok = self._verify(user.password_hash if user is not None else None, password or "")
            s.add(LoginAttempt(at=now, username=name, client_ip=ip, success=bool(ok and user is not None
                                                                                 and user.active)))
            if not ok or user is None:
                failure = AuthFailed("用户名或密码错误")
            elif not user.active:
                failure = AuthFailed("账号已停用，请联系管理员")
            else:
                failure = None
                user.last_login_at = now
                if self.hasher.check_needs_rehash(user.password_hash):
                    user.password_hash = self.hasher.hash(password)
                principal = _principal(user)
        if failure is not None:
            raise failure  # raised after the commit so that the failed attempt is recorded
        return principal

    def _check_throttle(self, s, name: str, ip: str, now: dt.datetime, settings) -> None:
        window_start = now - dt.timedelta(minutes=settings.login_window_minutes)
        lock = dt.timedelta(minutes=settings.login_lock_minutes)
        # Per username: failures since the last success, within the window.
        last_ok = s.scalar(select(func.max(LoginAttempt.at)).where(LoginAttempt.username == name,
                                                                   LoginAttempt.success.is_(True)))
        since = max(window_start, last_ok) if last_ok else window_start
        for column, value, limit, start in (
                (LoginAttempt.username, name, settings.login_max_failures, since),
                (LoginAttempt.client_ip, ip, settings.login_max_failures_per_ip, window_start)):
            count, latest = s.execute(
                select(func.count(), func.max(LoginAttempt.at)).where(
                    column == value, LoginAttempt.success.is_(False), LoginAttempt.at > start)).one()
            if count >= limit and latest is not None and now < latest + lock:
                minutes = max(1, int(((latest + lock) - now).total_seconds() // 60) + 1)
                raise LoginThrottled(f"登录失败次数过多，请 {minutes} 分钟后再试")

    def _verify(self, password_hash: str | None, password: str) -> bool:
        if password_hash is None:
            # Same cost for unknown usernames, so response time does not reveal which accounts exist.
            if self._dummy_hash is None:
                self._dummy_hash = self.hasher.hash("fundguard-dummy-password-0")
            password_hash = self._dummy_hash
            try:
                self.hasher.verify(password_hash, password)
            except (VerificationError, InvalidHashError):
                pass
            return False
        try:
            return self.hasher.verify(password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def _admin_log(self, s, actor: Principal | None, action: str, target: str | None, detail: str | None) -> None:
        s.add(AdminLogRow(at=self.clock(), actor_id=actor.user_id if actor else None,
                          actor_name=actor.display_name if actor else SYSTEM_NAME, action=action, target=target,
                          detail=detail))


# --- demo accounts ---------------------------------------------------------------------------------------------

DEMO_STAFF: tuple[tuple[str, Role, str], ...] = (
    ("admin", Role.admin, "系统管理员"),
    ("leader", Role.leader, "局领导（演示）"),
    ("analyst", Role.analyst, "稽查员（演示）"),
    ("reviewer", Role.reviewer, "经办审核员（演示）"),
    ("reviewer2", Role.reviewer, "经办复审员（演示）"),
)


def demo_password(secret: str, username: str) -> str:
    """A per-installation demo password derived from the secret key: reproducible, never a constant."""
    digest = hmac.new(secret.encode(), f"fundguard-demo:{username}".encode(), hashlib.sha256).digest()
    token = base64.b32encode(digest).decode().lower().rstrip("=")
    return f"Fg{token[:4]}-{token[4:8]}-{token[8:12]}7"


def ensure_demo_users(db: WorkflowDB, fixmedins_codes: list[str],
                      hasher: PasswordHasher | None = None) -> list[tuple[str, str, str]]:
    """Create the demo accounts that are missing (idempotent) and return (username, password, role label).

    One account per role plus a second reviewer (复审 must be another person than 初审), and institution
    accounts ``inst1``/``inst2`` bound to the first two given institutions. Passwords derive from the secret key;
    an account whose password was changed since is listed as such.
    """
    svc = UserService(db, hasher=hasher)
    secret = db.settings.get_secret_key()
    wanted = [(name, role, label, None) for name, role, label in DEMO_STAFF]
    for index, code in enumerate([c for c in fixmedins_codes if c][:2], start=1):
        wanted.append((f"inst{index}", Role.institution, f"定点机构 {code} 医保办（演示）", code))
    out: list[tuple[str, str, str]] = []
    for username, role, display, code in wanted:
        password = demo_password(secret, username)
        with db.session() as s:
            user = s.scalar(select(User).where(User.username == username))
            current_hash = user.password_hash if user is not None else None
        if current_hash is None:
            svc.create_user(username, password, role, display, code)
        elif not svc._verify(current_hash, password):
            password = "（密码已修改）"
        label = ROLE_LABELS[role] + (f"（{code}）" if code else "")
        out.append((username, password, label))
    return out
