"""The pages of connecting profiles: the choice of network and of profiles
(`choose`), the agency's invitations to connect (`invitations`), and the
client's own pages of an invitation (`client`)."""
from flask import Blueprint

bp = Blueprint("connect", __name__)

from portal.connect.views import choose, client, invitations, remove  # noqa: E402,F401
