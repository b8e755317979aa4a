"""A Business Manager system user's token for a Facebook Page or an
Instagram business account: checked with Meta, then the profile's credential."""
from portal import app_settings
from portal.db import get_session
from portal.networks import adapter_for
from portal.networks.outcomes import AppSettingsRefused, NetworkError, NotASystemUserToken, RenewNeeded, Transient
from portal.renewal.credentials import record_attempt, store_grant


def adopt(profile, token, user_id):
    """(the new credential, None), or (None, why the token is refused:
    "empty", "not_system_user", "unavailable", "app_settings", "invalid",
    "no_access")."""
    if not token:
        return None, "empty"
    try:
        tokens = adapter_for(profile.network).adopt_system_user_token(token, profile.external_id)
    except NotASystemUserToken:
        return None, "not_system_user"
    except Transient:
        return None, "unavailable"
    except AppSettingsRefused as error:
        app_settings.report(profile.network, error.detail)
        return None, "app_settings"
    except RenewNeeded:
        return None, "invalid"
    except NetworkError:
        return None, "no_access"
    session = get_session()
    credential = store_grant(session, profile, tokens, granted_by_id=user_id)
    record_attempt(session, profile, "system_user", "renewed", credential, user_id)
    session.commit()
    return credential, None
