"""The whole 疑点 procedure through the JSON API, as the roles would do it: 初审 → 复审 → 推送 → 申诉 (with an
attachment) → 调查核实 → 违规处理; then history, the attachment, the rule quality and the dashboard reflect it."""

from decimal import Decimal


def _state(client, jr_id):
    return client.get(f"/api/v1/items/{jr_id}").json()["state"]


def test_full_procedure_through_the_api(env, as_user):
    analyst, reviewer, inst, leader = (as_user(n) for n in ("analyst", "reviewer", "inst_a", "leader"))
    jr_id = env.free_a[1]
    item = analyst.get(f"/api/v1/items/{jr_id}").json()
    assert item["state"] == "pending_first" and set(item["actions"]) >= {"first_confirm", "first_dismiss"}
    rule_id = item["rule_id"]

    r = analyst.post(f"/api/v1/items/{jr_id}/transitions", data={"action": "first_confirm", "reason": "证据充分"})
    assert r.status_code == 200 and r.json()["new_state"] == "pending_second"
    # four eyes: the first reviewer may not also do the second review
    assert analyst.post(f"/api/v1/items/{jr_id}/transitions", data={"action": "second_approve"}).status_code in (403,
                                                                                                                422)
    [res] = reviewer.post("/api/v1/items/transitions", json={"jr_ids": [jr_id], "action": "second_approve"}).json()
    assert res["ok"], res
    [res] = reviewer.post("/api/v1/items/transitions", json={"jr_ids": [jr_id], "action": "push"}).json()
    assert res["ok"] and res["new_state"] == "pushed"

    mine = inst.get("/api/v1/items", params={"state": "pushed", "page_size": 500}).json()
    assert jr_id in {i["jr_id"] for i in mine["items"]}
    note = inst.post(f"/api/v1/items/{jr_id}/notes", data={"text": "已收到，正在整理病历"})
    assert note.status_code == 200 and note.json()["action"] == "note" and _state(analyst, jr_id) == "pushed"
    r = inst.post(f"/api/v1/items/{jr_id}/transitions",
                  data={"action": "appeal", "reason": "该项目有医嘱，属合理收费"},
                  files=[("files", ("申诉说明.pdf", b"%PDF-1.4 appeal", "application/pdf"))])
    assert r.status_code == 200 and r.json()["new_state"] == "appealed", r.text
    [att] = inst.get(f"/api/v1/items/{jr_id}/attachments").json()
    assert att["filename"] == "申诉说明.pdf"
    download = analyst.get(f"/api/v1/attachments/{att['id']}")
    assert download.content == b"%PDF-1.4 appeal"
    assert download.headers["content-disposition"].startswith("attachment")

    r = analyst.post(f"/api/v1/items/{jr_id}/transitions", data={"action": "investigate", "reason": "调取病历"})
    assert r.status_code == 200 and r.json()["new_state"] == "investigating"
    r = leader.post(f"/api/v1/items/{jr_id}/transitions",
                    data={"action": "confirm_violation", "reason": "核实无医嘱", "penalty_basis": "agreement"})
    assert r.status_code == 200 and r.json()["new_state"] == "violation", r.text

    final = analyst.get(f"/api/v1/items/{jr_id}").json()
    assert final["closed"] and Decimal(final["deduct_amt"]) == Decimal(final["vola_amt"])
    history = analyst.get(f"/api/v1/items/{jr_id}/history").json()
    moves = [(h["from_state"], h["to_state"]) for h in history if h["from_state"] and h["action"] != "note"]
    assert moves == [("pending_first", "pending_second"), ("pending_second", "pending_push"),
                     ("pending_push", "pushed"), ("pushed", "appealed"), ("appealed", "investigating"),
                     ("investigating", "violation")]
    assert history[-1]["actor"] == "测试leader" and history[-1]["reason"] == "核实无医嘱"
    # the institution sees the history from the push on, not the internal review
    inst_moves = [h["to_state"] for h in inst.get(f"/api/v1/items/{jr_id}/history").json()]
    assert "pending_second" not in inst_moves and inst_moves[-1] == "violation"

    quality = analyst.get("/api/v1/rules/quality").json()
    row = next(q for q in quality["rules"] if q["rule_id"] == rule_id)
    assert row["confirmed"] >= 1 and row["precision"] is not None
    board = leader.get("/api/v1/dashboard").json()
    assert board["workflow"]["confirmed"] >= 1 and Decimal(str(board["workflow"]["deduct_amt"])) > 0


