"""Where every network sends the person back after a consent: one place
that completes it with the renewal service, or, for a consent started from
a client's renewal link, with the links' (`portal.callback.views.bp`)."""
