"""The token API benchmark's Python steps (wrk does the driving, from run.sh).

    python -m bench.api seed DATABASE_URL   the pages' world and an API key; prints
                                           "name path" lines for wrk, writes the key
                                           to bench/out/api-key
    python -m bench.api check BASE_URL      each endpoint answers 200 with a token

The endpoints: a profile's token (`GET /api/v1/profiles/{id}/token`, a
profile whose token lives long enough: no refresh, as nearly every call) and
the network fallback (`GET /api/v1/networks/{network}/token`), each beside a
minimal endpoint doing the same work (`bench/baseline.py`).
"""
import json
import sys
import urllib.request
from datetime import timedelta

from sqlalchemy import text

from bench import world
from portal.api import keys
from portal.db import engine, new_session

FALLBACK_NETWORK = "instagram_business"
# (name, path), each endpoint before its baseline; {profile} is the profile the token endpoints read.
ENDPOINTS = [
    ("api_token", "/api/v1/profiles/{profile}/token"),
    ("baseline_api_token", "/bench/baseline/api/profiles/{profile}/token"),
    ("api_fallback", f"/api/v1/networks/{FALLBACK_NETWORK}/token"),
    ("baseline_api_fallback", f"/bench/baseline/api/networks/{FALLBACK_NETWORK}/token"),
]
# The per-key rate limit is raised for the run (its Redis increment is still made on every request).
ENVIRONMENT = {"API_REQUESTS_PER_MINUTE": "100000000"}
KEY_FILE = world.OUT / "api-key"

# A Facebook Page whose token lives more than a day: handed out as stored.
LIVE_PROFILE = """
SELECT p.id FROM social_profile p JOIN credential c ON c.profile_id = p.id AND c.superseded_at IS NULL
WHERE p.network = 'facebook' AND c.status = 'active' AND (c.expires_at IS NULL OR c.expires_at > :later)
  AND (c.data_access_expires_at IS NULL OR c.data_access_expires_at > :later)
ORDER BY p.id LIMIT 1
"""


def seed(database_url):
    app = world.bench_app(database_url)
    world.create_schema(app)
    now = world.now()
    print(world.seed_pages(app, now), file=sys.stderr)
    with app.app_context(), new_session() as session:
        organization_id = session.exec(text("SELECT id FROM organization")).scalar_one()
        secret, _ = keys.create(session, organization_id, "Bench tool", ["profiles:read", "tokens:read"])
        session.commit()
        with engine().connect() as connection:
            later = (now + timedelta(days=30)).strftime("%Y-%m-%d %H:%M:%S")
            profile = connection.execute(text(LIVE_PROFILE), {"later": later}).scalar_one()
    KEY_FILE.write_text(secret)
    for name, path in ENDPOINTS:
        print(name, path.format(profile=profile))


def check(base_url, *paths):
    """Each endpoint answers 200 with a token (a bad key or a dead token would measure errors)."""
    secret = KEY_FILE.read_text().strip()
    for path in paths:
        request = urllib.request.Request(base_url + path, headers={"Authorization": f"Bearer {secret}"})
        with urllib.request.urlopen(request) as response:
            body = json.loads(response.read())
            if response.status != 200 or not body.get("access_token"):
                sys.exit(f"{path} answered {response.status}: {body}")
        print(f"{path}: 200, {len(json.dumps(body))} bytes", file=sys.stderr)


def environment():
    print(" ".join(f"{name}={value}" for name, value in ENVIRONMENT.items()))


if __name__ == "__main__":
    command, *arguments = sys.argv[1:]
    {"seed": seed, "check": check, "environment": environment}[command](*arguments)
