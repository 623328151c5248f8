"""Fixtures of the real-time tests: a store with the built-in knowledge base, the gateway app, messages."""

from __future__ import annotations

import contextlib
import copy
import warnings

import pytest

from fundguard.api import gateway_schema

with warnings.catch_warnings():  # starlette's notice about httpx, raised once at import
    warnings.simplefilter("ignore")
    import fastapi.testclient  # noqa: F401

URL = "/fsi/api/rsfComIfsService/callService"


def example(**changes) -> dict:
    """A copy of the documented 3101 example; ``changes`` set data fields (``trig_scen``, ``rule_ids`` …)."""
    message = copy.deepcopy(gateway_schema.EXAMPLE_3101)
    message["input"]["data"].update(changes)
    return message


def encounter(message: dict, patient: int = 0, index: int = 0) -> dict:
    return message["input"]["data"]["patient_dtos"][patient]["fsi_encounter_dtos"][index]


@pytest.fixture(scope="module")
def kb_con():
    from fundguard.kb.builtin import ensure_builtin
    from fundguard.store.db import connect

    con = connect(":memory:")
    ensure_builtin(con)
    yield con
    con.close()


@contextlib.contextmanager
def gateway_client(con, **options):
    """A test client of a stand-alone gateway app on ``con``; ``client.service`` is its real-time service."""
    from fastapi.testclient import TestClient

    from fundguard.api.gateway import create_gateway_app

    app = create_gateway_app(con, **options)
    with TestClient(app) as c:
        c.service = app.state.fg_realtime
        yield c


@pytest.fixture(scope="module")
def client(kb_con):
    with gateway_client(kb_con, workers=2) as c:
        yield c


def post(client, body) -> dict:
    response = client.post(URL, json=body) if not isinstance(body, (bytes, str)) else client.post(
        URL, content=body, headers={"content-type": "application/json"})
    assert response.status_code == 200, response.text
    return response.json()


def rules_of(answer: dict) -> list[str]:
    assert answer["infcode"] == 0, answer["err_msg"]
    return sorted(r["rule_id"] for r in answer["output"]["result"])
