import pytest
from fastapi.testclient import TestClient

from tests.web.env import get_env, login


@pytest.fixture(scope="session")
def env(tmp_path_factory):
    return get_env(tmp_path_factory.mktemp("webapp"))


def _client(env) -> TestClient:
    # Never `with TestClient(...)`: leaving the block would run the app's shutdown and close the shared store.
    return TestClient(env.app, raise_server_exceptions=False)


@pytest.fixture
def anon(env):
    return _client(env)


@pytest.fixture
def as_user(env):
    """as_user(name) -> (client signed in through the login form, its CSRF token)."""
    def make(name: str):
        client = _client(env)
        token = login(client, name)
        client.headers["X-CSRF-Token"] = token
        return client
    return make
