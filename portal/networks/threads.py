"""Threads profiles (Threads API)."""
from portal.networks.meta_login import MetaLoginAdapter


class ThreadsAdapter(MetaLoginAdapter):
    family = "threads"
    # Meta's current hosts (https://developers.facebook.com/documentation/threads/get-started/get-access-tokens-and-permissions).
    authorize_endpoint = "https://threads.com/oauth/authorize"
    token_endpoint = "https://graph.threads.com/oauth/access_token"
    exchange_endpoint = "https://graph.threads.com/access_token"
    refresh_endpoint = "https://graph.threads.com/refresh_access_token"
    me_endpoint = "https://graph.threads.com/v1.0/me"
    me_fields = "id,username,name"
    grant_prefix = "th"
    scopes = ("threads_basic", "threads_content_publish")
