"""The portal and its sandbox network served over real HTTP on loopback, on
the test's database, with a browser-like HTTP client that keeps cookies."""
import re
from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest
from sqlmodel import select

from portal.crypto import TokenCipher
from portal.models import Credential
from portal.networks.base import moment
from tests import factories
from tests.conftest import with_sandbox
from tests.serving import served

OWNER = "owner@demo.test"
# The role each network calls "may renew" (LinkedIn pages: ADMINISTRATOR).
RENEWING_ROLE = {"linkedin_company": "ADMINISTRATOR"}
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


@pytest.fixture
def app_config(app_config, tmp_path):
    return {**with_sandbox(app_config, tmp_path), "SANDBOX_TIMEOUT_SECONDS": 1, "NETWORK_TIMEOUT": 5}


class Live:
    """The served app: an HTTP client with cookies, the sandbox's admin API,
    and a way to read what the portal stored."""

    def __init__(self, app, base_url, session):
        self.app = app
        self.base_url = base_url
        self.store = session
        self.http = httpx2.Client(base_url=base_url, timeout=30, follow_redirects=False, trust_env=False)

    # -- the sandbox, as the world outside --------------------------------

    def admin(self, path, payload=None, method="post"):
        response = self.http.request(method.upper(), f"/sandbox/admin/api/{path}", json=payload)
        assert response.status_code in (200, 201), response.text
        return response.json() if response.content else {}

    def grant(self, network, external_id, email=OWNER, name="Northwind Café", roles=None, **extra):
        return self.admin("grants", {
            "network": network,
            "account": {"external_id": external_id, "name": name, "handle": "@" + external_id},
            "person": {"email": email, "name": email.split("@")[0].title()},
            "roles": roles if roles is not None else [
                {"email": email, "role": RENEWING_ROLE.get(network, "ADMIN"), "can_renew": True}
            ],
            **extra,
        })

    def calls(self, network, grant_type=None):
        query = {"network": network, **({"grant_type": grant_type} if grant_type else {})}
        response = self.http.get("/sandbox/admin/api/calls", params=query)
        assert response.status_code == 200, response.text
        body = response.json()
        return body["calls"] if isinstance(body, dict) else body

    def fault(self, network, mode, count=1):
        return self.admin("faults", {"network": network, "mode": mode, "count": count})

    # -- the portal, as a person in a browser -----------------------------

    def csrf(self, path="/login"):
        page = self.http.get(path)
        match = CSRF_META.search(page.text)
        assert match, f"no CSRF token on {path}: {page.status_code}"
        return match.group(1)

    def login(self, email=OWNER):
        response = self.http.post("/login", data={
            "email": email, "password": factories.PASSWORD, "csrf_token": self.csrf(),
        })
        assert response.status_code == 303, response.text
        return response

    def renew(self, profile_id, next_url="/", **form):
        return self.http.post(f"/profiles/{profile_id}/renew", data={
            "csrf_token": self.csrf("/"), "next": next_url, **form,
        })

    def consent(self, consent_url, email=OWNER, decision="allow", account=None):
        """Answer the network's consent page, signing in as `email` (and, where
        one login is one account, as its `account`); the redirect back to the portal."""
        page = self.http.get(consent_url)
        assert page.status_code == 200, page.text
        person = f"{email}|{account}" if account else email
        answer = self.http.post(consent_url, data={"person": person, "decision": decision})
        assert answer.status_code in (302, 303), answer.text
        return answer.headers["location"]

    def renew_interactively(self, profile_id, email=OWNER, decision="allow", next_url="/"):
        """Renew → consent → callback; the callback's response."""
        started = self.renew(profile_id, next_url)
        assert started.status_code == 303, started.text
        back = self.consent(started.headers["location"], email, decision)
        assert back.startswith(f"{self.base_url}/renew/callback/")
        return self.http.get(back)

    def flashes(self, path="/"):
        return re.findall(r'class="flash flash-(\w+)">([^<]*)<', self.http.get(path).text)

    # -- what the portal stored --------------------------------------------

    def current(self, profile_id):
        self.store.expire_all()
        self.store.rollback()
        return self.store.exec(
            select(Credential).where(Credential.profile_id == profile_id, Credential.superseded_at.is_(None))
        ).first()

    def cipher(self):
        return TokenCipher(self.app.config["TOKEN_KEYS"])


@pytest.fixture
def live(app, session):
    with served(app) as base_url:
        app.config.update(BASE_URL=base_url, SANDBOX_BASE_URL=base_url)
        world = Live(app, base_url, session)
        # For the test's own thread (tokens sealed by factories); the server's
        # threads have contexts of their own.
        with app.app_context():
            yield world
        world.http.close()


def agency(session, network, external_id, role="owner", email=OWNER, **credential_fields):
    """An organization with a person of `role` and one profile of `network`
    whose current credential is given by `credential_fields` (default: dead)."""
    made = factories.agency(
        session, people={"person": {"role": role, "email": email, "name": "Olivia Owner"}},
        profiles={"profile": {"network": network, "external_id": external_id, "name": "Northwind Café",
                              "credential": credential_fields or {"status": "invalid",
                                                                  "invalid_reason": "password_changed"}}},
    )
    return made.org, made.people["person"], made.profiles["profile"]


def adopt(session, profile, issued, **fields):
    """Make the sandbox's provisioned grant `issued` the profile's current credential."""
    from portal.crypto import seal

    current = session.exec(
        select(Credential).where(Credential.profile_id == profile.id, Credential.superseded_at.is_(None))
    ).first()
    if current is not None:
        session.delete(current)
        session.commit()
    credential = Credential(
        profile_id=profile.id,
        sealed_access_token=seal(issued["access_token"]),
        sealed_refresh_token=seal(issued.get("refresh_token")),
        expires_at=moment(issued.get("expires_at")),
        refresh_expires_at=moment(issued.get("refresh_expires_at")),
        data_access_expires_at=moment(issued.get("data_access_expires_at")),
        scopes=issued.get("scopes") or "",
        **fields,
    )
    session.add(credential)
    session.commit()
    return credential


def query_of(url):
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}
