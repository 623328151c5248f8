"""Login and logout pages."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from fundguard.api.security import client_ip, codec, csrf_form, ensure_session, new_session, principal_or_none
from fundguard.errors import AuthFailed, LoginThrottled
from fundguard.web.render import render

router = APIRouter()


def _safe_next(value: str | None) -> str:
    """Only local paths: never redirect to another site after login."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/"


def home_for(principal) -> str:
    return "/" if principal.can("dashboard.read") else "/findings"


@router.get("/login")
def login_page(request: Request, next: str | None = None) -> Response:
    principal = principal_or_none(request)
    if principal is not None:
        return RedirectResponse(home_for(principal), status_code=303)
    response = Response()
    ensure_session(request, response)
    page = render(request, "login.html", {"title": "登录", "next_url": _safe_next(next)})
    for key, value in response.headers.items():
        if key.lower() == "set-cookie":
            page.headers.append(key, value)
    return page


@router.post("/login", dependencies=[Depends(csrf_form)])
def login_submit(request: Request, username: str = Form(""), password: str = Form(""),
                 next: str = Form("/")) -> Response:
    users = request.app.state.users
    try:
        principal = users.authenticate(username.strip(), password, client_ip(request))
    except (AuthFailed, LoginThrottled) as exc:
        status = 429 if isinstance(exc, LoginThrottled) else 401
        return render(request, "login.html", {"title": "登录", "error": exc.message, "username": username,
                                              "next_url": _safe_next(next)}, status_code=status)
    target = _safe_next(next)
    response = RedirectResponse(home_for(principal) if target == "/" else target, status_code=303)
    codec(request).write_cookie(response, new_session(principal.user_id))  # new CSRF token at login
    return response


@router.post("/logout", dependencies=[Depends(csrf_form)])
def logout(request: Request) -> Response:
    response = RedirectResponse("/login", status_code=303)
    codec(request).clear_cookie(response)
    return response
