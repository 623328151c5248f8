"""Authorisation matrix: every role against every JSON endpoint, written out by hand (not derived from the
permission table it checks), plus an institution user reaching for another institution's data by every route."""

import io

import openpyxl
import pytest

ANON, ADMIN, LEADER, ANALYST, REVIEWER, INST = "anon", "admin", "leader", "analyst", "reviewer", "inst_a"
ROLES = (ANON, ADMIN, LEADER, ANALYST, REVIEWER, INST)


def _expect(default: int, **per_role: int) -> dict[str, int]:
    out = {role: default for role in ROLES}
    out[ANON] = 401
    out.update(per_role)
    return out


# (name, method, path template, JSON body or None, expected status per role)
# Writes use an item already pushed to institution A, so no call in this table changes any state: a role that
# may take the action meets an undeclared move (409 inside a 200 bulk result, or 409 for one item).
MATRIX = [
    ("me", "GET", "/api/v1/auth/me", None, _expect(200)),
    ("list", "GET", "/api/v1/items", None, _expect(200)),
    ("detail own", "GET", "/api/v1/items/{a_pushed}", None, _expect(200)),
    ("evidence own", "GET", "/api/v1/items/{a_pushed}/evidence", None, _expect(200)),
    ("history own", "GET", "/api/v1/items/{a_pushed}/history", None, _expect(200)),
    ("attachments own", "GET", "/api/v1/items/{a_pushed}/attachments", None, _expect(200)),
    ("detail other", "GET", "/api/v1/items/{b_pushed}", None, _expect(200, inst_a=404)),
    ("evidence other", "GET", "/api/v1/items/{b_pushed}/evidence", None, _expect(200, inst_a=404)),
    ("history other", "GET", "/api/v1/items/{b_pushed}/history", None, _expect(200, inst_a=404)),
    ("attachments other", "GET", "/api/v1/items/{b_pushed}/attachments", None, _expect(200, inst_a=404)),
    ("attachment file other", "GET", "/api/v1/attachments/{attachment_b}", None, _expect(200, inst_a=404)),
    ("not yet pushed", "GET", "/api/v1/items/{b_pending}", None, _expect(200, inst_a=404)),
    ("export", "GET", "/api/v1/items/export.xlsx", None, _expect(200, admin=403, inst_a=403)),
    ("dashboard", "GET", "/api/v1/dashboard", None, _expect(200, inst_a=403)),
    ("overdue", "GET", "/api/v1/overdue", None, _expect(200)),
    ("institution own", "GET", "/api/v1/profiles/institutions/{code_a}", None, _expect(200)),
    ("institution other", "GET", "/api/v1/profiles/institutions/{code_b}", None, _expect(200, inst_a=404)),
    ("person own", "GET", "/api/v1/profiles/persons/{person_a_only}", None, _expect(200)),
    ("person other", "GET", "/api/v1/profiles/persons/{person_b_only}", None, _expect(200, inst_a=404)),
    ("rules", "GET", "/api/v1/rules", None, _expect(200)),
    ("rule", "GET", "/api/v1/rules/GZ10000301004000", None, _expect(200)),
    ("rule quality", "GET", "/api/v1/rules/quality", None, _expect(200, inst_a=403)),
    ("staff", "GET", "/api/v1/staff", None, _expect(200, admin=403, inst_a=403)),
    ("bulk confirm", "POST", "/api/v1/items/transitions",
     {"jr_ids": ["{a_pushed}"], "action": "first_confirm"}, _expect(200, admin=403, leader=403, inst_a=403)),
    ("bulk appeal", "POST", "/api/v1/items/transitions",
     {"jr_ids": ["{b_pushed}"], "action": "appeal", "reason": "x"}, _expect(403, inst_a=200)),
    ("decide", "POST", "/api/v1/items/transitions",
     {"jr_ids": ["{a_pushed}"], "action": "confirm_violation", "reason": "x", "penalty": {"basis": "agreement"}},
     _expect(403, leader=200, analyst=200)),
    ("assign", "POST", "/api/v1/items/assign", {"jr_ids": ["{b_pending}"], "assignee_id": None},
     _expect(200, admin=403, inst_a=403)),
]


def _fill(value, env):
    names = {**env.items, "attachment_b": env.attachment_b, "code_a": env.code_a, "code_b": env.code_b,
             "person_a_only": env.person_a_only, "person_b_only": env.person_b_only}
    if isinstance(value, str):
        return value.format(**names)
    if isinstance(value, list):
        return [_fill(v, env) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, env) for k, v in value.items()}
    return value


