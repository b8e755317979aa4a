"""The security headers of every answer.

- `Content-Security-Policy`: scripts, styles, images, fonts and connections
  from this site only (no inline script, style or event handler, no eval: the
  templates have none, and htmx is told not to evaluate), no plugin, no
  `<base>` pointing elsewhere, and no site may frame a page
  (`frame-ancestors 'none'`, and `X-Frame-Options` for older browsers).
- `X-Content-Type-Options: nosniff`, `Referrer-Policy: same-origin`.
- `Strict-Transport-Security` in production, which is served over HTTPS only.
- `Cache-Control: no-store` on every answer to a signed-in browser: neither
  the browser nor a proxy keeps a page of an agency.
- The pages whose URL carries a secret (`SECRET_IN_URL`: a reset, an
  invitation, a renewal link, a client's invitation to connect) send
  `Referrer-Policy: no-referrer` and `Cache-Control: no-store`, whoever asks
  and whatever they answer (their "this link does not work" pages too).

Each header is a default: an answer that set one itself keeps its own
(Manage Accounts' conditional GET sends `private, no-cache`; the sandbox
network and /dev/mail, development tools, allow their inline styles).
"""
from flask import request, session

CONTENT_SECURITY_POLICY = "default-src 'self'; base-uri 'self'; object-src 'none'; frame-ancestors 'none'"
HSTS = "max-age=31536000; includeSubDomains"
EVERY_ANSWER = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}
# Files the same for everyone: they keep the caching Flask gives them.
PUBLIC_ENDPOINTS = {"static", "notifications.service_worker"}
# Pages whose URL carries a secret: never passed on to another site, never kept.
SECRET_IN_URL = {
    "auth.reset_password", "auth.invitation", "auth.signup_confirm",
    "links.member", "links.client", "links.done",
    "connect.client", "connect.client_start", "connect.client_done", "connect.client_choose", "connect.choose",
}
SECRET_PAGE = {"Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}


def init_app(app):
    production = app.config["ENV_NAME"] == "production"

    @app.after_request
    def security_headers(response):
        if request.endpoint in SECRET_IN_URL:
            response.headers.update(SECRET_PAGE)
        for name, value in EVERY_ANSWER.items():
            response.headers.setdefault(name, value)
        if production:
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        if request.endpoint not in PUBLIC_ENDPOINTS and "Cache-Control" not in response.headers \
                and session.get("_user_id"):
            response.headers["Cache-Control"] = "no-store"
        return response
