"""The sandbox's own sample people and accounts, and me/accounts read page
by page as the Graph API answers it."""
from urllib.parse import parse_qs, urlsplit

import sqlalchemy as sa

from devkit.sandbox import samples, store
from tests.sandbox.test_meta import DIALOG, authorize_params, exchange, long_lived

ACCOUNTS = "/sandbox/graph.facebook.com/v25.0/me/accounts"


def test_samples_hold_an_account_on_every_network_and_adding_twice_changes_nothing(app, client):
    assert client.post("/sandbox/admin/api/samples", json={}).get_json() == {
        "roles_added": len(samples.sample_accounts())}
    assert client.post("/sandbox/admin/api/samples", json={}).get_json() == {"roles_added": 0}
    with app.app_context(), store.transaction() as c:
        alex = store.one(c, sa.select(store.persons).where(store.persons.c.email == samples.ALEX))
        networks = {row["network"] for row in store.many(c, sa.select(store.accounts.c.network).join(
            store.roles, store.roles.c.account_id == store.accounts.c.id).where(
            store.roles.c.person_id == alex["id"]))}
        assert networks == set(store.PROVIDER_OF)
        jordan = store.one(c, sa.select(store.persons).where(store.persons.c.email == samples.JORDAN))
        assert len(store.accounts_of(c, jordan["id"], "facebook")) == samples.STUDIO_CITIES
    # The admin page's button does the same, and comes back to the page.
    assert client.post("/sandbox/admin/api/samples").status_code == 303
    assert "Add the sample people and accounts" in client.get("/sandbox/admin").get_data(as_text=True)


def user_token(sandbox, client, email):
    query = sandbox.consent(DIALOG, authorize_params(), email=email)
    short = exchange(client, query["code"]).get_json()["access_token"]
    return long_lived(client, short).get_json()["access_token"]


def test_me_accounts_answers_25_pages_a_call_with_a_next_link(sandbox, client):
    client.post("/sandbox/admin/api/samples", json={})
    token = user_token(sandbox, client, samples.JORDAN)
    first = client.get(ACCOUNTS, query_string={"access_token": token, "fields": "id,name"}).get_json()
    assert len(first["data"]) == 25 and first["paging"]["next"].startswith("https://graph.facebook.com/v25.0/")

    seen, url, calls = [], ACCOUNTS, 0
    query = {"access_token": token, "fields": "id,name", "limit": "50"}
    while url:
        body = client.get(url, query_string=query).get_json()
        seen += [page["id"] for page in body["data"]]
        calls += 1
        following = body["paging"].get("next")
        url, query = (None, None) if not following else (
            "/sandbox/graph.facebook.com" + urlsplit(following).path,
            {k: v[0] for k, v in parse_qs(urlsplit(following).query).items()})
    assert calls == 3 and len(seen) == len(set(seen)) == samples.STUDIO_CITIES
    assert "access_token" in parse_qs(urlsplit(following or first["paging"]["next"]).query)


def test_an_analyst_is_told_so_by_the_pages_tasks(sandbox, client):
    client.post("/sandbox/admin/api/samples", json={})
    token = user_token(sandbox, client, samples.CASEY)
    [page] = client.get(ACCOUNTS, query_string={"access_token": token}).get_json()["data"]
    assert page["id"] == "sample-fb-101" and page["tasks"] == ["ANALYZE"]
