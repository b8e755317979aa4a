"""Token health: Manage Accounts, profile details, who can renew, and the
header's "Expired Tokens" dropdown."""
from flask import Blueprint

bp = Blueprint("accounts", __name__)

# The event a response names in `HX-Trigger` after a token changed, so that
# every region showing token health (the header dropdown) reloads itself.
TOKENS_CHANGED = "tokens-changed"

from portal.accounts import views  # noqa: E402,F401
