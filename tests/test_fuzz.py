"""No input gets a 500: hostile values in every form field, query parameter
and path argument of every route of the URL map, sent as each role (Owner,
Manager, Member, the holder of an API key, signed out), in forms, JSON and
file bodies, with and without htmx's headers (malformed ones among them).

Property-based (Hypothesis): each route and method is a case of its own, and
each example sends one request as every role. The examples are bounded (a
fixed `max_examples`) and, under CI, derandomized: the same requests every
run. An answer of 500 or more fails, and so does a header a WSGI server
could not write (HTTP headers are Latin-1: a non-Latin-1 `HX-Redirect` drops
the connection).

The fields are those the pages send and the views read (FIELDS, held to the
templates, the forms and the views by `test_fields_cover_the_pages_and_views`);
a route added later is fuzzed without touching this file.
"""
import io
import json
import os
import re
from pathlib import Path
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, Phase, given, settings, strategies as st
from sqlmodel import select

from portal.api import schemas
from portal.models import Membership, ProfileAccess
from tests import factories
from tests.conftest import Auth, csrf_token
from tests.test_isolation import build_agency, scratch_app

ROOT = Path(__file__).resolve().parent.parent

# Blueprints not fuzzed here, and why.
NOT_FUZZED = {
    # The sandbox plays the social networks (the outside world) and /dev/mail
    # shows captured mail: development tools, never mounted in production.
    "sandbox": "the social networks' stand-in",
    "devmail": "a development tool",
}

# Every form field and query parameter a page sends or a view reads;
# `<id>` stands for a profile's id in the names that carry one.
FIELDS = (
    "next", "q", "page", "show", "status", "network", "brand", "brand_id", "organization_id", "bell", "profile",
    "email", "password", "remember", "confirm", "name", "new_password", "current_password", "confirm_password",
    "language", "locale", "role", "can_manage_profiles", "enabled", "all", "level", "level-<id>", "by", "token",
    "events", "active", "url", "slack_url", "remove", "expiry_window_days", "notification_thresholds",
    "scope", "go", "notify_q", "notify_page", "push", "login_warning", "email-<id>", "push-<id>",
    "state", "code", "error", "error_description", "agency_name", "expires_on", "fragment", "new_brand", "scopes",
    "selected", "shown", "timezone", "days", "from", "to", "kind", "lang", "message", "networks", "person",
    # the token API's query strings and JSON bodies
    "cursor", "limit", "min_valid_seconds", "force_refresh", "exclude", "http_status", "error_code", "recipient",
)

# Values that have broken parsers before: control characters, numbers in
# other scripts or too long for int(), ids past 2^63 - 1, very long text,
# paths that leave the site, text outside Latin-1.
HOSTILE = (
    "", " ", "0", "-1", "1", "2", "²", "١٢", "１２", "9" * 5000, str(2**31), str(2**63 - 1), str(2**63), str(2**64),
    "1e400", "NaN", "\x00", "a\x00b", "line\r\nBcc: someone@example.test", "\x1b[31m", "\u202etxt.exe", "x" * 5000,
    "é" * 3000, "/\u2603", "/é?x=ü", "//evil.example", "/\\evil.example", "https://evil.example/", "javascript:alert(1)",
    "<script>alert(1)</script>", "' OR 1=1 --", "%00", "%ff%fe", "on", "true", "y", "admin", "owner", "page-²",
    "page-" + "9" * 5000, "search", "save", "profile", "all", "token.expired", "@example.test", "a@b", "a" * 300 + "@example.test",
)

# Fields that lead somewhere (a redirect, a page of a list, an object by id):
# every request draws some of them.
LEADING = ("next", "page", "q", "brand", "brand_id", "organization_id", "profile", "go", "notify_page", "scope",
           "level-<id>", "email-<id>")

NO_SURROGATES = st.characters(exclude_categories=("Cs",))
LATIN1 = st.characters(max_codepoint=255, exclude_characters="\r\n")

hostile_values = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(NO_SURROGATES, max_size=30),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
)


