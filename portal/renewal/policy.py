"""What a network allows for silent renewal, read from its adapter."""
from datetime import timedelta

from portal.renewal.rules import RefreshPolicy


def policy_for(adapter):
    return RefreshPolicy(
        extends_access_token=getattr(adapter, "extends_access_token", False),
        min_token_age=getattr(adapter, "min_token_age", timedelta(0)),
    )
