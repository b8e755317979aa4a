"""Manage Accounts, profile details, See all managers and Try renewing all:
what each person sees, the filters and their URL, htmx fragments against
full pages, the in-place row after a silent renewal, and the number of SQL
queries as the number of profiles grows."""
import re
from datetime import timedelta

import pytest
from redis import Redis
from rq import Queue
from rq.job import Job
from sqlalchemy import event
from sqlmodel import select

from portal.db import utcnow
from portal.models import (
    AuditEvent,
    CanRenew,
    Credential,
    CredentialState,
    InvalidReason,
    NativeRole,
    RenewalAttempt,
    SocialProfile,
)
from portal.versions import changed
from tests import factories as f
from tests.conftest import csrf_token

HTMX = {"HX-Request": "true"}


@pytest.fixture
def agency(session):
    """An agency with two brands, people of each kind and one profile in each token state."""
    now = utcnow()
    made = f.agency(
        session,
        people={
            "owner": {"role": "owner", "name": "Olivia Owner"},
            "manager": {"role": "manager", "name": "Max Manager"},
            "viewer": {"role": "member", "name": "Vic Viewer"},
            "admin": {"role": "member", "name": "Ada Admin", "can_manage_profiles": True},
            "outsider": {"role": "member", "name": "Oscar Outsider"},
        },
        brands={"cafe": "Cafe", "books": "Books"},
        profiles={
            "expired": {"network": "facebook", "name": "Cafe Page", "handle": "@cafepage", "brands": ["cafe"],
                        "credential": {"expires_in": timedelta(days=-1), "granted_by": "owner"}},
            "revoked": {"network": "instagram_business", "name": "Books Gram", "handle": "@booksgram",
                        "brands": ["books"],
                        "credential": {"expires_in": timedelta(days=50), "status": CredentialState.INVALID,
                                       "invalid_reason": InvalidReason.PASSWORD_CHANGED,
                                       "invalidated_at": now - timedelta(days=2)}},
            "expiring": {"network": "linkedin_company", "name": "Cafe LinkedIn", "handle": "cafe-li",
                         "brands": ["cafe"], "credential": {"expires_in": timedelta(days=3, hours=1)}},
            "valid": {"network": "facebook", "name": "Books Page", "handle": "@bookspage", "brands": ["books"],
                      "credential": {"expires_in": timedelta(days=50),
                                     "data_access_expires_at": now + timedelta(days=80)}},
            "no_expiry": {"network": "x", "name": "Cafe X", "handle": "@cafex", "brands": ["cafe", "books"],
                          "credential": {"expires_in": None, "last_check_ok": True}},
            "youtube": {"network": "youtube", "name": "Cafe Tube", "handle": "@cafetube", "brands": ["cafe"],
                        "credential": {"expires_in": timedelta(days=5)}},
        },
        # The viewer sees two profiles without rights; the admin may renew one.
        rights=[("viewer", "expired", "viewer"), ("viewer", "expiring", "editor"),
                ("admin", "expired", "admin"), ("admin", "valid", "viewer")],
    )
    other = f.agency(session, name="Other Agency", people={"other": "owner"},
                     profiles={"stranger": {"name": "Stranger Page",
                                            "credential": {"expires_in": timedelta(days=-3)}}})
    return {"org": made.org, "brands": made.brands, "people": made.people, "profiles": made.profiles,
            "stranger": other.profiles["stranger"], "other": other.org}


def text(response):
    return response.get_data(as_text=True)


def row_ids(html):
    return [int(i) for i in re.findall(r'<tr id="profile-row-(\d+)"', html)]


def dropdown_names(html):
    return re.findall(r'class="token-name" href="[^"]+">([^<]+)</a>', html)


def count_of(html, status):
    return int(re.search(rf'id="count-{status}"[^>]*>(\d+)<', html).group(1))


def menu(client, profile_id, page="/accounts"):
    """The items of a row's ⋯ menu, as htmx loads them from the page `page`."""
    return client.get(f"/accounts/{profile_id}/menu", headers={**HTMX, "HX-Current-URL": f"http://localhost{page}"})


def header_badge(html):
    return re.search(r'<span class="badge[^"]*">(\d+)</span>', html).group(0)


# --- Manage Accounts ----------------------------------------------------------

def test_manage_accounts_lists_every_profile_most_urgent_first(client, auth, agency):
    auth.login("owner@example.test")
    response = client.get("/accounts")
    assert response.status_code == 200
    html = text(response)
    assert "<h1>Manage Accounts</h1>" in html
    assert 'href="/accounts" aria-current=page' in html  # in the main navigation
    p = agency["profiles"]
    ids = row_ids(html)
    assert ids[:2] == sorted([p["expired"].id, p["revoked"].id], key=ids.index)
    assert set(ids[:2]) == {p["expired"].id, p["revoked"].id}
    assert ids[2:] == [p["expiring"].id, p["youtube"].id, p["no_expiry"].id, p["valid"].id]
    assert agency["stranger"].id not in ids
    assert "Stranger Page" not in html
    # Pills, coloured by the row's status (the stylesheet draws the expired one's sign): "N days left"…
    assert re.search(rf'<tr id="profile-row-{p["expired"].id}" class="status-expired">.*?<span class="pill">Expired</span>',
                     html, re.S)
    assert "3 days left" in html
    assert re.search(rf'<tr id="profile-row-{p["valid"].id}" class="status-valid">.*?<span class="pill">Valid</span>', html,
                     re.S)
    assert '<span class="pill">No expiration date</span>' in html
    assert "Password changed on Instagram (Business)" in html
    # Last renewed: who granted the current credential.
    row = html.split(f'id="profile-row-{p["expired"].id}"')[1].split("</tr>")[0]
    assert "by Olivia Owner" in row


