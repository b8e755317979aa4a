"""Renewing tokens: silently in workers, or through a person's consent.
The service here; the pages in `views` (`portal.renewal.views.bp`)."""

# What an htmx request gets back after a silent renewal, by the prefix of the
# element id it targets (HX-Target): {prefix: function(profile, next_url) -> response}.
# Pages that renew in place register theirs; anything else gets a redirect.
RENEWED_FRAGMENTS = {}


def renewed_fragment(prefix):
    def register(function):
        RENEWED_FRAGMENTS[prefix] = function
        return function

    return register
