"""Connecting social profiles: a network's consent and the choice of the
profiles it covers (`service`, `picks`); the pages in `views`
(`portal.connect.views.bp`)."""