def test_status_filter_selects_and_counts_each_status(client, auth, agency):
    auth.login("owner@example.test")
    html = text(client.get("/accounts?status=expired"))
    p = agency["profiles"]
    assert set(row_ids(html)) == {p["expired"].id, p["revoked"].id}
    assert (count_of(html, "all"), count_of(html, "expired"), count_of(html, "expiring"),
            count_of(html, "valid"), count_of(html, "no_expiry")) == (6, 2, 2, 1, 1)
    assert "Expiring within 7 days" in html
    assert re.search(r'<input type="radio" name="status" value="expired" checked>', html)
    assert set(row_ids(text(client.get("/accounts?status=expiring")))) == {p["expiring"].id, p["youtube"].id}
    assert row_ids(text(client.get("/accounts?status=valid"))) == [p["valid"].id]
    assert row_ids(text(client.get("/accounts?status=no_expiry"))) == [p["no_expiry"].id]


def test_expiring_filter_follows_the_organization_window(client, auth, agency, session):
    org = agency["org"]
    org.expiry_window_days = 60
    session.add(org)
    session.commit()
    auth.login("owner@example.test")
    html = text(client.get("/accounts?status=expiring"))
    assert "Expiring within 60 days" in html
    assert count_of(html, "expiring") == 3  # the valid Page now expires within the window


def test_network_brand_and_text_filters_narrow_the_counts_too(client, auth, agency):
    auth.login("owner@example.test")
    p, brands = agency["profiles"], agency["brands"]
    html = text(client.get("/accounts?network=facebook"))
    assert set(row_ids(html)) == {p["expired"].id, p["valid"].id}
    assert (count_of(html, "expired"), count_of(html, "valid"), count_of(html, "expiring")) == (1, 1, 0)
    assert '<option value="facebook" selected>' in html
    html = text(client.get(f"/accounts?brand={brands['books'].id}"))
    assert set(row_ids(html)) == {p["revoked"].id, p["valid"].id, p["no_expiry"].id}
    html = text(client.get("/accounts?q=CAFE"))
    assert set(row_ids(html)) == {p["expired"].id, p["expiring"].id, p["no_expiry"].id, p["youtube"].id}
    html = text(client.get("/accounts?q=@booksgram"))
    assert row_ids(html) == [p["revoked"].id]
    html = text(client.get("/accounts?q=nothing-like-it"))
    assert row_ids(html) == []
    assert "No profile matches these filters" in html


def test_the_brand_chosen_in_the_header_is_the_default_brand_filter(client, auth, agency):
    auth.login("owner@example.test")
    books = agency["brands"]["books"]
    with client.session_transaction() as cookie:
        cookie["brand_id"] = books.id
    html = text(client.get("/accounts"))
    assert f'<option value="{books.id}" selected>' in html
    assert len(row_ids(html)) == 3
    assert len(row_ids(text(client.get("/accounts?brand=")))) == 6  # "All brands", said explicitly


@pytest.mark.parametrize("query", ["status=broken", "network=myspace", "brand=999999", "brand=abc"])
def test_a_filter_that_names_nothing_is_a_400_with_a_message(client, auth, agency, query):
    auth.login("owner@example.test")
    response = client.get(f"/accounts?{query}")
    assert response.status_code == 400
    assert "does not exist" in text(response)


def test_another_agencys_brand_is_not_a_filter(client, auth, agency, session):
    other_brand = f.brand(session, agency["other"], "Theirs")
    auth.login("owner@example.test")
    assert client.get(f"/accounts?brand={other_brand.id}").status_code == 400


def test_htmx_gets_the_results_fragment_and_a_pushed_url_the_full_page(client, auth, agency):
    auth.login("owner@example.test")
    fragment = client.get("/accounts?status=expired", headers=HTMX)
    assert fragment.status_code == 200
    assert "HX-Request" in fragment.headers["Vary"]
    body = text(fragment)
    assert "<html" not in body and "<form class=\"filters" not in body
    assert '<table class="profiles accounts-table">' in body
    # The counts beside the status filter, outside the target, are htmx partials.
    assert '<hx-partial hx-target="#count-expired" hx-swap="innerHTML">2</hx-partial>' in body
    page = client.get("/accounts?status=expired")
    assert "HX-Request" in page.headers["Vary"]
    assert "<html" in text(page) and "<hx-partial" not in text(page)
    # A history restore or a boosted request needs the whole page.
    for headers in ({**HTMX, "HX-History-Restore-Request": "true"}, {**HTMX, "HX-Boosted": "true"}):
        assert "<html" in text(client.get("/accounts?status=expired", headers=headers))


def test_the_filter_form_is_a_get_form_that_htmx_submits_and_pushes(client, auth, agency):
    auth.login("owner@example.test")
    html = text(client.get("/accounts"))
    form = re.search(r'<form class="filters card"[^>]*>', html).group(0)
    assert 'method="get" action="/accounts"' in form
    assert 'hx-get="/accounts"' in form and 'hx-target="#accounts-results"' in form
    assert 'hx-push-url="true"' in form
    for name in ("status", "network", "q"):
        assert f'name="{name}"' in html
    assert "Apply filters" in html  # the button of a page without JavaScript


