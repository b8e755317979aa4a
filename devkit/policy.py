"""The Content-Security-Policy of the development tools' pages.

The sandbox's pages (each network in its colours) and the captured mail's
HTML (in a frame, which inherits the page's policy) style themselves inline:
their policy allows that, which the portal's (`portal.headers`) leaves alone.
"""
INLINE_STYLES_POLICY = "default-src 'self'; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'"


def allow_inline_styles(response):
    """An `after_request` of the tools' blueprints."""
    response.headers.setdefault("Content-Security-Policy", INLINE_STYLES_POLICY)
    return response