def values(ids):
    """A hostile value, or the id of a real object (which gets further in)."""
    return st.one_of(hostile_values, st.sampled_from(ids).map(str))
header_values = st.one_of(
    st.sampled_from(("true", "false", "", "http://[::1", "http://localhost/accounts?page=²", "::::",
                     "http://localhost/\xe9", "//evil.example/x", "http://localhost:99999999/", "\x00", "x" * 5000)),
    st.text(LATIN1, max_size=30),
)
htmx_headers = st.fixed_dictionaries({}, optional={
    "HX-Request": st.sampled_from(("true", "true", "false")),
    **{name: header_values for name in ("HX-Current-URL", "HX-Target", "HX-Boosted", "HX-History-Restore-Request",
                                        "HX-Trigger", "HX-Trigger-Name", "HX-Prompt")},
})
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(NO_SURROGATES, max_size=20),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3),
    max_leaves=8,
)
BODY_KINDS = ("form", "form", "json", "json-fields", "file", "raw")
RAW_TYPES = ("text/plain", "application/xml", "multipart/form-data; boundary=", "application/x-www-form-urlencoded; "
             "charset=utf-16", "application/json", "multipart/form-data")

# The people of the agency, the holder of its API key, and someone signed out.
ROLES = ("owner", "manager", "member", "api key", None)
# FUZZ_EXAMPLES=200 searches deeper, locally (a minute per route or so).
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "6"))
CI = bool(os.environ.get("CI"))
ARGUMENT = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")


def fuzzed_routes():
    """(endpoint, method, rule) of every rule of the URL map outside NOT_FUZZED."""
    return [
        pytest.param(endpoint, method, rule, id=f"{method} {endpoint}")
        for endpoint, methods, rule in all_rules()
        if endpoint.partition(".")[0] not in NOT_FUZZED
        for method in sorted(methods - {"HEAD", "OPTIONS"})
    ]


def all_rules():
    with scratch_app() as app:
        return sorted((rule.endpoint, rule.methods, rule.rule) for rule in app.url_map.iter_rules())


@pytest.fixture
def people(app, session):
    """An agency with one of every object a URL names, an Owner, a Manager
    and a Member who renews one profile; a client signed in as each, and
    one signed out."""
    with app.app_context():  # API keys are hashed with the app's secret
        own, other = build_agency(session, "Alpha"), build_agency(session, "Bravo")

    manager = factories.member(session, own["organization"], role="manager", email="manager@alpha.test")
    membership = session.exec(select(Membership).where(Membership.user_id == own["member"].id)).one()
    access = session.exec(select(ProfileAccess).where(ProfileAccess.user_id == own["member"].id)).one()
    membership.can_manage_profiles, access.level = True, "admin"
    session.add_all([membership, access])
    session.commit()
    clients = {}
    for role, person in (("owner", own["owner"]), ("manager", manager), ("member", own["member"]), (None, None)):
        client = app.test_client()
        if person is not None:
            assert Auth(client).login(person.email).status_code in (302, 303)
        clients[role] = (client, {"X-CSRFToken": csrf_token(client)})
    clients["api key"] = (app.test_client(), {"Authorization": f"Bearer {own['api_secret']}"})
    ids = sorted({row.id for row in (*own.values(), *other.values()) if hasattr(row, "id")} | {manager.id})
    return clients, ids


def path_for(rule, draw, ids):
    """The rule's path with a drawn value for each argument: a real id or a
    hostile number for an integer, a hostile text (quoted) for the rest."""
    def value(match):
        converter = match.group(1)
        if converter == "int":
            return draw(st.one_of(st.sampled_from(ids).map(str),
                                  st.sampled_from(("0", str(2**31 - 1), str(2**31), str(2**63), "9" * 5000, "١٢")),
                                  st.integers(min_value=0, max_value=2**80).map(str)))
        return quote(draw(values(ids)), safe="")

    return ARGUMENT.sub(value, rule)


def fields(draw, ids):
    """Some fields, each with one to three values."""
    names = draw(st.lists(st.sampled_from(LEADING), unique=True, max_size=4))
    names += draw(st.lists(st.sampled_from(FIELDS), unique=True, max_size=6))
    chosen = {}
    for name in names:
        if "<id>" in name:
            name = name.replace("<id>", draw(values(ids)))
        chosen[name] = draw(st.lists(values(ids), min_size=1, max_size=3))
    return chosen


