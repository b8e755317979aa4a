"""Errors of the token API as RFC 9457 problem details
(`application/problem+json`): a `type` URI naming the kind of problem (each
has a section of /api/docs), a `title`, the `status`, and what this case adds."""
import json

from flask import abort, current_app, url_for

MEDIA_TYPE = "application/problem+json"
# Errors of any route under it are problems, an unknown route's too.
API_PREFIX = "/api/v1/"

# kind -> (status, title). The docs page lists them from here.
KINDS = {
    "bad-request": (400, "The request is not valid."),
    "unauthorized": (401, "A valid API key is needed."),
    "forbidden": (403, "This API key lacks the scope this request needs."),
    "not-found": (404, "No such resource for this API key."),
    "method-not-allowed": (405, "This method is not allowed here."),
    "token-dead": (409, "The token stopped working: a person must renew it."),
    "no-live-token": (409, "No healthy profile of this network has a live token."),
    "not-a-recipient": (422, "This person may not renew the profile."),
    "rate-limited": (429, "Too many requests with this API key."),
    "unavailable": (503, "The network is not answering; the token could not be refreshed."),
    "temporarily-unavailable": (503, "Keepalive is unavailable for a moment."),
    "internal": (500, "Something went wrong on our side."),
}
BY_STATUS = {status: kind for kind, (status, _) in KINDS.items()}


def type_uri(kind):
    return url_for("api.docs", _anchor=f"problem-{kind}", _external=True)


def response(kind, detail=None, headers=None, status=None, **extensions):
    default_status, title = KINDS[kind]
    status = status or default_status
    body = {"type": type_uri(kind), "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body.update({name: value for name, value in extensions.items() if value is not None})
    answer = current_app.response_class(json.dumps(body), status=status, mimetype=MEDIA_TYPE)
    answer.headers["Cache-Control"] = "no-store"
    answer.headers.update(headers or {})
    return answer


def fail(kind, detail=None, headers=None, **extensions):
    """Stop the request with this problem."""
    abort(response(kind, detail, headers, **extensions))


def from_http_error(error):
    """The problem of an HTTP error raised anywhere under /api (an unknown
    route, a wrong method, an error of Flask's own)."""
    status = getattr(error, "code", None) or 500
    kind = BY_STATUS.get(status)
    if kind is None:
        kind = "bad-request" if 400 <= status < 500 else "internal"
    headers = {"Allow": ", ".join(error.valid_methods)} if getattr(error, "valid_methods", None) else None
    return response(kind, status=status, headers=headers)


def validation_failed(response_, errors):
    """Turn the validation library's 400 answer into a problem, in place."""
    fields = [{"location": ".".join(str(part) for part in error["loc"]), "message": error["msg"]}
              for error in errors]
    _, title = KINDS["bad-request"]
    body = {"type": type_uri("bad-request"), "title": title, "status": 400,
            "detail": "; ".join(f"{field['location']}: {field['message']}" for field in fields), "errors": fields}
    response_.set_data(json.dumps(body))
    response_.mimetype = MEDIA_TYPE
    response_.headers["Cache-Control"] = "no-store"