def test_the_brand_filter_is_the_headers_brand_they_never_disagree(client, auth, agency):
    auth.login("owner@example.test")
    books = agency["brands"]["books"]
    html = text(client.get("/accounts?status=expired"))
    # Choosing a brand in the list switches the header's, and comes back to the same filters.
    assert '<select id="filter-brand" name="brand_id" form="brand-switch" data-autosubmit>' in html
    switch = re.search(r'<form id="brand-switch" method="post" action="/settings/switch" hidden>(.*?)</form>',
                       html, re.S).group(1)
    assert 'name="next" value="/accounts?status=expired"' in switch
    response = auth.post("/settings/switch", {"organization_id": agency["org"].id, "brand_id": books.id,
                                              "next": "/accounts?status=expired"})
    assert response.headers["Location"] == "/accounts?status=expired"
    html = text(client.get(response.headers["Location"]))
    header = re.search(r'<select id="switch-brand".*?</select>', html, re.S).group(0)
    assert f'<option value="{books.id}" selected>' in header
    assert f'<option value="{books.id}" selected>' in html.split('id="filter-brand"')[1]
    # A link naming another brand shows it in the header too; switching there drops the link's own.
    html = text(client.get("/accounts?brand="))
    header = re.search(r'<select id="switch-brand".*?</select>', html, re.S).group(0)
    assert "selected" not in header.split("</option>", 1)[1] and len(row_ids(html)) == 6
    assert re.search(r'Expired Tokens</span>\s*<span class="badge">4</span>', html)
    response = auth.post("/settings/switch", {"organization_id": agency["org"].id, "brand_id": books.id,
                                              "next": "/accounts?brand=&status=expired"})
    assert response.headers["Location"] == "/accounts?status=expired"


def make_profiles(app, session, org, count, brand=None):
    session.rollback()  # end a read begun before the app's last write: SQLite would refuse to write
    with app.app_context():
        for n in range(count):
            profile = f.profile(session, org, ["facebook", "x", "youtube", "linkedin_company"][n % 4],
                                name=f"Client {n:03d}", brands=[brand] if brand else [])
            f.credential(session, profile, expires_in=timedelta(days=(n % 20) - 5))


def test_fifty_a_page_with_links_that_keep_the_filters(client, auth, app, session):
    org = f.organization(session)
    f.member(session, org, role="owner", email="boss@example.test")
    make_profiles(app, session, org, 60)
    auth.login("boss@example.test")
    first = text(client.get("/accounts"))
    assert len(row_ids(first)) == 50
    assert "1–50 of 60 · page 1 of 2" in first
    assert 'href="/accounts?page=2"' in first
    second = text(client.get("/accounts?page=2"))
    assert len(row_ids(second)) == 10
    assert set(row_ids(first)).isdisjoint(row_ids(second))
    assert 'href="/accounts"' in second and 'rel="prev"' in second
    filtered = text(client.get("/accounts?network=x&q=Client"))
    assert len(row_ids(filtered)) == 15 and 'rel="next"' not in filtered
    many = text(client.get("/accounts?q=Client&page=2"))
    assert re.search(r'href="/accounts\?(q=Client&amp;page=1|page=1)"|href="/accounts\?q=Client"', many)
    assert len(row_ids(text(client.get("/accounts?page=99")))) == 10  # past the end: the last page
    assert len(row_ids(text(client.get("/accounts?page=zero")))) == 50


# --- rights --------------------------------------------------------------------

def test_a_member_without_rights_sees_the_reason_instead_of_renew(client, auth, agency):
    auth.login("viewer@example.test")
    html = text(client.get("/accounts"))
    p = agency["profiles"]
    assert set(row_ids(html)) == {p["expired"].id, p["expiring"].id}
    assert 'action="/profiles/' not in html and "ask an Owner or Manager" in html
    assert "Try renewing all" not in html
    items = text(menu(client, p["expired"].id))
    assert "Renew Token" in items  # only as a disabled menu item, with the reason
    assert 'action="/profiles/' not in items
    assert 'role="menuitem" aria-disabled="true"' in items
    assert "ask an Owner or Manager" in items
    dropdown = text(client.get("/accounts/expired-tokens", headers=HTMX))
    assert dropdown_names(dropdown) == ["Cafe Page", "Cafe LinkedIn"]
    assert "/renew" not in dropdown and "<button type=\"submit\"" not in dropdown
    assert 'role="tooltip"' in dropdown and "ask an Owner or Manager" in dropdown


def test_a_member_admin_with_manage_rights_renews_only_where_admin(client, auth, agency):
    auth.login("admin@example.test")
    p = agency["profiles"]
    html = text(client.get("/accounts"))
    assert f'action="/profiles/{p["expired"].id}/renew"' in html
    assert f'action="/profiles/{p["expired"].id}/renew"' in text(menu(client, p["expired"].id))
    valid = text(menu(client, p["valid"].id))
    assert f'action="/profiles/{p["valid"].id}/renew"' not in valid
    assert "it needs the Admin level on this profile" in valid


def test_other_agencies_profiles_are_not_found(client, auth, agency):
    auth.login("owner@example.test")
    stranger = agency["stranger"].id
    for path in (f"/accounts/{stranger}", f"/accounts/{stranger}/managers", f"/accounts/{stranger}/menu",
                 f"/accounts/{stranger}/row"):
        assert client.get(path).status_code == 404
        assert client.get(path, headers=HTMX).status_code == 404


def test_a_member_cannot_open_a_profile_they_cannot_see(client, auth, agency):
    auth.login("viewer@example.test")
    hidden = agency["profiles"]["valid"].id
    assert client.get(f"/accounts/{hidden}").status_code == 404
    assert client.get(f"/accounts/{hidden}/managers").status_code == 404
    assert menu(client, hidden).status_code == 404
    assert client.get(f"/accounts/{hidden}/row", headers=HTMX).status_code == 404
    assert client.get(f"/accounts/{agency['profiles']['expired'].id}").status_code == 200


def test_signed_out_htmx_requests_are_sent_to_sign_in_not_swapped(client, agency):
    response = client.get("/accounts/expired-tokens", headers=HTMX)
    assert response.status_code == 200 and response.headers["HX-Redirect"].startswith("/login")
    assert client.get("/accounts").status_code == 302


# --- the ⋯ menu ----------------------------------------------------------------

