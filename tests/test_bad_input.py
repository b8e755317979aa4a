"""Bad input gets a 4xx (or is ignored), never a 500: ids past 2^63 - 1, digits
of other scripts and numbers too long for `int`, a malformed htmx header, job
ids RQ refuses, JSON and file bodies sent to forms, the send-link dialog as a
fragment, and a `next` outside Latin-1 in `HX-Redirect`. The fuzz test
(`tests/test_fuzz.py`) looks for more of the kind."""
import io
from datetime import timedelta

import pytest
from sqlmodel import select

from portal.models import Membership
from portal.numbers import MAX_ID, whole_number
from tests import factories
from tests.conftest import csrf_token

TOO_BIG = str(MAX_ID + 1)
TOO_LONG = "9" * 5000


@pytest.mark.parametrize(("text", "number"), [
    ("0", 0), ("42", 42), (str(MAX_ID), MAX_ID), (TOO_BIG, None), (str(2**63), None), (TOO_LONG, None), ("²", None),
    ("١٢", None), ("１２", None), ("-1", None), ("+1", None), (" 1", None), ("1.0", None), ("", None), (None, None),
])
def test_a_whole_number_is_ascii_digits_within_bounds(text, number):
    assert whole_number(text) == number


@pytest.fixture
def owner(session, auth):
    made = factories.agency(session, people={"owner": "owner", "member": "member"}, brands=["Shop"],
                            profiles={"page": {"brands": ["Shop"], "credential": {"expires_in": timedelta(days=2)}}})
    made.member_membership = session.exec(
        select(Membership).where(Membership.user_id == made.people["member"].id)).one()
    auth.login(made.owner.email)
    return made


@pytest.mark.parametrize("profile_id", [TOO_BIG, str(2**63), str(2**64), TOO_LONG, "١٢", "²"])
def test_an_id_no_database_row_can_have_is_no_such_page(client, auth, owner, profile_id):
    assert client.get(f"/accounts/{profile_id}").status_code == 404
    assert auth.post(f"/profiles/{profile_id}/renew").status_code == 404
    assert auth.post(f"/notifications/{profile_id}/read").status_code == 404


def test_the_largest_id_a_database_holds_is_looked_up(client, owner):
    assert client.get(f"/accounts/{MAX_ID}").status_code == 404
    assert client.get(f"/accounts/{owner.profiles['page'].id}").status_code == 200


@pytest.mark.parametrize("number", ["²", TOO_LONG, TOO_BIG, str(2**63), "١٢"])
def test_numbers_in_query_strings_and_forms_that_are_no_whole_number(client, auth, owner, number):
    assert client.get("/accounts", query_string={"page": number}).status_code == 200
    assert client.get("/accounts", query_string={"brand": number}).status_code == 400
    assert client.get("/settings/personal", query_string={"notify_page": number, "profile": number}).status_code == 200
    assert client.get("/settings/brands", query_string={"page": number}).status_code == 200
    assert auth.post("/settings/switch", {"organization_id": number}).status_code == 404
    membership = owner.member_membership.id
    assert client.get(f"/settings/access/{membership}", query_string={"brand": number}).status_code == 404
    assert auth.post(f"/settings/access/{membership}", {f"level-{number}": "admin"}).status_code in (302, 303)
    saved = auth.post("/settings/personal/notifications", {"scope": "profile", "profile": number, "go": "save"})
    assert saved.status_code == 400
    moved = auth.post("/settings/personal/notifications", {"scope": "all", "go": f"page-{number}"})
    assert moved.status_code == 400


@pytest.mark.parametrize("current_url", ["http://[::1", "http://[oops/accounts", "::::"])
def test_a_malformed_hx_current_url_is_no_page_to_come_back_to(client, owner, current_url):
    response = client.get("/accounts/expired-tokens", headers={"HX-Request": "true", "HX-Current-URL": current_url})
    assert response.status_code == 200
    assert 'name="next" value="/accounts"' in response.get_data(as_text=True)


@pytest.mark.parametrize("job_id", ["a:b", "x" * 300, "..%2F..", "é"])
def test_a_renew_all_job_id_rq_refuses_is_no_such_page(client, owner, job_id):
    assert client.get(f"/accounts/renew-all/{job_id}").status_code == 404


def test_json_and_file_bodies_sent_to_forms_are_refused(client, owner):
    token = csrf_token(client)
    headers = {"X-CSRFToken": token}
    for body in ([1, 2], {"name": [1, 2]}, 3.5, {"name": {"a": 1}}, "text"):
        assert client.post("/settings/organization", json=body, headers=headers).status_code == 400
        assert client.post("/settings/brands", json=body, headers=headers).status_code == 400
        assert client.post("/login", json=body, headers=headers).status_code in (302, 400)
    upload = {"csrf_token": token, "name": (io.BytesIO(b"\x00\xff"), "name.txt")}
    assert client.post("/settings/brands", data=upload).status_code == 400


def test_the_send_link_dialog_renders_as_an_htmx_fragment(client, auth, owner):
    profile = owner.profiles["page"]
    response = client.get(f"/accounts/{profile.id}/send-link", headers={"HX-Request": "true"})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'id="send-link"' in page and "<html" not in page and 'name="csrf_token"' in page
    refused = auth.post(f"/accounts/{profile.id}/send-link", {"email": "not an address"}, headers={"HX-Request": "true"})
    assert refused.status_code == 400 and 'id="send-link"' in refused.get_data(as_text=True)


def test_a_next_outside_latin1_is_sent_percent_encoded_in_hx_redirect(auth, owner):
    response = auth.post("/settings/switch", {"organization_id": owner.org.id, "next": "/accounts?q=é☃"},
                         headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response.headers["HX-Redirect"] == "/accounts?q=%C3%A9%E2%98%83"


def test_a_multipart_part_without_a_name_is_left_out(client, owner):
    body = b"--x\r\nContent-Disposition: form-data\r\n\r\nvalue\r\n--x--\r\n"
    response = client.post("/settings/brands", data=body, content_type="multipart/form-data; boundary=x")
    assert response.status_code == 400  # no CSRF token: refused, not a 500


def test_a_form_body_sent_to_the_token_api_is_refused(client, session, app):
    from tests.test_isolation import build_agency

    with app.app_context():
        own = build_agency(session, "Alpha")
    headers = {"Authorization": f"Bearer {own['api_secret']}"}
    for path in ("renewal-links", "token/report"):
        response = client.post(f"/api/v1/profiles/{own['profile'].id}/{path}", data={"email": "x"}, headers=headers)
        assert response.status_code == 400
        assert response.get_json()["detail"] == "Send a JSON object."


def test_a_row_menu_opened_without_htmx_is_the_profile_page(client, owner):
    profile = owner.profiles["page"]
    response = client.get(f"/accounts/{profile.id}/menu")
    assert response.status_code == 302 and response.headers["Location"] == f"/accounts/{profile.id}"
    assert client.get(f"/accounts/{profile.id}/menu", headers={"HX-Request": "true"}).status_code == 200


def test_every_form_reads_form_bodies_only(app):
    """Each form derives from `portal.forms.Form`, which takes no JSON body or file for its fields."""
    from flask_wtf import FlaskForm

    from portal.forms import Form

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    forms = [form for form in subclasses(FlaskForm) if form.__module__.startswith("portal.")]
    assert len(forms) > 10
    assert [form.__qualname__ for form in forms if not issubclass(form, Form) and form is not Form] == []
