from flask import current_app, url_for


def external_url(endpoint, **values):
    """An absolute link for an email, on the portal's public address (BASE_URL),
    whatever host the current request came in on."""
    return current_app.config["BASE_URL"] + url_for(endpoint, **values)
