"""The sandbox's own sample people and their accounts: the outside world a
fresh agency connects, whatever the portal holds (`make run` adds them,
with or without the demo agency; so does the admin page's button).

- Alex Rivera runs Riverside Bakery: Facebook Pages (two with an Instagram
  business account), LinkedIn pages, Business Profile locations, a YouTube
  channel, and one account on each one-account network.
- Jordan Lee administers the 120 Facebook Pages of the Sunrise Yoga studios:
  one consent, a long list to pick from.
- Casey Kim is an analyst on one of Alex's Pages: a consent that covers a
  Page without the rights to keep it alive.

Adding them twice changes nothing: people and accounts are found by their
natural keys."""
from devkit.sandbox import store

ALEX, JORDAN, CASEY = "alex@riverside.example", "jordan@sunrise.example", "casey@riverside.example"
PEOPLE = {ALEX: "Alex Rivera", JORDAN: "Jordan Lee", CASEY: "Casey Kim"}
STUDIO_CITIES = 120

# (network, external id, name, handle, holder, role, linked Page's external id)
_RIVERSIDE = [
    ("facebook", "sample-fb-101", "Riverside Bakery", "@riversidebakery", ALEX, "ADMIN", None),
    ("facebook", "sample-fb-102", "Riverside Bakery Catering", "@riversidecatering", ALEX, "ADMIN", None),
    ("facebook", "sample-fb-103", "Rivera Family Photography", "@riveraphoto", ALEX, "ADMIN", None),
    ("instagram_business", "sample-igb-201", "Riverside Bakery", "@riversidebakery", ALEX, "ADMIN", "sample-fb-101"),
    ("instagram_business", "sample-igb-202", "Riverside Catering", "@riverside.catering", ALEX, "ADMIN",
     "sample-fb-102"),
    ("instagram", "sample-ig-301", "Riverside Bakery", "@riverside.bakery", ALEX, "OWNER", None),
    ("threads", "sample-th-401", "Riverside Bakery", "@riverside.bakery", ALEX, "OWNER", None),
    ("x", "sample-x-501", "Riverside Bakery", "@RiversideBakes", ALEX, "OWNER", None),
    ("linkedin_personal", "sample-li-person-601", "Alex Rivera", "alex-rivera", ALEX, "OWNER", None),
    ("linkedin_company", "sample-li-org-701", "Riverside Bakery Ltd", "riverside-bakery", ALEX, "ADMINISTRATOR",
     None),
    ("linkedin_company", "sample-li-org-702", "Riverside Catering Co", "riverside-catering", ALEX, "ADMINISTRATOR",
     None),
    ("youtube", "sample-yt-801", "Riverside Bakes", "@riversidebakes", ALEX, "OWNER", None),
    ("google_business", "sample-gbp-901", "Riverside Bakery · Main Street", "", ALEX, "OWNER", None),
    ("google_business", "sample-gbp-902", "Riverside Bakery · Station Road", "", ALEX, "OWNER", None),
    ("tiktok", "sample-tt-1001", "Riverside Bakery", "@riversidebakery", ALEX, "OWNER", None),
    ("pinterest", "sample-pin-1101", "Riverside Bakes", "riversidebakes", ALEX, "OWNER", None),
    ("facebook", "sample-fb-101", "Riverside Bakery", "@riversidebakery", CASEY, "ANALYST", None),
]


def sample_accounts():
    """Every (network, external id, name, handle, holder, role, linked Page) of the samples."""
    studios = [("facebook", f"sample-fb-sunrise-{n:03d}", f"Sunrise Yoga · Studio {n:03d}", f"@sunriseyoga{n:03d}",
                JORDAN, "ADMIN", None) for n in range(1, STUDIO_CITIES + 1)]
    return _RIVERSIDE + studios


def add_samples(c):
    """Add the sample people, accounts and roles that are missing; returns how many roles were added."""
    people = {email: store.upsert_person(c, email, name) for email, name in PEOPLE.items()}
    added = 0
    for network, external_id, name, handle, holder, role, page_id in sample_accounts():
        linked = None
        if page_id:
            linked = store.one(c, store.accounts.select().where(
                store.accounts.c.network == "facebook", store.accounts.c.external_id == page_id))["id"]
        account = store.upsert_account(c, network, external_id, name, handle, linked)
        if store.role_of(c, people[holder]["id"], account["id"]) is None:
            store.set_role(c, people[holder]["id"], account["id"], role, can_renew=role != "ANALYST")
            added += 1
    return added
