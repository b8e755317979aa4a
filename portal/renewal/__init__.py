"""Renewing tokens: silently in workers, or through a person's consent.
The services here; Renew Token in `views` (`portal.renewal.views.bp`), which
answers with a redirect to a page or a fragment its form names and renders none."""