def test_row_menu_is_one_button_whose_items_load_when_it_is_first_opened(client, auth, agency):
    auth.login("owner@example.test")
    pid = agency["profiles"]["expired"].id
    html = text(client.get("/accounts"))
    row = html.split(f'id="profile-row-{pid}"')[1].split("</tr>")[0]
    # A ⋯ button named "More actions for" the profile's name and network (six rows of one client told
    # apart by their network), whose items load when it is opened (menu.js).
    assert f'<button type="button" class="menu-button more-button" id="row-menu-button-{pid}" ' \
           f'aria-labelledby="more-actions n{pid} o{pid}" data-menu-items="/accounts/{pid}/menu"></button>' in row
    assert '<span id="more-actions" hidden>More actions for</span>' in html
    assert f'<a id="n{pid}" href="/accounts/{pid}">Cafe Page</a><small id="o{pid}">Facebook · @cafepage</small>' in row
    assert f'href="/accounts/{pid}/managers"' not in html and "See all managers" not in html
    # Only the row's own Renew Token button, for a token at risk, is in the page.
    assert html.count(">Renew Token<") == 4


def test_check_now_is_offered_to_who_may_renew_a_token_not_known_dead(client, auth, agency):
    profiles = agency["profiles"]
    auth.login("owner@example.test")
    valid = profiles["valid"].id
    items = text(menu(client, valid))
    assert re.search(rf'<form method="post" action="/profiles/{valid}/check" class="inline-form" role="none">', items)
    assert 'name="next" value="/accounts"' in items
    assert "Check now<span class=\"visually-hidden\"> whether the token of Books Page on Facebook works" in items
    assert f"/profiles/{valid}/check" in text(client.get(f"/accounts/{valid}"))
    dead = profiles["revoked"].id  # already known dead: a new consent is what it needs
    assert f"/profiles/{dead}/check" not in text(menu(client, dead))
    assert f"/profiles/{dead}/check" not in text(client.get(f"/accounts/{dead}"))

    auth.login("viewer@example.test")  # sees the expired page, may not renew it
    expired = profiles["expired"].id
    assert f"/profiles/{expired}/check" not in text(menu(client, expired))
    assert auth.post(f"/profiles/{expired}/check").status_code == 403
    assert auth.post(f"/profiles/{agency['stranger'].id}/check").status_code == 404


def test_row_menu_offers_renew_managers_and_notifications(client, auth, agency):
    auth.login("owner@example.test")
    pid = agency["profiles"]["expired"].id
    response = menu(client, pid, page="/accounts?status=expired")
    assert response.status_code == 200 and "HX-Request" in response.headers["Vary"]
    items = text(response)
    assert "<html" not in items and "<tr" not in items
    # Renew Token submits the page's one form; htmx swaps the row (the table says which) for the fragment.
    assert f'<button role="menuitem" form="renew-rows" formaction="/profiles/{pid}/renew" ' \
           f'hx-post="/profiles/{pid}/renew" name="fragment" value="/accounts/{pid}/row">Renew Token' in items
    assert f'role="menuitem" href="/accounts/{pid}/managers"' in items
    assert f'hx-get="/accounts/{pid}/managers" hx-target="#dialog-slot"' in items
    assert f'href="/settings/personal?profile={pid}#notifications"' in items
    # The link's page leads back to the list the person came from.
    assert f'role="menuitem" href="/accounts/{pid}/send-link?next=/accounts?status%3Dexpired">Send renewal link' in items


def test_send_renewal_link_is_left_out_while_its_page_does_not_exist(app, client, auth, agency, monkeypatch):
    monkeypatch.delitem(app.view_functions, "links.send", raising=False)
    auth.login("owner@example.test")
    assert "Send renewal link" not in text(menu(client, agency["profiles"]["expired"].id))


def test_renew_from_a_row_keeps_the_filtered_page_as_next(client, auth, agency):
    auth.login("owner@example.test")
    html = text(client.get("/accounts?status=expired&q=cafe"))
    assert 'name="next" value="/accounts?status=expired&amp;q=cafe"' in html
    pid = agency["profiles"]["expired"].id
    # One form for every row's Renew Token, which names the row's fragment; the table swaps the row.
    assert re.search(r'<form id="renew-rows" method="post" hidden>\s*<input type="hidden" name="csrf_token" value="[^"]+">\s*'
                     r'<input type="hidden" name="next" value="/accounts\?status=expired&amp;q=cafe">\s*</form>', html)
    assert '<tbody hx-target="closest tr" hx-swap="outerHTML">' in html
    assert f'id="r{pid}" aria-labelledby="r{pid} n{pid} o{pid}" form="renew-rows" formaction="/profiles/{pid}/renew" ' \
           f'hx-post="/profiles/{pid}/renew" name="fragment" value="/accounts/{pid}/row">Renew Token</button>' in html


def fragment_of(html):
    return re.search(r'name="fragment" value="([^"]+)"', html).group(1).replace("&amp;", "&")


