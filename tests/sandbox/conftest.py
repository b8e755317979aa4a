"""An app with the sandbox mounted on a database of its own (SQLite, and
PostgreSQL when TEST_DATABASE_URL is set), and helpers to walk its OAuth
flows as a network's client would."""
import base64
import hashlib
import os
import secrets
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

from portal import create_app

REDIRECT = "http://localhost/renew/callback/{}"
CLIENT = ("keepalive-sandbox", "sandbox-secret")
SANDBOX_DATABASES = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])


@pytest.fixture(params=SANDBOX_DATABASES)
def sandbox_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'sandbox.sqlite'}"
        return
    base = os.environ["TEST_DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://", 1)
    schema = f"sandbox_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(base)
    with admin.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in base else "?"
    yield f"{base}{separator}options=-csearch_path%3D{schema}"
    with admin.begin() as connection:
        connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def sandbox_config(tmp_path, sandbox_url):
    return {
        "TESTING": True,
        "SANDBOX": True,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'portal.sqlite'}",
        "SANDBOX_DATABASE_URL": sandbox_url,
        "SANDBOX_TIMEOUT_SECONDS": 0.5,
        "RATELIMIT_STORAGE_URI": "memory://",
        "BASE_URL": "http://localhost",
    }


@pytest.fixture
def app(sandbox_config):
    app = create_app(sandbox_config)
    yield app
    engine = app.extensions.get("sandbox.engine")
    if engine is not None:
        engine.dispose()
    app.extensions["keepalive.engine"].dispose()


@pytest.fixture
def client(app):
    return app.test_client()


def pkce_pair():
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def query_of(location):
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def lasting(seconds):
    """The `expires_in` a network may answer for a lifetime of `seconds`
    given just now: it counts from the moment it answers, which on a busy
    machine can be a second or two after the grant was made."""
    return range(seconds - 2, seconds + 1)


def basic(client_id=CLIENT[0], secret=CLIENT[1]):
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


class Sandbox:
    """The sandbox as a network's client and its tester see it."""

    def __init__(self, client):
        self.client = client

    def consent(self, authorize_path, params, email="owner@demo.test", decision="allow", name=None):
        """Walk the consent page: GET it, then POST the decision; the redirect's query."""
        page = self.client.get(authorize_path, query_string=params)
        assert page.status_code == 200, page.get_data(as_text=True)
        form = {"decision": decision, "person": "new", "email": email}
        if name:
            form["name"] = name
        response = self.client.post(authorize_path, query_string=params, data=form)
        assert response.status_code == 302, response.get_data(as_text=True)
        location = response.headers["Location"]
        assert location.startswith(params["redirect_uri"])
        return query_of(location)

    def provision(self, network, external_id="1001", email="owner@demo.test", **extra):
        body = {
            "network": network,
            "account": {"external_id": external_id, "name": "Northwind Café", "handle": "@northwindcafe"},
            "person": {"email": email, "name": "Olivia Owner"},
        }
        body.update(extra)
        response = self.client.post("/sandbox/admin/api/grants", json=body)
        assert response.status_code == 201, response.get_data(as_text=True)
        return response.get_json()

    def admin(self, path, **body):
        response = self.client.post(f"/sandbox/admin/api/{path}", json=body)
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_json()

    def calls(self, **filters):
        return self.client.get("/sandbox/admin/api/calls", query_string=filters).get_json()["calls"]


@pytest.fixture
def sandbox(client):
    return Sandbox(client)