def _finding(env, where: str) -> str:
    cur = env.app.state.con.cursor()
    try:
        return cur.execute(f"SELECT jr_id FROM findings WHERE {where} ORDER BY vola_amt DESC, jr_id LIMIT 1").fetchone()[0]
    finally:
        cur.close()


def test_evidence_chain_explains_the_amount(env, as_user):
    analyst = as_user("analyst")
    line_rule = _finding(env, "mdtrt_id IS NOT NULL AND bkkp_sn IS NOT NULL AND line_cnt > 1")
    ev = analyst.get(f"/api/v1/items/{line_rule}/evidence").json()
    assert ev["finding"]["jr_id"] == line_rule and ev["rule"]["legal"] and ev["rule"]["basis"]
    assert ev["amount"]["method"] == "lines" and ev["amount"]["matches"], ev["amount"]
    flagged = {line["bkkp_sn"] for line in ev["lines"] if line["violating"]}
    assert flagged == set(ev["finding"]["bkkp_sn"].split(";")) and len(ev["lines"]) > len(flagged)
    assert {a["bkkp_sn"] for a in ev["amount"]["lines"]} == flagged
    assert ev["timeline"][0]["kind"] == "admission"
    assert any(e["kind"] == "settlement" for e in ev["timeline"]) and any(e["flagged"] for e in ev["timeline"])

    stay_rule = _finding(env, "rule_id = 'FG-C02'")  # 挂床住院: the whole stay's fund share
    ev = analyst.get(f"/api/v1/items/{stay_rule}/evidence").json()
    assert ev["amount"]["method"] == "encounter" and ev["amount"]["matches"], ev["amount"]

    # analysts may see personal data, institutions see it masked (the synthetic city's own IDs come masked: give
    # this patient a full one)
    mine = env.items["a_pushed"]
    cur = env.app.state.con.cursor()
    psn = cur.execute("SELECT psn_no FROM findings WHERE jr_id = ?", [mine]).fetchone()[0]
    for table in ("psn_info", "mdtrt_d"):
        cur.execute(f"UPDATE {table} SET certno = '320681199001019412', psn_name = '张三丰' WHERE psn_no = ?", [psn])
    cur.close()
    staff_view = analyst.get(f"/api/v1/items/{mine}/evidence").json()["patient"]
    inst_view = as_user("inst_a").get(f"/api/v1/items/{mine}/evidence").json()["patient"]
    assert inst_view["masked"] is True and staff_view["masked"] is False
    assert (staff_view["certno"], staff_view["name"]) == ("320681199001019412", "张三丰")
    assert (inst_view["certno"], inst_view["name"]) == ("320681********9412", "张*丰")


def test_bulk_and_assignment(env, as_user):
    reviewer = as_user("reviewer")
    ids = env.free_a[2:5]
    results = reviewer.post("/api/v1/items/transitions",
                            json={"jr_ids": ids + ["JRDOESNOTEXIST"], "action": "first_confirm"}).json()
    assert [r["ok"] for r in results] == [True, True, True, False]
    assert results[-1]["code"] == "FG404"
    staff = reviewer.get("/api/v1/staff").json()
    analyst_id = next(s["user_id"] for s in staff if s["username"] == "analyst")
    assert reviewer.post("/api/v1/items/assign", json={"jr_ids": ids, "assignee_id": analyst_id}).json() == {
        "assigned": 3}
    page = reviewer.get("/api/v1/items", params={"assignee_id": analyst_id, "state": "all"}).json()
    assert set(ids) <= {i["jr_id"] for i in page["items"]}
