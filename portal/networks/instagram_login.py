"""Instagram professional accounts through Instagram Login (no Facebook Page)."""
from portal.networks.meta_login import MetaLoginAdapter


class InstagramLoginAdapter(MetaLoginAdapter):
    family = "instagram_login"
    authorize_endpoint = "https://www.instagram.com/oauth/authorize"
    token_endpoint = "https://api.instagram.com/oauth/access_token"
    exchange_endpoint = "https://graph.instagram.com/access_token"
    refresh_endpoint = "https://graph.instagram.com/refresh_access_token"
    me_endpoint = "https://graph.instagram.com/me"
    me_fields = "user_id,username,name"
    grant_prefix = "ig"
    scopes = ("instagram_business_basic", "instagram_business_content_publish")

    def external_id(self, me):
        # `user_id` is the professional account's id; `id` is scoped to the app.
        return me.get("user_id") or me.get("id")
