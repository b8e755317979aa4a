"""Renewal links: a member's emailed link, and the link an agency sends to a
client's account owner. Rules and the service here; the pages in `views`
(`portal.links.views.bp`)."""
