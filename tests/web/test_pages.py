"""Pages render for every role, show only what the role may use, and fail in Chinese where it may not."""

import re

import pytest

HTML = {"Accept": "text/html"}


def _pages(env):
    return {
        "/": "监管总览", "/findings": "疑点清单", "/overdue": "逾期督办", "/rules": "规则目录",
        "/rules/quality": "规则质量", "/rules/GZ10000301004000": "药品区分性别使用", "/users": "账号管理",
        f"/findings/{env.items['a_pushed']}": "规则与依据", f"/institutions/{env.code_a}": "机构画像",
        f"/persons/{env.person_a_only}": "参保人画像",
    }


# status per page and role, where it is not 200
EXCEPTIONS = {
    ("/", "inst_a"): 303,
    ("/rules/quality", "inst_a"): 403,
    ("/users", "leader"): 403, ("/users", "analyst"): 403, ("/users", "reviewer"): 403, ("/users", "inst_a"): 403,
}


@pytest.mark.parametrize("role", ["admin", "leader", "analyst", "reviewer", "inst_a"])
def test_every_page_for_every_role(env, as_user, role):
    client = as_user(role)
    for path, heading in _pages(env).items():
        r = client.get(path, headers=HTML, follow_redirects=False)
        expected = EXCEPTIONS.get((path, role), 200)
        assert r.status_code == expected, (role, path, r.text[:300])
        if expected != 303:
            assert r.headers["content-type"].startswith("text/html")
        if expected == 200:
            assert heading in r.text, (role, path)
            assert "Content-Security-Policy" in r.headers
            assert not re.search(r'(src|href)="(https?:)?//', r.text), "pages must work offline"
        elif expected == 403:
            assert "无权" in r.text and "FG403" in r.text


