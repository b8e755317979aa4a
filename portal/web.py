"""What every view shares: page-or-fragment rendering, redirects after POST,
conditional GET, and loading objects only within the signed-in user's
organization."""
import hashlib
import os
from functools import cache, wraps
from urllib.parse import urlsplit

from flask import abort, current_app, g, make_response, redirect, render_template, request, session
from flask_babel import get_locale, get_timezone
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from htmx_flask import HtmxAwareRequest, make_response as htmx_response
from jinja2_fragments.flask import render_block
from sqlmodel import select
from werkzeug.exceptions import HTTPException
from werkzeug.routing import BaseConverter, ValidationError
from werkzeug.urls import iri_to_uri

from portal.db import get_session, utcnow
from portal.numbers import MAX_ID, whole_number
from portal.profiles import time_state

# The event a response names in `HX-Trigger` after a token changed, so that
# every region showing token health (the header dropdown) reloads itself.
TOKENS_CHANGED = "tokens-changed"


def wants_fragment():
    """An htmx request that will swap part of a page (not boosted, not a
    history restore, which need the whole page)."""
    htmx = request.htmx
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def render(template, block=None, status=200, **context):
    """The page, or only `block` of it for an htmx request; always `Vary: HX-Request`."""
    if block and wants_fragment():
        body = render_block(template, block, **context)
    else:
        body = render_template(template, **context)
    response = make_response(body, status)
    response.vary.add("HX-Request")
    return response


def redirect_after_post(location):
    """303 for a plain form; for htmx, a 200 with `HX-Redirect` so the browser
    navigates instead of swapping the target page into a fragment."""
    if request.htmx:
        # A header is Latin-1: a `next` in another script is sent percent-encoded,
        # as werkzeug's redirect does for `Location`.
        response = htmx_response("", 200, redirect=iri_to_uri(location))
    else:
        response = redirect(location, 303)
    response.vary.add("HX-Request")
    return response


class IdConverter(BaseConverter):
    """`<int:...>` in a route: ASCII digits naming a number a database id can
    be (werkzeug's own takes any script's digits and any size, which the
    database refuses with an error): anything else is no such page, a 404."""

    regex = r"[0-9]{1,%d}" % len(str(MAX_ID))
    weight = 50
    part_isolating = True

    def to_python(self, value):
        number = whole_number(value)
        if number is None:
            raise ValidationError()
        return number

    def to_url(self, value):
        return str(int(value))


class Request(HtmxAwareRequest):
    """htmx-flask's request (Flask's, with `request.htmx`), without the parts of a multipart body that have no
    name (werkzeug reads them under the key None, which no code expects:
    Flask-WTF's CSRF check fails on it)."""

    def _load_form_data(self):
        super()._load_form_data()
        for name in ("form", "files"):
            parsed = self.__dict__.get(name)
            if parsed is not None and None in parsed:
                self.__dict__[name] = type(parsed)(
                    (key, value) for key, value in parsed.items(multi=True) if key is not None)


def owned_or_404(model, object_id):
    """`model` row `object_id` if it belongs to the current organization."""
    row = get_session().exec(
        select(model).where(model.id == object_id, model.organization_id == g.organization.id)
    ).first()
    if row is None:
        abort(404)
    return row


def is_safe_next(target):
    """A `next` that stays on this site: a path, not a scheme or another host."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return False
    return "\\" not in target and not any(ord(c) < 32 for c in target)


def safe_next(target, default):
    return target if is_safe_next(target) else default


def htmx_page(default):
    """The page an htmx request was sent from (its `HX-Current-URL`, a path
    of this site), else `default`: a fragment's URL is no place to come back to."""
    try:
        parts = urlsplit(request.htmx.current_url or "")
    except ValueError:  # not a URL: no browser sent that
        return default
    return safe_next(parts.path + (f"?{parts.query}" if parts.query else ""), default)


def app_path(target):
    """`target` if it is a local path (a `safe_next`) of a page or fragment of
    this app that answers GET, else None."""
    if not is_safe_next(target):
        return None
    path = urlsplit(target).path
    root = request.script_root
    if root and not path.startswith(root + "/"):
        return None
    try:
        current_app.create_url_adapter(request).match(path[len(root):], method="GET")
    except HTTPException:  # not found, not a GET, or a redirect (RequestRedirect)
        return None
    return target


# The request headers a page differs by besides its URL (`wants_fragment`, `HX-Current-URL` for its way back).
HTMX_HEADERS = ("HX-Request", "HX-Boosted", "HX-History-Restore-Request", "HX-Current-URL")
# What a page shows of the session besides who is signed in: its CSRF token (in
# every form), whether the warning after sign-in is still to come (`portal.notifications.login_warning`).
SESSION_SHOWN = ("csrf_token", "login_warning")


def conditional(view):
    """HTTP conditional GET for a page of the current organization: answered
    304 Not Modified, without rendering, when the browser's copy (its
    If-None-Match) has the page's ETag still (`page_etag`); otherwise the
    view's answer, with the ETag and `Cache-Control: private, no-cache` (kept
    by the browser only, and asked about again each time it is shown)."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        etag = page_etag()
        if etag is None:
            return view(*args, **kwargs)
        if request.if_none_match.contains(etag):
            response = make_response("", 304)
        else:
            response = make_response(view(*args, **kwargs))
            if response.status_code != 200:
                return response
        response.set_etag(etag)
        response.cache_control.private = True
        response.cache_control.no_cache = True
        response.vary.add("HX-Request")
        return response

    return wrapped


def page_etag():
    """What the page of this request shows depends on, in a hash:

    - the organization's `version`, which every write that changes what its
      pages show bumps (`portal.versions`), read with the organization's row
      that `portal.tenancy` loads anyway, and those of the person's other
      organizations (the header's switcher names them);
    - the moment something shown changes with time alone (a day left less, a
      token entering the window or expiring: `time_state`);
    - the person (their name, address and language, their role and right in
      the organization), the session (its CSRF token is in the page; the
      warning after sign-in may be still to come), the brand, the URL and
      htmx headers, the locale and time zone, and the build of the app.

    None while a flashed message waits to be shown: that page is never reused."""
    if g.get("organization") is None or session.get("_flashes"):
        return None
    generate_csrf()  # the session's token, made now if it has none yet: the page will show it
    membership = g.membership
    parts = (
        build(), request.full_path, *(request.headers.get(name) for name in HTMX_HEADERS),
        str(get_locale()), str(get_timezone()),
        current_user.id, current_user.display_name, current_user.email, current_user.locale,
        membership.id, membership.role, membership.can_manage_profiles, g.brand.id if g.brand else None,
        tuple((organization.id, organization.name, organization.version) for _, organization in g.memberships),
        g.organization.id, *(session.get(name) for name in SESSION_SHOWN),
        time_state(g.organization, utcnow()),
    )
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:32]


@cache
def build():
    """The app's code, templates, translations and static files, in a hash:
    a new release is a new page (read once a process)."""
    digest = hashlib.sha256()
    root = os.path.dirname(current_app.root_path)
    for folder in ("portal", "templates", "static"):
        for directory, subdirectories, files in os.walk(os.path.join(root, folder)):
            subdirectories[:] = sorted(name for name in subdirectories if name != "__pycache__")
            for name in sorted(files):
                if name.endswith((".py", ".html", ".mo", ".js", ".css", ".svg")):
                    with open(os.path.join(directory, name), "rb") as file:
                        digest.update(name.encode() + file.read())
    return digest.hexdigest()
