"""Fuzzing the gateway from its OpenAPI document (schemathesis, in process): no answer is ever a server error,
and every answer follows the documented envelope — for messages that fit the schema and for ones that do not."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from tests.realtime.conftest import URL

MAX_EXAMPLES = 60  # per mode; bounded so that the folder stays fast


@pytest.fixture(scope="module")
def gateway_operation(kb_con):
    from fastapi.testclient import TestClient

    from fundguard.api.gateway import create_gateway_app

    app = create_gateway_app(kb_con, workers=2, record=False)
    with TestClient(app):  # runs the lifespan: the service is closed at the end
        schema = schemathesis.openapi.from_asgi("/openapi.json", app)
        yield schema[URL]["POST"]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_message_gets_a_server_error(gateway_operation, mode):
    seen = {0: 0, -1: 0}

    @settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(case=gateway_operation.as_strategy(generation_mode=mode))
    def check(case):
        response = case.call_and_validate(checks=[not_a_server_error, response_schema_conformance,
                                                  content_type_conformance])
        assert response.status_code == 200
        body = response.json()
        seen[body["infcode"]] += 1
        if body["infcode"] != 0:
            assert body["err_msg"].startswith("[FG6") and body["output"] is None

    check()
    assert seen[-1] > 0  # the fuzzer did reach the error answers
