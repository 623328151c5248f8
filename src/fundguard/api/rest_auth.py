"""Login, logout and the current user (JSON API)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field

from fundguard.api.deps import Principal, Users
from fundguard.api.errors import ERROR_RESPONSES
from fundguard.api.security import client_ip, codec, csrf_api, new_session

router = APIRouter(prefix="/auth", tags=["登录"], responses=ERROR_RESPONSES)


class LoginIn(BaseModel):
    username: str = Field(min_length=1, max_length=64, description="用户名")
    password: str = Field(min_length=1, max_length=256, description="密码")


class UserOut(BaseModel):
    user_id: int
    username: str
    display_name: str
    role: str = Field(description="角色代码：admin、leader、analyst、reviewer、institution")
    role_label: str = Field(description="角色中文名")
    fixmedins_code: str | None = Field(None, description="定点机构账号所属机构编码")
    permissions: list[str] = Field(description="当前角色拥有的权限")


class LoginOut(BaseModel):
    token: str = Field(description="访问令牌：其他系统调用时放在 Authorization: Bearer 请求头中")
    csrf_token: str = Field(description="浏览器会话的 CSRF 令牌：用 Cookie 调用写接口时放在 X-CSRF-Token 请求头中")
    user: UserOut


def user_out(principal) -> UserOut:
    from fundguard.workflow.access import PERMISSIONS

    return UserOut(user_id=principal.user_id, username=principal.username, display_name=principal.display_name,
                   role=str(principal.role), role_label=principal.role_label, fixmedins_code=principal.fixmedins_code,
                   permissions=sorted(p for p in PERMISSIONS if principal.can(p)))


@router.post("/login", summary="登录", response_model=LoginOut)
def login(body: LoginIn, request: Request, response: Response, users: Users) -> LoginOut:
    """用户名和密码登录；连续失败过多会被暂时锁定（HTTP 429）。成功后同时设置浏览器会话 Cookie 并返回访问令牌。"""
    principal = users.authenticate(body.username, body.password, client_ip(request))
    session = new_session(principal.user_id)
    codec(request).write_cookie(response, session)
    return LoginOut(token=codec(request).issue_token(principal.user_id), csrf_token=session.csrf,
                    user=user_out(principal))


@router.post("/logout", summary="退出登录", status_code=204, dependencies=[Depends(csrf_api)])
def logout(request: Request, response: Response) -> Response:
    """清除浏览器会话 Cookie（令牌在有效期满后失效）。"""
    codec(request).clear_cookie(response)
    response.status_code = 204
    return response


@router.get("/me", summary="当前用户", response_model=UserOut)
def me(principal: Principal) -> UserOut:
    """当前登录用户的角色、所属机构与权限。"""
    return user_out(principal)