def test_a_silent_renewal_from_a_row_leads_to_the_row_and_the_event(client, auth, agency, session, monkeypatch):
    from portal.renewal import views as renewal_views
    from portal.renewal.silent import Outcome, Result

    pid = agency["profiles"]["expiring"].id

    def renewed(profile_id, adapter, **kwargs):
        """What a silent renewal leaves behind: a later expiry and its attempt."""
        session.rollback()
        current = session.exec(select(Credential).where(Credential.profile_id == profile_id,
                                                      Credential.superseded_at.is_(None))).one()
        current.expires_at = utcnow() + timedelta(days=60)
        current.last_refreshed_at = utcnow()
        session.add(current)
        session.add(RenewalAttempt(profile_id=profile_id, user_id=agency["people"]["owner"].id, mode="silent",
                                 outcome="renewed", finished_at=utcnow()))
        changed(session, profile_id=profile_id)  # as every write the pages show does (portal.versions)
        session.commit()
        return Outcome(Result.RENEWED)

    monkeypatch.setattr(renewal_views, "renew_silently", renewed)
    auth.login("owner@example.test")
    token = csrf_token(client)
    fragment = fragment_of(text(client.get("/accounts?status=expiring")))
    assert fragment == f"/accounts/{pid}/row"
    page = {"HX-Current-URL": "http://localhost/accounts?status=expiring"}  # htmx sends it, the redirect too
    form = {"csrf_token": token, "next": "/accounts?status=expiring", "fragment": fragment}
    renewal = client.post(f"/profiles/{pid}/renew", data=form, headers={**HTMX, "HX-Target": f"profile-row-{pid}"})
    # The renewal knows no page: it leads to the fragment its form names.
    assert renewal.status_code == 303 and renewal.headers["Location"] == fragment
    response = client.get(fragment, headers={**HTMX, **page})
    assert response.status_code == 200
    assert response.headers["HX-Trigger"] == "tokens-changed"
    body = text(response)
    assert body.strip().startswith(f'<tr id="profile-row-{pid}" class="status-valid">')
    assert "The token of Cafe LinkedIn is renewed." in body and "by Olivia Owner" in body
    assert "autofocus" in body  # on the row's menu button, where the button that renewed was
    # The message is spent: the row again, or the next page, does not repeat it.
    assert "is renewed" not in text(client.get(fragment, headers=HTMX))
    assert 'name="next" value="/accounts?status=expiring"' in body
    # The counts of the page it is on, and what is left to renew, follow.
    assert '<hx-partial hx-target="#count-expiring" hx-swap="innerHTML">1</hx-partial>' in body
    assert '<hx-partial hx-target="#count-valid" hx-swap="innerHTML">2</hx-partial>' in body
    assert '<hx-partial hx-target="#renew-all-bar" hx-swap="outerHTML">' in body
    assert 'name="network" value="linkedin_company"' not in body
    assert 'name="network" value="youtube"' in body
    # Elsewhere (the dropdown, a plain form) the renewal still answers with a redirect to `next`.
    plain = client.post(f"/profiles/{pid}/renew", data={"csrf_token": token, "next": "/accounts"})
    assert plain.status_code == 303 and plain.headers["Location"].endswith("/accounts")


@pytest.mark.parametrize("fragment", ["https://evil.example/accounts/1/row", "//evil.example/accounts", "/nowhere",
                                      "/accounts/renew-all", "javascript:alert(1)", ""])
def test_a_renewal_leads_only_to_a_fragment_of_this_app(client, auth, agency, monkeypatch, fragment):
    from portal.renewal import views as renewal_views
    from portal.renewal.silent import Outcome, Result

    monkeypatch.setattr(renewal_views, "renew_silently", lambda *args, **kwargs: Outcome(Result.RENEWED))
    auth.login("owner@example.test")
    pid = agency["profiles"]["expiring"].id
    response = client.post(f"/profiles/{pid}/renew", headers=HTMX,
                           data={"csrf_token": csrf_token(client), "next": "/accounts", "fragment": fragment})
    assert response.status_code == 200 and response.headers["HX-Redirect"] == "/accounts"


# --- the header dropdown --------------------------------------------------------

def test_every_signed_in_page_counts_tokens_at_risk_and_loads_the_list_when_opened(client, auth, agency):
    auth.login("owner@example.test")
    for path in ("/", "/accounts", "/settings/personal"):
        html = text(client.get(path))
        slot = re.search(r'<div id="expired-tokens"[^>]*>', html, re.S).group(0)
        assert 'hx-get="/accounts/expired-tokens/dropdown"' in slot
        assert 'hx-trigger="tokens-changed from:body"' in slot
        assert re.search(r'aria-expanded="false" aria-controls="expired-tokens-panel">.*?<span class="tokens-label">Expired Tokens</span>\s*'
                         r'<span class="badge">4</span>', html, re.S)
        panel = re.search(r'<div class="tokens-panel" id="expired-tokens-panel"[^>]*></div>', html, re.S).group(0)
        assert 'hx-get="/accounts/expired-tokens" hx-trigger="dropdown-open once"' in panel
        assert "token-item" not in html
        # Without JavaScript the button leads to the list as a page.
        assert '<form class="tokens-toggle" method="get" action="/accounts/expired-tokens">' in html


def test_tokens_changed_reloads_the_count_with_the_list_still_to_load(client, auth, agency, session):
    auth.login("owner@example.test")
    html = text(client.get("/accounts/expired-tokens/dropdown", headers=HTMX))
    assert "<html" not in html and header_badge(html) == '<span class="badge">4</span>'
    assert 'hx-trigger="dropdown-open once"' in html and "token-item" not in html
    expiring = session.exec(select(Credential).where(Credential.profile_id == agency["profiles"]["expiring"].id)).one()
    expiring.expires_at = utcnow() + timedelta(days=40)
    session.add(expiring)
    changed(session, profile_id=expiring.profile_id)  # as every write the pages show does (portal.versions)
    session.commit()
    assert header_badge(text(client.get("/accounts/expired-tokens/dropdown", headers=HTMX))) == \
        '<span class="badge">3</span>'


def test_dropdown_lists_tokens_at_risk_most_urgent_first(client, auth, agency):
    auth.login("owner@example.test")
    response = client.get("/accounts/expired-tokens",
                          headers={**HTMX, "HX-Current-URL": "http://localhost/accounts?status=valid"})
    assert response.status_code == 200 and "HX-Request" in response.headers["Vary"]
    html = text(response)
    assert "<html" not in html and "tokens-button" not in html  # the panel's content only
    names = dropdown_names(html)
    assert set(names[:2]) == {"Cafe Page", "Books Gram"}
    assert names[2:] == ["Cafe LinkedIn", "Cafe Tube"]
    assert "Expired · Password changed on Instagram (Business)" in html
    assert "Expires in 3 days" in html
    assert html.count(">Renew Token<") == 4
    # One form, its way back once, and a button for each profile's renewal.
    assert html.count('name="next" value="/accounts?status=valid"') == 1
    ids = {profile.name: profile.id for profile in agency["profiles"].values()}
    assert re.findall(r'formaction="/profiles/(\d+)/renew"', html) == [str(ids[name]) for name in names]
    assert 'role="menu"' not in html  # a disclosure of links and buttons, not a menu


