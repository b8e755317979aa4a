"""The worlds the adapters talk to, each over real HTTP on loopback: the
networks' documented answers replayed (`replay`, tests/networks/replay.py),
and a live app with the sandbox mounted (`sandbox`, `world`)."""
import uuid
from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest
from sqlmodel import SQLModel

from devkit import sandbox as sandbox_network
from portal import create_app
from portal.networks import adapter_for, new_code_verifier
from tests.conftest import forget_keys
from tests.networks.replay import Replay
from tests.serving import served

SANDBOX_TIMEOUT_SECONDS = 1.5


class Sandbox:
    def __init__(self, app, base_url):
        self.app = app
        self.base_url = base_url
        self.http = httpx2.Client(base_url=base_url, timeout=20, follow_redirects=False, trust_env=False)

    def adapter(self, network, **overrides):
        return adapter_for(network, {**self.app.config, **overrides})

    def admin(self, path, payload):
        response = self.http.post(f"/sandbox/admin/api/{path}", json=payload)
        assert response.status_code in (200, 201), response.text
        return response.json() if response.content else {}

    def grant(self, network, external_id, email="owner@demo.test", name="Northwind Café", handle="@northwind",
              roles=None, account=None, **extra):
        payload = {
            "network": network,
            "account": {"external_id": external_id, "name": name, "handle": handle, **(account or {})},
            "person": {"email": email, "name": email.split("@")[0].title()},
            "roles": roles if roles is not None else [{"email": email, "role": "ADMIN", "can_renew": True}],
            **extra,
        }
        return self.admin("grants", payload)

    def backdate(self, grant_id, seconds):
        return self.admin(f"grants/{grant_id}/backdate", {"seconds": seconds})

    def fault(self, network, mode, count=1):
        return self.admin("faults", {"network": network, "mode": mode, "count": count})

    def redirect_uri(self, network):
        return f"{self.base_url}/renew/callback/{network}"

    def consent(self, network, email, decision="allow", adapter=None):
        """Sign in as `email` at the network's consent page and answer it;
        the query of the redirect back to the portal, with the verifier used."""
        adapter = adapter or self.adapter(network)
        verifier = new_code_verifier()
        url = adapter.authorize_url("state-" + network, verifier, self.redirect_uri(network))
        page = self.http.get(url)
        assert page.status_code == 200, page.text
        answer = self.http.post(url, data={"person": email, "decision": decision})
        assert answer.status_code in (302, 303), answer.text
        location = answer.headers["location"]
        assert location.startswith(self.redirect_uri(network))
        params = {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}
        return params, verifier


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory, redis_url):
    folder = tmp_path_factory.mktemp("sandbox")
    run = uuid.uuid4().hex[:12]  # this run's own keys in the shared Redis
    app = create_app({
        "TESTING": True,
        "SANDBOX": True,
        "DATABASE_URL": f"sqlite:///{folder / 'portal.sqlite'}",
        "SANDBOX_DATABASE_URL": f"sqlite:///{folder / 'sandbox.sqlite'}",
        "REDIS_URL": redis_url,
        "RATELIMIT_STORAGE_URI": redis_url,
        "RATELIMIT_KEY_PREFIX": f"networks-{run}",
        "REDIS_KEY_PREFIX": f"networks-{run}",
        "QUEUE_NAME": f"networks-{run}",
        "SANDBOX_TIMEOUT_SECONDS": SANDBOX_TIMEOUT_SECONDS,
        "NETWORK_TIMEOUT": 5,
    })
    assert app.blueprints["sandbox"] is sandbox_network.bp
    SQLModel.metadata.create_all(app.extensions["keepalive.engine"])
    with served(app) as base_url:
        app.config.update(BASE_URL=base_url, SANDBOX_BASE_URL=base_url)
        world = Sandbox(app, base_url)
        yield world
        world.http.close()
    app.extensions["keepalive.engine"].dispose()
    forget_keys(app.config)


@pytest.fixture
def world(sandbox):
    """The sandbox, emptied before the test."""
    sandbox.admin("reset", {})
    return sandbox


@pytest.fixture(scope="session")
def replay_server():
    server = Replay()
    yield server
    server.close()


@pytest.fixture
def replay(replay_server):
    """The local server replaying the networks' documented answers, with none served yet."""
    replay_server.reset()
    return replay_server
