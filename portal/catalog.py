"""The networks Keepalive connects, as people see them: names, icons, and
the native permission a person needs to renew a token (docs/design.md,
"Who uses it").

How each network's tokens are obtained and renewed lives in the adapters;
this is only what the pages and emails say.
"""
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l


@dataclass(frozen=True)
class Network:
    key: str
    label: str
    icon: str
    native_permission: str


NETWORKS = {
    n.key: n
    for n in [
        Network("facebook", "Facebook", "facebook",
                _l("Full control (Admin) of the Facebook Page, or of the Business Manager that owns it")),
        Network("instagram_business", "Instagram (Business)", "instagram",
                _l("Full control on the Facebook Page or Business Manager linked to the Instagram account")),
        Network("instagram", "Instagram", "instagram", _l("Access to the Instagram account")),
        Network("threads", "Threads", "threads", _l("Access to the Threads account")),
        Network("x", "X", "x", _l("Access to the X account")),
        Network("linkedin_personal", "LinkedIn", "linkedin", _l("Access to the LinkedIn personal account")),
        Network("linkedin_company", "LinkedIn Page", "linkedin",
                _l("Super Admin of the LinkedIn company page")),
        Network("youtube", "YouTube", "youtube",
                _l("Access to the Google account, or the Manager role on a brand account")),
        Network("google_business", "Google Business Profile", "google_business",
                _l("Any role on the Google Business Profile")),
        Network("tiktok", "TikTok", "tiktok", _l("Access to the TikTok account")),
        Network("pinterest", "Pinterest", "pinterest", _l("Access to the Pinterest account")),
    ]
}


def network(key):
    """The network of `key`; an unknown key still renders, under its own name."""
    return NETWORKS.get(key) or Network(key, key, "generic", "")