def test_dropdown_follows_the_current_brand(client, auth, agency):
    auth.login("owner@example.test")
    with client.session_transaction() as cookie:
        cookie["brand_id"] = agency["brands"]["books"].id
    html = text(client.get("/accounts/expired-tokens", headers=HTMX))
    assert dropdown_names(html) == ["Books Gram"]
    assert "See all expired tokens" not in html
    assert header_badge(text(client.get("/"))) == '<span class="badge">1</span>'


def test_the_dropdown_lists_the_twenty_most_urgent_and_links_to_the_page_of_them_all(client, auth, app, session):
    org = f.organization(session)
    f.member(session, org, role="owner", email="boss@example.test")
    make_profiles(app, session, org, 60)
    auth.login("boss@example.test")
    at_risk = int(re.search(r'<span class="badge">(\d+)</span>', text(client.get("/"))).group(1))
    page = text(client.get("/accounts/expired-tokens"))
    everyone = dropdown_names(page)
    assert len(everyone) == at_risk > 20
    dropdown = text(client.get("/accounts/expired-tokens", headers=HTMX))
    assert dropdown_names(dropdown) == everyone[:20]
    assert '<a href="/accounts/expired-tokens">See all expired tokens</a>' in dropdown
    assert "See all expired tokens" not in page


def test_the_dropdown_links_to_the_page_only_from_its_twenty_first_profile(client, auth, app, session):
    org = f.organization(session)
    f.member(session, org, role="owner", email="boss@example.test")
    auth.login("boss@example.test")
    for made, count in ((0, 20), (20, 21)):
        session.rollback()
        with app.app_context():
            for n in range(made, count):
                f.credential(session, f.profile(session, org, "facebook", name=f"Client {n:02d}"),
                             expires_in=timedelta(days=-1))
        dropdown = text(client.get("/accounts/expired-tokens", headers=HTMX))
        assert len(dropdown_names(dropdown)) == 20
        assert ("See all expired tokens" in dropdown) is (count == 21)


def test_dropdown_says_when_every_token_is_healthy(client, auth, session):
    org = f.organization(session)
    f.member(session, org, role="owner", email="calm@example.test")
    auth.login("calm@example.test")
    html = text(client.get("/accounts/expired-tokens", headers=HTMX))
    assert "All your tokens are healthy" in html
    assert header_badge(text(client.get("/"))) == '<span class="badge badge-zero">0</span>'


def test_without_javascript_the_dropdown_is_a_page(client, auth, agency):
    auth.login("owner@example.test")
    html = text(client.get("/accounts/expired-tokens"))
    assert "<html" in html and "<h1>Expired Tokens</h1>" in html
    assert html.count(">Renew Token<") == 4
    assert 'name="next" value="/accounts/expired-tokens"' in html


# --- See all managers -----------------------------------------------------------

def test_see_all_managers_lists_who_relates_and_who_can_renew(client, auth, agency, session):
    p, people = agency["profiles"], agency["people"]
    now = utcnow()
    session.add(NativeRole(profile_id=p["expired"].id, user_id=people["owner"].id, can_renew=CanRenew.YES,
                         role="Admin", observed_at=now - timedelta(days=3)))
    session.add(NativeRole(profile_id=p["expired"].id, user_id=people["viewer"].id, can_renew=CanRenew.NO,
                         role="Analyst", observed_at=now))
    session.add(NativeRole(profile_id=p["expired"].id, user_id=people["manager"].id, can_renew=CanRenew.UNKNOWN,
                         role="", observed_at=now))
    session.commit()
    auth.login("owner@example.test")
    response = client.get(f"/accounts/{p['expired'].id}/managers", headers=HTMX)
    html = text(response)
    assert html.strip().startswith("<dialog class=\"managers-dialog\" data-dialog")
    assert "Full control (Admin) of the Facebook Page" in html
    assert "Can renew tokens" in html
    names = re.findall(r"<td><strong>([^<]+)</strong>", html)
    assert names == ["Olivia Owner", "Max Manager", "Ada Admin", "Vic Viewer"]
    assert "Oscar Outsider" not in html
    assert '<span aria-hidden="true">✓</span><span class="visually-hidden">Can renew</span>' in html
    assert '<span aria-hidden="true">X</span><span class="visually-hidden">Cannot renew</span>' in html
    assert '<span class="visually-hidden">Unknown: held a token before</span>' in html
    assert "Analyst" in html and "Admin on this profile" in html
    page = client.get(f"/accounts/{p['expired'].id}/managers")
    assert "<html" in text(page) and "<dialog" not in text(page)
    assert "Managers of Cafe Page" in text(page)


# --- profile details ------------------------------------------------------------

def test_profile_details_show_history_attempts_and_what_stops(client, auth, agency, session, app):
    p, people = agency["profiles"], agency["people"]
    now = utcnow()
    with app.app_context():
        old = f.credential(session, p["revoked"], expires_in=timedelta(days=-30), granted_by_id=people["manager"].id,
                           superseded_at=now - timedelta(days=30), created_at=now - timedelta(days=90))
    session.add(RenewalAttempt(profile_id=p["revoked"].id, user_id=people["owner"].id, mode="interactive",
                             outcome="failed", reason="insufficient_permission", finished_at=now))
    session.add(AuditEvent(organization_id=agency["org"].id, profile_id=p["revoked"].id, action="token.failed",
                           data={"mode": "health_check", "reason": "password_changed"}))
    session.commit()
    auth.login("owner@example.test")
    html = text(client.get(f"/accounts/{p['revoked'].id}"))
    assert "<h1>Books Gram</h1>" in html
    assert "Stopped while the token is expired" in html
    assert "Publishing" in html and "Inbox" in html and "Reports" in html
    assert "Credential history" in html and "Max Manager" in html and "Replaced" in html
    assert "Password changed on Instagram (Business)" in html
    assert old.id and "The account on Instagram (Business) lacks the rights to renew it." in html
    assert "Renewal failed" in html and "Health check: Password changed at the network" in html
    assert "token.failed" not in html and "password_changed" not in html
    assert "Last health check" in html


