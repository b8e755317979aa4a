"""The sandbox: the social networks played locally.

A separate "site" under `/sandbox/<host>/<path>` that speaks each network's
token protocol (docs/networks.md), with its own database, consent page and
admin page, and its templates in `templates/` beside this file. Mounted by
`devkit.init_app` only when the `SANDBOX` setting is on. It knows nothing of
the portal, and nothing in the portal imports it.
"""
from flask import Blueprint

from devkit.policy import allow_inline_styles

bp = Blueprint("sandbox", __name__, url_prefix="/sandbox", template_folder="templates")
bp.after_request(allow_inline_styles)

from devkit.sandbox import admin, google, linkedin, meta, pinterest, tiktok, x  # noqa: E402

for _module in (meta, x, linkedin, google, tiktok, pinterest, admin):
    _module.register(bp)
