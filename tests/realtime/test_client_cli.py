"""For integrators: the Python client against a running gateway, and `fundguard precheck` on a message file."""

from __future__ import annotations

import datetime as dt
import json
import socket
import threading
import time

import pytest
from typer.testing import CliRunner

from fundguard.api import gateway_schema
from fundguard.api.client import (
    Diagnosis,
    Disposition,
    Encounter,
    GatewayClient,
    GatewayError,
    Order,
    Patient,
)
from fundguard.cli.main import app as cli
from tests.realtime.conftest import example


@pytest.fixture(scope="module")
def server(kb_con):
    import uvicorn

    from fundguard.api.gateway import create_gateway_app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = uvicorn.Config(create_gateway_app(kb_con, workers=1), host="127.0.0.1", port=port, log_level="warning")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    for _ in range(200):
        if srv.started:
            break
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)


def _patient(gend: str) -> Patient:
    when = dt.datetime(2025, 3, 10, 9)
    return Patient(patn_id="P-CLIENT", patn_name="王某某", gend=gend, brdy=dt.date(1958, 3, 12), encounters=[
        Encounter(mdtrt_id="M-CLIENT", medins_id="H11010500012", adm_date=dt.datetime(2025, 3, 8, 10, 20),
                  med_type="21", med_mdtrt_type="2", medins_lv="01",
                  diagnoses=[Diagnosis("I63.9", "脑梗死", maindise_flag="1")],
                  orders=[Order("RX1", "XG03DAH727S530099033962", "黄体酮软胶囊", 1, 56.8, when, hilist_type="101"),
                          Order("RX2", "XN07XXT095P999089330140", "依达拉奉注射液", 2, 98.5, when)])])


def test_client_builds_calls_and_parses(server):
    with GatewayClient(server, fixmedins_code="H11010500012") as client:
        warnings = client.pre_check([_patient("1")], trig_scen="5")
        assert [(w.rule_id, w.rx_ids, w.vola_amt, w.sev_deg) for w in warnings] == [
            ("GZ10000301004000", ("RX1",), 56.8, "1")]
        assert "限女性使用" in warnings[0].vola_cont and warnings[0].mdtrt_id == "M-CLIENT"
        assert client.pre_check([_patient("2")], trig_scen="5") == []
        assert client.in_check([_patient("1")], rule_ids=["GZ10000301004000"])[0].jr_id == warnings[0].jr_id
        assert client.feedback([Disposition(warnings[0].jr_id, continue_order=True, reason="已告知患者")]) == 1
        with pytest.raises(GatewayError) as err:
            client.pre_check([_patient("1")], trig_scen="99")
        assert err.value.infcode == -1 and "trig_scen" in err.value.err_msg


def test_client_reports_an_unreachable_gateway():
    with GatewayClient("http://127.0.0.1:9", timeout=0.5) as client, pytest.raises(GatewayError, match="无法调用网关"):
        client.pre_check([_patient("1")], trig_scen="5")


@pytest.fixture(scope="module")
def store_file(tmp_path_factory):
    from fundguard.kb.builtin import ensure_builtin
    from fundguard.store.db import connect

    path = tmp_path_factory.mktemp("precheck") / "store.duckdb"
    con = connect(path)
    ensure_builtin(con)
    con.close()
    return path


def test_precheck_prints_the_warnings(tmp_path, store_file):
    path = tmp_path / "3101.json"
    path.write_text(json.dumps(gateway_schema.EXAMPLE_3101, ensure_ascii=False), encoding="utf-8")
    result = CliRunner().invoke(cli, ["precheck", str(path), "--db", str(store_file)])
    assert result.exit_code == 0, result.output
    assert "违规提醒（2 条）" in result.output and "药品区分性别使用" in result.output
    assert "RX0002" in result.output and "合计违规金额 76.80 元" in result.output


def test_precheck_takes_a_bare_data_object_and_can_print_json(tmp_path, store_file):
    path = tmp_path / "data.json"
    path.write_text(json.dumps(example()["input"]["data"], ensure_ascii=False), encoding="gb18030")
    result = CliRunner().invoke(cli, ["precheck", str(path), "--db", str(store_file), "--infno", "3102", "--json"])
    assert result.exit_code == 0, result.output
    answer = json.loads(result.output)
    assert answer["infcode"] == 0 and len(answer["output"]["result"]) == 2


def test_precheck_names_the_bad_field(tmp_path, store_file):
    message = example()
    del message["input"]["data"]["patient_dtos"][0]["fsi_encounter_dtos"][0]["fsi_order_dtos"][0]["cnt"]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(message, ensure_ascii=False), encoding="utf-8")
    result = CliRunner().invoke(cli, ["precheck", str(path), "--db", str(store_file)])
    assert result.exit_code == 2 and "报文有误" in result.output and "fsi_order_dtos[0].cnt" in result.output
