"""Threads profiles (Threads API)."""
from portal.networks.meta_login import MetaLoginAdapter


class ThreadsAdapter(MetaLoginAdapter):
    family = "threads"
    authorize_endpoint = "https://threads.net/oauth/authorize"
    token_endpoint = "https://graph.threads.net/oauth/access_token"
    exchange_endpoint = "https://graph.threads.net/access_token"
    refresh_endpoint = "https://graph.threads.net/refresh_access_token"
    me_endpoint = "https://graph.threads.net/v1.0/me"
    me_fields = "id,username,name"
    grant_prefix = "th"
    scopes = ("threads_basic", "threads_content_publish")
