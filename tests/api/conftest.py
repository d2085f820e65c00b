import pytest
from django.test import Client

from orderdesk.api.keys import api_key_create, api_key_revoke


class ApiClient:
    """The test Client speaking JSON with an optional bearer key."""

    def __init__(self, key: str | None = None, **headers):
        self.client = Client()
        self.headers = dict(headers)
        if key:
            self.headers["Authorization"] = f"Bearer {key}"

    def _call(self, method, path, body=None, headers=None):
        kwargs = {"headers": {**self.headers, **(headers or {})}}
        if body is not None:
            kwargs["data"] = body
            kwargs["content_type"] = "application/json"
        return getattr(self.client, method)(f"/api{path}", **kwargs)

    def get(self, path, **kwargs):
        return self._call("get", path, **kwargs)

    def post(self, path, body=None, **kwargs):
        return self._call("post", path, body if body is not None else {}, **kwargs)

    def put(self, path, body=None, **kwargs):
        return self._call("put", path, body if body is not None else {}, **kwargs)


def key_for(user, name="test") -> str:
    return api_key_create(name=name, username=user.username)[1]


@pytest.fixture
def csr_api(csr):
    return ApiClient(key_for(csr))


@pytest.fixture
def supervisor_api(supervisor):
    return ApiClient(key_for(supervisor))


@pytest.fixture
def anonymous_api(db):
    return ApiClient()


@pytest.fixture
def revoked_api(supervisor):
    api_key, key = api_key_create(name="old", username=supervisor.username)
    api_key_revoke(prefix=api_key.prefix)
    return ApiClient(key)


@pytest.fixture
def bad_key_api(db):
    return ApiClient("od_0123456789ab_not-the-secret")