def test_profile_details_show_meta_data_access_and_youtube_deadline(client, auth, agency):
    auth.login("owner@example.test")
    html = text(client.get(f"/accounts/{agency['profiles']['valid'].id}"))
    assert "Data access expires" in html
    assert "What stops if the token expires" in html
    html = text(client.get(f"/accounts/{agency['profiles']['youtube'].id}"))
    assert "If this token expires, YouTube data is deleted 7 days later" in html
    html = text(client.get(f"/accounts/{agency['profiles']['expired'].id}"))
    assert "YouTube" not in html.split("<main")[1].split("Credential history")[0]


# --- Try renewing all -------------------------------------------------------------

def queued_jobs(app):
    connection = Redis.from_url(app.config["REDIS_URL"])
    return connection, Queue(app.config["QUEUE_NAME"], connection=connection).jobs


def test_try_renewing_all_is_offered_per_network_with_tokens_to_renew(client, auth, agency):
    auth.login("owner@example.test")
    html = text(client.get("/accounts"))
    offered = re.findall(r'name="network" value="([a-z_]+)"', html)
    assert offered == ["facebook", "instagram_business", "linkedin_company", "youtube"]
    html = text(client.get("/accounts?network=youtube"))
    assert re.findall(r'name="network" value="([a-z_]+)"', html) == ["youtube"]


def test_try_renewing_all_enqueues_the_job_and_polls_its_progress(app, client, auth, agency):
    auth.login("owner@example.test")
    org, owner = agency["org"], agency["people"]["owner"]
    token = csrf_token(client)
    response = client.post("/accounts/renew-all", data={"csrf_token": token, "network": "facebook",
                                                        "next": "/accounts"}, headers=HTMX)
    assert response.status_code == 200
    connection, jobs = queued_jobs(app)
    assert len(jobs) == 1
    job = jobs[0]
    assert job.func_name == "jobs.renewal.renew_all"
    assert job.args == (org.id, "facebook", owner.id)
    assert job.meta["organization_id"] == org.id
    body = text(response)
    url = f"/accounts/renew-all/{job.id}"
    assert f'hx-get="{url}" hx-trigger="every 1s" hx-swap="outerHTML"' in body
    assert "0 of 1 tried" in body
    # The worker reports its progress in job.meta; the fragment follows it.
    job.meta.update(done=1, total=2)
    job.save_meta()
    polled = client.get(url, headers=HTMX)
    assert "1 of 2 tried" in text(polled) and "every 1s" in text(polled)
    assert "HX-Trigger" not in polled.headers
    p = agency["profiles"]
    job.meta.update(done=3, total=3, finished=True, renewed=[p["youtube"].id], needs_consent=[p["expired"].id],
                    failed=[[p["valid"].id, "unavailable"]])
    job.save_meta()
    done = client.get(url, headers=HTMX)
    html = text(done)
    assert "every 1s" not in html and "hx-get" not in html  # polling stops
    assert done.headers["HX-Trigger"] == "tokens-changed"
    assert "1 token renewed:" in html and "Cafe Tube" in html
    assert "1 needs your consent on the network" in html
    assert f'action="/profiles/{p["expired"].id}/renew"' in html
    assert "Books Page" in html and "Facebook is not answering right now" in html
    # Without JavaScript the same progress is a page.
    assert "<html" in text(client.get(url))
    connection.close()


def test_try_renewing_all_without_javascript_redirects_to_the_progress_page(app, client, auth, agency):
    auth.login("owner@example.test")
    token = csrf_token(client)
    response = client.post("/accounts/renew-all", data={"csrf_token": token, "network": "youtube"})
    assert response.status_code == 303
    connection, jobs = queued_jobs(app)
    assert response.headers["Location"] == f"/accounts/renew-all/{jobs[0].id}"
    connection.close()


def test_try_renewing_all_asks_one_consent_per_grant_not_per_page(app, client, auth, session, agency):
    """One person's Facebook consent renews every Page of theirs: the Pages
    they granted get one button; a Page granted by nobody known, its own."""
    p, owner = agency["profiles"], agency["people"]["owner"]
    events = f.profile(session, agency["org"], "facebook", name="Cafe Events")
    with app.app_context():
        f.credential(session, events, expires_in=timedelta(days=-2), granted_by_id=owner.id)
    connection = Redis.from_url(app.config["REDIS_URL"])
    pages = [p["expired"].id, p["valid"].id, events.id]
    job = Job.create("jobs.renewal.renew_all", args=(agency["org"].id, "facebook", owner.id), connection=connection,
                     meta={"organization_id": agency["org"].id, "network": "facebook", "done": 3, "total": 3,
                           "finished": True, "renewed": [], "needs_consent": pages, "failed": []})
    job.save()
    auth.login("owner@example.test")
    html = text(client.get(f"/accounts/renew-all/{job.id}", headers=HTMX))
    assert "3 need your consent on the network" in html
    assert re.search(rf'<span>Cafe Page, Cafe Events</span>\s*<form method="post" action="/profiles/{p["expired"].id}/renew"',
                     html)
    assert "Renew 2 with one consent" in html
    assert f'action="/profiles/{events.id}/renew"' not in html
    assert f'action="/profiles/{p["valid"].id}/renew"' in html and html.count(">Renew Token<") == 1
    job.delete()
    connection.close()