def test_anonymous_is_sent_to_login(anon):
    r = anon.get("/findings?sev_deg=1", headers=HTML, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/findings%3Fsev_deg%3D1"
    page = anon.get("/login")
    assert page.status_code == 200 and "医保基金智能监管系统" in page.text and "csrf_token" in page.text


def test_login_redirects_only_to_local_pages(anon):
    from tests.web.env import PASSWORD

    page = anon.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    r = anon.post("/login", data={"username": "analyst", "password": PASSWORD, "csrf_token": token,
                                  "next": "https://evil.example/"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/"
    wrong = anon.post("/login", data={"username": "analyst", "password": "nope", "csrf_token": token})
    assert wrong.status_code in (200, 401, 403)


def test_navigation_follows_the_role(as_user):
    inst = as_user("inst_a").get("/findings").text
    nav = re.search(r'<nav class="mainnav">(.*?)</nav>', inst, re.DOTALL).group(1)
    assert "疑点清单" in nav and "监管总览" not in nav and "规则质量" not in nav and "账号管理" not in nav
    assert "导出 Excel" not in inst and "分派" not in inst
    analyst = as_user("analyst").get("/findings").text
    assert "导出 Excel" in analyst and "批量执行" in analyst


def test_finding_page_shows_the_evidence_and_masks_for_institutions(env, as_user):
    path = f"/findings/{env.items['a_pushed']}"
    staff = as_user("analyst").get(path).text
    for part in ("违规内容", "参保人", "规则与依据", "法律依据", "处理记录", "推送机构"):
        assert part in staff, part
    inst = as_user("inst_a").get(path).text
    assert "个人信息已脱敏" in inst and "提出申诉" in inst and "初审确认" not in inst
    assert "确认违规并扣款/追回" not in inst


def test_findings_filter_sort_and_paging(env, as_user):
    client = as_user("analyst")
    r = client.get("/findings", params={"fixmedins_code": env.code_b, "state": "all", "page_size": 200})
    assert r.status_code == 200
    assert env.items["b_pushed"] in r.text and env.items["a_pushed"] not in r.text
    amounts = [float(a.replace(",", "")) for a in re.findall(r'<td class="num"><strong>([\d,.]+)</strong>',
                                                              client.get("/findings", params={"sort": "-vola_amt"}).text)]
    assert amounts == sorted(amounts, reverse=True) and len(amounts) == 50
    page2 = client.get("/findings", params={"page": 2})
    assert '<span class="current">2</span>' in page2.text
    bad = client.get("/findings", params={"min_amt": "abc"}, headers=HTML)
    assert bad.status_code == 422 and "最低金额" in bad.text


def test_actions_through_page_forms(env, as_user):
    from tests.web.env import csrf_of

    client = as_user("reviewer")
    jr_id = env.free_a[5]
    token = csrf_of(client)
    r = client.post(f"/findings/{jr_id}/action", data={"action": "first_confirm", "csrf_token": token},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/findings/{jr_id}?done=first_confirm"
    assert "已完成：初审确认" in client.get(r.headers["location"]).text
    again = client.post(f"/findings/{jr_id}/action", data={"action": "first_confirm", "csrf_token": token},
                        headers=HTML)
    assert again.status_code == 409 and "flash err" in again.text
    bulk = client.post("/findings/bulk", data={"jr_ids": [env.free_a[6], env.free_a[7]], "action": "first_dismiss",
                                               "reason": "重复疑点", "csrf_token": token})
    assert bulk.status_code == 200 and bulk.text.count("成功</span>") == 2


def test_screening_results_on_dashboard_and_profiles(env, as_user):
    leader = as_user("leader")
    board = leader.get("/").text
    assert "机构风险排名" in board and "风险等级" in board and "尚未运行" not in board.split("机构风险排名")[1]
    profile = leader.get(f"/institutions/{env.code_a}").text
    assert "风险分" in profile and "指标与同类水位" in profile
    own = as_user("inst_a").get(f"/institutions/{env.code_a}").text
    assert "当前角色无权查看筛查结果" in own and "指标与同类水位" not in own


def test_xlsx_export_from_the_page(env, as_user):
    r = as_user("leader").get("/findings/export.xlsx", params={"sev_deg": "1"})
    assert r.status_code == 200 and r.content[:2] == b"PK"
    assert as_user("inst_a").get("/findings/export.xlsx", headers=HTML).status_code == 403


def test_admin_manages_accounts(as_user):
    from tests.web.env import csrf_of

    admin = as_user("admin")
    token = csrf_of(admin)
    r = admin.post("/users", data={"username": "new_analyst", "display_name": "新稽查员", "role": "analyst",
                                   "password": "Abcdefg123", "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/users?done=created"
    page = admin.get(r.headers["location"]).text
    assert "已创建账号" in page and "新稽查员" in page
    weak = admin.post("/users", data={"username": "weak", "display_name": "弱", "role": "analyst",
                                      "password": "123", "csrf_token": token})
    assert weak.status_code == 422 and "密码" in weak.text


def test_pages_say_when_chart_assets_are_missing(as_user, monkeypatch):
    from fundguard.web import render

    monkeypatch.setattr(render, "vendor_ready", lambda: False)
    page = as_user("leader").get("/").text
    assert "图表组件未安装" in page and "echarts.min.js" not in page
    assert "按月明细" in page  # the figures are still there, as tables


def test_static_files_and_security_headers(anon):
    css = anon.get("/static/css/app.css")
    assert css.status_code == 200 and "--blue" in css.text
    page = anon.get("/login")
    assert page.headers["X-Frame-Options"] == "DENY" and "script-src 'self'" in page.headers[
        "Content-Security-Policy"]
    assert "<script>" not in page.text  # no inline scripts (CSP)
    docs = anon.get("/api/docs")
    assert docs.status_code == 200 and "/static/vendor/swagger-ui/swagger-ui-bundle.js" in docs.text
    assert not re.search(r'(src|href)="https?://', docs.text), "the API docs must work offline"
