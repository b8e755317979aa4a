"""The token API through the test client: keys made in the database, and
every request and answer checked against the OpenAPI document."""
import json
from datetime import timedelta

import pytest
from openapi_core import Config, OpenAPI
from openapi_core.contrib.werkzeug import WerkzeugOpenAPIRequest, WerkzeugOpenAPIResponse
from werkzeug.test import EnvironBuilder

from portal.api import keys, problems
from portal.api.rules import ALL_SCOPES
from portal.db import utcnow


@pytest.fixture(scope="session")
def openapi_document(tmp_path_factory):
    """The document the app serves, read once per run (it is the same for every app)."""
    from portal import create_app

    instance = tmp_path_factory.mktemp("openapi")
    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{instance}/openapi.sqlite"})
    document = app.test_client().get("/api/v1/openapi.json").get_json()
    app.extensions["keepalive.engine"].dispose()
    return document


@pytest.fixture(scope="session")
def openapi(openapi_document):
    # Problem details are JSON under their own media type (RFC 9457).
    config = Config(extra_media_type_deserializers={problems.MEDIA_TYPE: json.loads})
    return OpenAPI.from_dict(openapi_document, config=config)


class Api:
    """The test client with a bearer key; every answer of /api/v1 is checked
    against the OpenAPI document (its status, media type, headers and body)."""

    def __init__(self, client, openapi, secret=None):
        self.client, self.openapi, self.secret = client, openapi, secret
        self.checked = 0

    def open(self, method, path, secret=None, headers=None, **kwargs):
        headers = dict(headers or {})
        secret = self.secret if secret is None else secret
        if secret:
            headers.setdefault("Authorization", f"Bearer {secret}")
        response = self.client.open(path, method=method, headers=headers, **kwargs)
        # The request again, as sent (the app has read its body).
        sent = EnvironBuilder(path, method=method, headers=headers, **kwargs).get_request()
        self.check(sent, response)
        return response

    def check(self, request, response):
        self.openapi.validate_response(WerkzeugOpenAPIRequest(request), WerkzeugOpenAPIResponse(response))
        self.checked += 1

    def get(self, path, **kwargs):
        return self.open("GET", path, **kwargs)

    def post(self, path, **kwargs):
        return self.open("POST", path, **kwargs)


def make_key(app, session, org, scopes=ALL_SCOPES, brand=None, expires_in=None, revoked=False, name="Publisher"):
    """A key of `org` made as the settings page makes one; returns (secret, key)."""
    with app.app_context():
        secret, key = keys.create(session, org.id, name, [str(scope) for scope in scopes],
                                  brand_id=brand.id if brand else None,
                                  expires_at=utcnow() + expires_in if expires_in is not None else None)
    if revoked:
        key.revoked_at = utcnow() - timedelta(minutes=1)
    session.commit()
    return secret, key


@pytest.fixture
def api(client, openapi):
    return Api(client, openapi)