def request_of(draw, method, path, ids):
    """The keyword arguments of `client.open` for one hostile request."""
    query, form = fields(draw, ids), fields(draw, ids)
    request = {"method": method, "query_string": query, "headers": draw(htmx_headers)}
    if method != "GET":
        kind = draw(st.sampled_from(BODY_KINDS))
        if kind == "form":
            request["data"] = form
        elif kind == "json":
            request["json"] = draw(json_values)
        elif kind == "json-fields":  # what the token API reads, with values of any JSON type
            request["json"] = {name: draw(st.one_of(json_values, values(ids).map(int_or_text)))
                               for name in draw(st.lists(st.sampled_from(FIELDS), unique=True, max_size=6))}
        elif kind == "file":
            request["data"] = {**form, "file": (draw(st.binary(max_size=200)), draw(hostile_values)[:50] or "x")}
        else:
            request["data"] = draw(st.binary(max_size=300))
            request["content_type"] = draw(st.sampled_from(RAW_TYPES))
    return request


def int_or_text(text):
    return int(text) if text.isascii() and text.lstrip("-").isdigit() and len(text) < 4000 else text


def unwritable_headers(response):
    """Headers a WSGI server could not send: HTTP header values are Latin-1."""
    bad = []
    for name, value in response.headers.items():
        try:
            value.encode("latin-1")
        except UnicodeEncodeError:
            bad.append(name)
    return bad


@pytest.mark.parametrize(("endpoint", "method", "rule"), fuzzed_routes())
@settings(max_examples=EXAMPLES, derandomize=CI, deadline=None, database=None, phases=(Phase.generate,),
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(data=st.data())
def test_no_input_gets_a_500(people, endpoint, method, rule, data):
    clients, ids = people
    path = path_for(rule, data.draw, ids)
    request = request_of(data.draw, method, path, ids)
    for role in ROLES:
        client, credentials = clients[role]
        sent = dict(request, headers={**request["headers"], **credentials})
        if isinstance(sent.get("data"), dict):
            files = {name: (io.BytesIO(value[0]), value[1]) for name, value in sent["data"].items()
                     if isinstance(value, tuple)}
            token = {"csrf_token": credentials["X-CSRFToken"]} if "X-CSRFToken" in credentials else {}
            sent["data"] = {**token, **sent["data"], **files}
        response = client.open(path, **sent)
        response.get_data()  # a streamed answer (a CSV export) runs to its end
        response.close()
        assert response.status_code < 500, f"{method} {path} as {role or 'signed out'}: {response.status_code}"
        assert not unwritable_headers(response), f"{method} {path} as {role}: {unwritable_headers(response)}"


def test_fields_cover_the_pages_and_views(app):
    """FIELDS names every field of the templates' forms, of the WTForms
    forms and every parameter a view reads by name."""
    names = set()
    for template in (ROOT / "templates").rglob("*.html"):
        names |= set(re.findall(r'<(?:input|select|textarea|button)[^>]*\sname="([^"{]+)"', template.read_text()))
        names |= {f"{prefix}-<id>" for prefix in re.findall(r'\sname="([\w]+)-\{\{', template.read_text())}
    for module in (ROOT / "portal").rglob("*.py"):
        names |= set(re.findall(r'request\.(?:form|args|values)\.get(?:list)?\(\s*"([\w-]+)"', module.read_text()))
    from flask_wtf import FlaskForm
    from wtforms.fields.core import UnboundField

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    for form in subclasses(FlaskForm):
        names |= {name for name in dir(form) if isinstance(getattr(form, name, None), UnboundField)}
    for model in (*schemas.Query.__subclasses__(), *schemas.Body.__subclasses__()):
        names |= set(model.model_fields)
    names -= {"csrf_token"}
    missing = sorted(names - set(FIELDS))
    assert not missing, f"fields no request of the fuzz test sends: {missing}"
