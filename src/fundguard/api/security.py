"""Sessions, API tokens, CSRF and the current principal.

- Browser: a signed, HttpOnly, SameSite=Lax cookie ``fg_session`` holding the user id and a CSRF token.
  Every state-changing request authenticated by that cookie must carry the token: as the form field
  ``csrf_token`` (pages) or the header ``X-CSRF-Token`` (JSON calls from the browser's own scripts).
- Other clients: ``POST /api/v1/auth/login`` returns a bearer token (``Authorization: Bearer …``); a
  request authenticated that way carries no ambient credential, so no CSRF token is needed.
- Passwords, throttling and the user's current role and activity belong to ``UserService``: the principal
  is looked up again on every request, so a deactivated user loses access at once.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

from fundguard.errors import CsrfRejected, NotAuthenticated

SESSION_COOKIE = "fg_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def load_secret(settings) -> str:
    """The signing key: ``Settings.secret_key`` when set, else the random key kept in the data directory."""
    return settings.get_secret_key()


@dataclass
class Session:
    user_id: int | None
    csrf: str


class SessionCodec:
    def __init__(self, secret: str, max_age_s: int, secure: bool = False):
        self._cookie = URLSafeTimedSerializer(secret, salt="fundguard-session")
        self._token = URLSafeTimedSerializer(secret, salt="fundguard-api-token")
        self.max_age_s = max_age_s
        self.secure = secure

    def read_cookie(self, request: Request) -> Session | None:
        raw = request.cookies.get(SESSION_COOKIE)
        if not raw:
            return None
        try:
            data = self._cookie.loads(raw, max_age=self.max_age_s)
        except BadSignature:  # also expired (SignatureExpired is a subclass)
            return None
        return Session(user_id=data.get("uid"), csrf=str(data.get("csrf") or ""))

    def write_cookie(self, response: Response, session: Session) -> None:
        value = self._cookie.dumps({"uid": session.user_id, "csrf": session.csrf})
        response.set_cookie(SESSION_COOKIE, value, max_age=self.max_age_s, httponly=True, samesite="lax",
                            secure=self.secure, path="/")

    @staticmethod
    def clear_cookie(response: Response) -> None:
        response.delete_cookie(SESSION_COOKIE, path="/")

    def issue_token(self, user_id: int) -> str:
        return self._token.dumps({"uid": user_id})

    def read_token(self, token: str) -> int | None:
        try:
            return int(self._token.loads(token, max_age=self.max_age_s)["uid"])
        except (BadSignature, KeyError, TypeError, ValueError):
            return None


def new_session(user_id: int | None = None) -> Session:
    return Session(user_id=user_id, csrf=secrets.token_urlsafe(32))


def codec(request: Request) -> SessionCodec:
    return request.app.state.sessions


def session_of(request: Request) -> Session | None:
    """The browser session (cached on the request); None without a valid cookie."""
    if not hasattr(request.state, "fg_session"):
        request.state.fg_session = codec(request).read_cookie(request)
    return request.state.fg_session


def ensure_session(request: Request, response: Response) -> Session:
    """An (anonymous) session with a CSRF token, so the login form itself is protected."""
    session = session_of(request)
    if session is None or not session.csrf:
        session = new_session()
        codec(request).write_cookie(response, session)
        request.state.fg_session = session
    return session


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def principal_or_none(request: Request):
    """The signed-in principal (token first, then cookie), or None. Sets ``request.state.auth``."""
    if hasattr(request.state, "principal"):
        return request.state.principal
    users = request.app.state.users
    principal, auth = None, None
    token = _bearer(request)
    if token:
        user_id = codec(request).read_token(token)
        principal = users.get_principal(user_id) if user_id is not None else None
        auth = "token" if principal else None
        if principal is None:
            raise NotAuthenticated("访问令牌无效或已过期，请重新登录")
    else:
        session = session_of(request)
        if session and session.user_id is not None:
            principal = users.get_principal(session.user_id)
            auth = "cookie" if principal else None
    request.state.principal = principal
    request.state.auth = auth
    return principal


def current_principal(request: Request):
    principal = principal_or_none(request)
    if principal is None:
        raise NotAuthenticated("请先登录")
    return principal


def check_csrf(request: Request, submitted: str | None) -> None:
    """Raise CsrfRejected unless ``submitted`` matches the cookie session's token (bearer calls are exempt)."""
    if request.method in SAFE_METHODS or getattr(request.state, "auth", None) == "token":
        return
    session = session_of(request)
    if not session or not session.csrf or not submitted or not hmac.compare_digest(session.csrf, submitted):
        raise CsrfRejected("页面已过期或请求来源不可信（CSRF 校验失败），请刷新页面后重试")


async def csrf_api(request: Request) -> None:
    """Dependency for JSON routes: state-changing cookie-authenticated calls need the X-CSRF-Token header.
    Without any credential the call fails as unauthenticated (401) first."""
    current_principal(request)
    check_csrf(request, request.headers.get(CSRF_HEADER))


async def csrf_form(request: Request) -> None:
    """Dependency for page forms: the ``csrf_token`` field (or the header, for scripts) must match."""
    principal_or_none(request)
    submitted = request.headers.get(CSRF_HEADER)
    if not submitted and request.method not in SAFE_METHODS:
        form = await request.form()
        value: Any = form.get(CSRF_FIELD)
        submitted = value if isinstance(value, str) else None
    check_csrf(request, submitted)


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


CurrentPrincipal = Annotated[Any, Depends(current_principal)]
