"""Sessions, API tokens, CSRF on forms and on the browser's JSON calls, login throttling."""

import re

import pytest
from fastapi.testclient import TestClient

from tests.web.env import PASSWORD, login


def test_cookie_session_needs_csrf_header_for_writes(env, anon):
    login(anon, "reviewer")
    body = {"jr_ids": [env.items["b_pending"]], "assignee_id": None}
    r = anon.post("/api/v1/items/assign", json=body)
    assert r.status_code == 403 and r.json()["code"] == "FG481"
    r = anon.post("/api/v1/items/assign", json=body, headers={"X-CSRF-Token": "wrong"})
    assert r.status_code == 403 and r.json()["code"] == "FG481"
    token = re.search(r'name="csrf-token" content="([^"]+)"', anon.get("/rules").text).group(1)
    r = anon.post("/api/v1/items/assign", json=body, headers={"X-CSRF-Token": token})
    assert r.status_code == 200, r.text


def test_bearer_token_needs_no_csrf_and_forged_tokens_fail(env):
    client = TestClient(env.app, raise_server_exceptions=False)
    r = client.post("/api/v1/auth/login", json={"username": "analyst", "password": PASSWORD})
    assert r.status_code == 200
    data = r.json()
    assert data["user"]["role"] == "analyst" and "findings.read" in data["user"]["permissions"]
    bare = TestClient(env.app, raise_server_exceptions=False)  # no cookie: only the token
    headers = {"Authorization": f"Bearer {data['token']}"}
    assert bare.get("/api/v1/auth/me", headers=headers).json()["username"] == "analyst"
    r = bare.post("/api/v1/items/assign", json={"jr_ids": [env.items["b_pending"]], "assignee_id": None},
                  headers=headers)
    assert r.status_code == 200
    tampered = data["token"][:-2] + ("AA" if not data["token"].endswith("AA") else "BB")
    assert bare.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {tampered}"}).status_code == 401


def test_page_forms_need_the_csrf_field(env, anon):
    login(anon, "analyst")
    r = anon.post("/findings/assign", data={"jr_ids": env.items["b_pending"], "assignee_id": "1"},
                  headers={"Accept": "text/html"})
    assert r.status_code == 403 and "CSRF" in r.text
    r = anon.post("/logout", headers={"Accept": "text/html"})
    assert r.status_code == 403


def test_login_form_itself_is_csrf_protected(anon):
    r = anon.post("/login", data={"username": "analyst", "password": PASSWORD}, follow_redirects=False)
    assert r.status_code == 403


def test_session_cookie_flags_and_logout(anon):
    login(anon, "leader")
    cookie = next(c for c in anon.cookies.jar if c.name == "fg_session")
    assert cookie.has_nonstandard_attr("HttpOnly") or "httponly" in str(cookie._rest).lower()
    token = re.search(r'name="csrf-token" content="([^"]+)"', anon.get("/rules").text).group(1)
    assert anon.post("/logout", data={"csrf_token": token}, follow_redirects=False).status_code == 303
    assert anon.get("/api/v1/auth/me").status_code == 401


def test_deactivated_user_loses_access_at_once(env, as_user):
    users = env.app.state.users
    temp = users.create_user("temp_reviewer", PASSWORD, "reviewer", "临时审核员")
    c = as_user("temp_reviewer")
    assert c.get("/api/v1/auth/me").status_code == 200
    users.set_active(temp.user_id, False)
    assert c.get("/api/v1/auth/me").status_code == 401


@pytest.fixture
def fresh_app(tmp_path):
    """An app with its own workflow database, so failed logins here never lock the shared accounts."""
    from fundguard.api.app import create_app
    from fundguard.config import Settings

    settings = Settings(data_dir=tmp_path, workflow_db_url=f"sqlite:///{(tmp_path / 'wf.db').as_posix()}",
                        secret_key="x" * 40, login_max_failures=3, login_window_minutes=15, login_lock_minutes=15)
    app = create_app(settings, db_path=tmp_path / "empty.duckdb")
    app.state.users.create_user("victim", PASSWORD, "analyst", "被试账号")
    yield app
    app.state.con.close()
    app.state.wf.dispose()


def test_login_throttling(fresh_app):
    c = TestClient(fresh_app, raise_server_exceptions=False)
    for _ in range(3):
        r = c.post("/api/v1/auth/login", json={"username": "victim", "password": "wrong-1"})
        assert r.status_code == 401 and r.json()["code"] == "FG401"
    r = c.post("/api/v1/auth/login", json={"username": "victim", "password": PASSWORD})
    assert r.status_code == 429 and r.json()["code"] == "FG429"
    assert "Retry-After" in r.headers or r.json()["message"]
    # the page says so in Chinese, too
    page = c.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    r = c.post("/login", data={"username": "victim", "password": PASSWORD, "csrf_token": token})
    assert r.status_code == 429 and "登录" in r.text
