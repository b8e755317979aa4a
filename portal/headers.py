"""The security headers of every answer.

- `Content-Security-Policy`: scripts, styles, images, fonts and connections
  from this site only (no inline script, style or event handler, no eval: the
  templates have none, and htmx is told not to evaluate), no plugin, no
  `<base>` pointing elsewhere, and no site may frame a page
  (`frame-ancestors 'none'`, and `X-Frame-Options` for older browsers).
- `X-Content-Type-Options: nosniff`, `Referrer-Policy: same-origin` (the
  pages whose URL carries a secret send `no-referrer` themselves).
- `Strict-Transport-Security` in production, which is served over HTTPS only.
- `Cache-Control: no-store` on every answer to a signed-in browser, and on
  those that show a secret (which set it themselves): neither the browser nor
  a proxy keeps a page of an agency.

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


def init_app(app):
    production = app.config["ENV_NAME"] == "production"

    @app.after_request
    def security_headers(response):
        for name, value in EVERY_ANSWER.items():
            response.headers.setdefault(name, value)
        if production:
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        if request.endpoint not in PUBLIC_ENDPOINTS and "Cache-Control" not in response.headers \
                and session.get("_user_id"):
            response.headers["Cache-Control"] = "no-store"
        return response