def test_renew_all_progress_of_another_organization_is_not_found(app, client, auth, agency):
    connection = Redis.from_url(app.config["REDIS_URL"])
    job = Job.create("jobs.renewal.renew_all", args=(agency["other"].id, "facebook", 1), connection=connection,
                     meta={"organization_id": agency["other"].id, "network": "facebook"})
    job.save()
    auth.login("owner@example.test")
    assert client.get(f"/accounts/renew-all/{job.id}").status_code == 404
    assert client.get("/accounts/renew-all/no-such-job").status_code == 404
    job.delete()
    connection.close()


def test_renew_all_refuses_a_bad_network_and_has_nothing_to_do_for_a_viewer(app, client, auth, agency):
    auth.login("viewer@example.test")
    token = csrf_token(client)
    assert client.post("/accounts/renew-all", data={"csrf_token": token, "network": "myspace"}).status_code == 400
    response = client.post("/accounts/renew-all", data={"csrf_token": token, "network": "facebook"})
    assert response.status_code == 303
    connection, jobs = queued_jobs(app)
    assert jobs == []
    connection.close()


# --- queries --------------------------------------------------------------------

class QueryCounter:
    def __init__(self, engine):
        self.engine, self.count = engine, 0

    def __call__(self, *args):
        self.count += 1

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self)
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self)


def profile_ids(session, org):
    return session.exec(select(SocialProfile.id).where(SocialProfile.organization_id == org.id)).all()


def queries_for(app, client, path, headers=None):
    with QueryCounter(app.extensions["keepalive.engine"]) as counter:
        assert client.get(path, headers=headers or {}).status_code == 200
    return counter.count


COUNTED = (("/accounts", None), ("/accounts?status=expired&network=facebook", HTMX), ("/accounts/expired-tokens", HTMX),
           ("/", None), ("/settings/personal", None))


def test_queries_do_not_grow_with_the_number_of_profiles(app, client, auth, session):
    org = f.organization(session)
    owner = f.member(session, org, role="owner", email="counted@example.test")
    brand = f.brand(session, org, "Counted")
    make_profiles(app, session, org, 5, brand)
    for profile_id in profile_ids(session, org)[:3]:
        session.add(RenewalAttempt(profile_id=profile_id, user_id=owner.id, mode="silent", outcome="renewed"))
    session.commit()
    auth.login("counted@example.test")
    small = {path: queries_for(app, client, path, headers)
             for path, headers in COUNTED}
    make_profiles(app, session, org, 55, brand)
    for profile_id in profile_ids(session, org)[5:50]:
        session.add(RenewalAttempt(profile_id=profile_id, user_id=owner.id, mode="silent", outcome="renewed"))
    session.commit()
    large = {path: queries_for(app, client, path, headers)
             for path, headers in COUNTED}
    assert large == small
    assert small["/accounts"] <= 12 and small["/accounts/expired-tokens"] <= 8


@pytest.mark.slow
@pytest.mark.worker
def test_try_renewing_all_through_a_real_worker_ends_with_the_summary(app, client, auth, agency):
    from tests.conftest import run_jobs

    auth.login("owner@example.test")
    token = csrf_token(client)
    # Instagram (Business) has one revoked token: the job asks for consent without calling the network.
    response = client.post("/accounts/renew-all", data={"csrf_token": token, "network": "instagram_business"})
    assert response.status_code == 303
    assert run_jobs(app) == (1, 0)
    html = text(client.get(response.headers["Location"], headers=HTMX))
    assert "every 1s" not in html
    assert "No token was renewed without you." in html and "1 needs your consent on the network" in html
    assert "0 tokens renewed" not in html and "summary-renewed" not in html  # nothing green said of nothing
    assert f'action="/profiles/{agency["profiles"]["revoked"].id}/renew"' in html


@pytest.mark.parametrize("can_manage_profiles", [False, True])
def test_sending_a_renewal_link_takes_what_renewing_takes(client, auth, session, app, can_manage_profiles):
    """A link renews by other hands: without "manage social profiles" a Member's
    Admin level sends none, and the menu says why."""
    org = f.organization(session)
    member = f.member(session, org, role="member", can_manage_profiles=can_manage_profiles)
    admin_profile = f.profile(session, org, name="Admin Page")
    viewer_profile = f.profile(session, org, name="Viewer Page")
    with app.app_context():
        f.credential(session, admin_profile)
        f.credential(session, viewer_profile)
    f.access(session, member, admin_profile, "admin")
    f.access(session, member, viewer_profile, "viewer")
    auth.login(member.email)
    admin_menu, viewer_menu = (text(menu(client, profile.id)) for profile in (admin_profile, viewer_profile))
    assert (f'href="/accounts/{admin_profile.id}/send-link?' in admin_menu) is can_manage_profiles
    assert f'href="/accounts/{viewer_profile.id}/send-link' not in viewer_menu
    reason = ("You may not renew this token: it needs the Admin level on this profile." if can_manage_profiles
              else "You may not renew tokens: ask an Owner or Manager for &#34;Manage social profiles&#34;.")
    assert reason in viewer_menu


# --- rules ----------------------------------------------------------------------

def test_consent_groups_share_one_consent_per_grantor_where_the_network_allows():
    from types import SimpleNamespace as Row

    from portal.accounts.rules import consent_groups

    def row(name, grantor, renew=True):
        return Row(name=name, credential=Row(granted_by_id=grantor) if grantor != "none" else None, renew=renew)

    a, b, c, d = row("a", 1, renew=False), row("b", 2), row("c", 1), row("d", None)
    e, gone = row("e", "none"), "A profile known only by its name"
    groups = consent_groups([a, b, c, d, e, gone], one_consent_for_many=True)
    assert [group.items for group in groups] == [(a, c), (b,), (d,), (e,), (gone,)]
    assert [group.renew for group in groups] == [c, b, d, e, None]  # the first the person may renew
    assert [group.items for group in consent_groups([a, b, c], one_consent_for_many=False)] == [(a,), (b,), (c,)]
