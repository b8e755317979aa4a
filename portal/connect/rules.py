"""Pure rules of invitations to connect: where one stands, and its limits."""
from enum import StrEnum

# How long an invitation works, in days, to choose from; 7 unless chosen.
LIFETIMES = (1, 3, 7, 14, 30)
DEFAULT_LIFETIME = 7
MESSAGE_LENGTH = 1000
# Invitations one person sends each hour, and consents one invitation starts.
INVITATIONS_PER_HOUR = 30
CONSENTS_PER_HOUR = 20


class State(StrEnum):
    PENDING = "pending"
    USED = "used"
    EXPIRED = "expired"
    REVOKED = "revoked"


# Not found for a link never made; gone for one that existed.
HTTP_STATUS = {"unknown": 404, State.USED: 410, State.EXPIRED: 410, State.REVOKED: 410}


def state(invitation, now):
    """Where `invitation` stands at `now`."""
    if invitation.revoked_at is not None:
        return State.REVOKED
    if invitation.used_at is not None:
        return State.USED
    if invitation.expires_at <= now:
        return State.EXPIRED
    return State.PENDING


def may_send_again(invitation, now):
    """A pending or expired invitation is sent again with a new link; a used
    or withdrawn one is not (invite anew)."""
    return state(invitation, now) in (State.PENDING, State.EXPIRED)


def still_to_connect(invitation):
    """The networks asked for that the client has not connected yet."""
    done = set(invitation.connected_keys)
    return [key for key in invitation.network_keys if key not in done]
