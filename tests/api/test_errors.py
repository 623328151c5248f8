"""One JSON error envelope for every API error: service errors, validation, unknown routes, wrong methods,
unexpected failures."""

import re

import pytest

CJK = re.compile(r"[\u4e00-\u9fff]")


def _envelope(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.text[:300]
    assert response.headers["content-type"].startswith("application/json")
    payload = response.json()
    assert set(payload) == {"code", "message", "detail"}
    assert re.fullmatch(r"FG\d{3}", payload["code"])
    assert CJK.search(payload["message"]), payload["message"]
    if code:
        assert payload["code"] == code, payload
    return payload


def test_unauthenticated(anon):
    _envelope(anon.get("/api/v1/items"), 401, "FG480")
    _envelope(anon.get("/api/v1/items", headers={"Authorization": "Bearer forged"}), 401, "FG480")


def test_unknown_route_and_wrong_method(as_user):
    c = as_user("analyst")
    _envelope(c.get("/api/v1/no-such-thing"), 404, "FG484")
    _envelope(c.put("/api/v1/items"), 405, "FG485")
    _envelope(c.delete("/api/v1/rules"), 405, "FG485")


def test_validation_errors(as_user):
    c = as_user("analyst")
    payload = _envelope(c.get("/api/v1/items", params={"page_size": 0}), 422, "FG482")
    assert payload["detail"][0]["field"] == "page_size" and payload["detail"][0]["message"]
    _envelope(c.get("/api/v1/items", params={"sev_deg": "abc"}), 422, "FG482")
    _envelope(c.get("/api/v1/items", params={"sort": "password"}), 422, "FG482")
    _envelope(c.get("/api/v1/items", params={"period_from": "2025/01"}), 422, "FG482")
    _envelope(c.post("/api/v1/items/transitions", content=b"{not json", headers={"Content-Type": "application/json"}),
              422, "FG482")
    _envelope(c.post("/api/v1/items/transitions", json={"jr_ids": [], "action": "first_confirm"}), 422, "FG482")
    _envelope(c.post("/api/v1/items/transitions", json={"jr_ids": ["x"], "action": "fly"}), 422, "FG482")


def test_service_errors(env, as_user):
    c = as_user("analyst")
    _envelope(c.get("/api/v1/items/JRNOSUCHITEM"), 404, "FG404")
    _envelope(c.get("/api/v1/rules/GZ99999999999999"), 404, "FG404")
    _envelope(c.post(f"/api/v1/items/{env.items['a_pushed']}/transitions", data={"action": "first_confirm"}),
              409, "FG409")
    _envelope(c.get("/api/v1/users-nope"), 404)
    inst = as_user("inst_a")
    _envelope(inst.get("/api/v1/dashboard"), 403, "FG403")
    # 初审排除 needs a reason
    _envelope(c.post(f"/api/v1/items/{env.free_a[0]}/transitions", data={"action": "first_dismiss"}), 422, "FG422")


def test_unexpected_failure_is_an_envelope_without_internals(env, as_user, monkeypatch):
    c = as_user("analyst")

    def boom(*args, **kwargs):
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(env.app.state.items, "overdue", boom)
    payload = _envelope(c.get("/api/v1/overdue"), 500, "FG499")
    assert "secret" not in str(payload)


@pytest.mark.parametrize("path", ["/api/v1/items", "/api/v1/dashboard", "/api/v1/rules"])
def test_openapi_documents_the_envelope_and_chinese_summaries(anon, path):
    spec = anon.get("/api/v1/openapi.json").json()
    op = spec["paths"][path]["get"]
    assert CJK.search(op["summary"])
    assert op["responses"]["401"]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorBody")
