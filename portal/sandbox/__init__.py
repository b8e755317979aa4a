"""The sandbox: the social networks played locally.

A separate "site" under `/sandbox/<host>/<path>` that speaks each network's
token protocol (PROVIDERS.md), with its own database, consent page and
admin page. Mounted only when the `SANDBOX` setting is on. It knows nothing
of the portal, and nothing in the portal imports it but the app factory.
"""
from flask import Blueprint

bp = Blueprint("sandbox", __name__, url_prefix="/sandbox")

from portal.sandbox import admin, google, linkedin, meta, pinterest, tiktok, x  # noqa: E402

for _module in (meta, x, linkedin, google, tiktok, pinterest, admin):
    _module.register(bp)