@pytest.fixture(scope="module")
def clients(env, request):
    from tests.api.conftest import _client
    from tests.web.env import login

    out = {ANON: _client(env)}
    for role in ROLES[1:]:
        client = _client(env)
        client.headers["X-CSRF-Token"] = login(client, role)
        out[role] = client
    return out


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name,method,path,body,expected", MATRIX, ids=[m[0] for m in MATRIX])
def test_matrix(env, clients, role, name, method, path, body, expected):
    response = clients[role].request(method, _fill(path, env), json=_fill(body, env))
    assert response.status_code == expected[role], (role, name, response.text[:300])
    if response.status_code >= 400:
        payload = response.json()
        assert set(payload) == {"code", "message", "detail"} and payload["code"].startswith("FG")
        assert env.items["b_pushed"] not in response.text and env.code_b not in response.text


def test_bulk_results_refuse_undeclared_moves_without_changing_state(env, clients):
    before = clients[ANALYST].get(f"/api/v1/items/{env.items['a_pushed']}").json()["state"]
    [result] = clients[ANALYST].post("/api/v1/items/transitions",
                                     json={"jr_ids": [env.items["a_pushed"]], "action": "first_confirm"}).json()
    assert (result["ok"], result["code"]) == (False, "FG409")
    assert clients[ANALYST].get(f"/api/v1/items/{env.items['a_pushed']}").json()["state"] == before == "pushed"


def test_institution_sees_only_its_pushed_items(env, clients):
    page = clients[INST].get("/api/v1/items", params={"state": "all", "page_size": 500}).json()
    assert page["total"] >= 1
    assert {i["fixmedins_code"] for i in page["items"]} == {env.code_a}
    assert {i["state"] for i in page["items"]} <= {"pushed", "appealed", "acknowledged", "investigating",
                                                   "violation", "not_confirmed"}
    other = clients[INST].get("/api/v1/items", params={"fixmedins_code": env.code_b, "state": "all"}).json()
    assert other["total"] == 0 and other["items"] == []
    searched = clients[INST].get("/api/v1/items", params={"q": env.items["b_pushed"], "state": "all"}).json()
    assert searched["total"] == 0


def test_institution_reaches_other_institution_by_every_route(env, clients):
    """Every route that names another institution's item, person, file or code: 404/403, never data."""
    b_item, att = env.items["b_pushed"], env.attachment_b
    c = clients[INST]
    probes = [
        ("GET", f"/api/v1/items/{b_item}", None, 404),
        ("GET", f"/api/v1/items/{b_item}/evidence", None, 404),
        ("GET", f"/api/v1/items/{b_item}/history", None, 404),
        ("GET", f"/api/v1/items/{b_item}/attachments", None, 404),
        ("GET", f"/api/v1/attachments/{att}", None, 404),
        ("GET", f"/api/v1/profiles/institutions/{env.code_b}", None, 404),
        ("GET", f"/api/v1/profiles/persons/{env.person_b_only}", None, 404),
        ("GET", "/api/v1/dashboard", None, 403),
        ("GET", "/api/v1/items/export.xlsx", None, 403),
    ]
    for method, path, body, status in probes:
        r = c.request(method, path, json=body)
        assert r.status_code == status, (path, r.text[:200])
        assert b_item not in r.text and "医嘱单" not in r.text and env.person_b_only not in r.text
    single = c.post(f"/api/v1/items/{b_item}/transitions", data={"action": "appeal", "reason": "越权"},
                    files=[("files", ("a.pdf", b"%PDF", "application/pdf"))])
    assert single.status_code == 404 and single.json()["code"] == "FG404"
    note = c.post(f"/api/v1/items/{b_item}/notes", data={"text": "越权补充"})
    assert note.status_code == 404 and note.json()["code"] == "FG404"
    [bulk] = c.post("/api/v1/items/transitions", json={"jr_ids": [b_item], "action": "appeal", "reason": "x"}).json()
    assert bulk["ok"] is False and bulk["code"] == "FG404"
    # pages too
    for path in (f"/findings/{b_item}", f"/attachments/{att}", f"/institutions/{env.code_b}",
                 f"/persons/{env.person_b_only}"):
        r = c.get(path, headers={"Accept": "text/html"})
        assert r.status_code == 404, path
        assert "医嘱单" not in r.text and "%PDF" not in r.text


def test_person_profile_of_institution_user_shows_only_its_own_encounters(env, clients):
    prof = clients[INST].get(f"/api/v1/profiles/persons/{env.person_a_only}").json()
    assert {e["fixmedins_code"] for e in prof["encounters"]} == {env.code_a}
    assert prof["risk"] is None  # screening results are for the bureau's staff


def test_staff_export_contains_only_the_filtered_rows(env, clients):
    r = clients[ANALYST].get("/api/v1/items/export.xlsx", params={"fixmedins_code": env.code_a, "state": "all"})
    assert r.status_code == 200
    ws = openpyxl.load_workbook(io.BytesIO(r.content))["疑点清单"]
    header = [c.value for c in ws[1]]
    codes = {row[header.index("定点机构编码")] for row in ws.iter_rows(min_row=2, values_only=True)}
    assert codes == {env.code_a}
    assert "filename*=UTF-8''" in r.headers["content-disposition"]
