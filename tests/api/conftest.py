# The API tests share the web tests' app, store and signed-in clients.
from tests.web.conftest import _client, anon, as_user, env  # noqa: F401
