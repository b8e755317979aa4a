"""The outcomes every family's rules share: each raises its exception, and no
token ever reaches a message."""
import pytest

from portal.models import InvalidReason
from portal.networks.outcomes import (
    AccessTokenRejected,
    AppSettingsRefused,
    Kind,
    Outcome,
    PermissionMissing,
    RenewNeeded,
    Transient,
    UnexpectedResponse,
    scrub,
)


@pytest.mark.parametrize("kind,exception", [
    (Kind.RENEW, RenewNeeded), (Kind.TRANSIENT, Transient), (Kind.PERMISSION, PermissionMissing),
    (Kind.REFRESH, AccessTokenRejected), (Kind.ERROR, UnexpectedResponse), (Kind.APP_SETTINGS, AppSettingsRefused),
])
def test_each_outcome_raises_its_exception(kind, exception):
    assert type(Outcome(kind, InvalidReason.EXPIRED if kind == Kind.RENEW else None, "d").error()) is exception


def test_a_refused_access_token_is_never_a_reason_to_flag_the_token():
    assert issubclass(AccessTokenRejected, Transient)
    assert not issubclass(UnexpectedResponse, RenewNeeded)


def test_a_fault_of_the_app_is_never_a_dead_token():
    assert not issubclass(AppSettingsRefused, (RenewNeeded, PermissionMissing, Transient))


@pytest.mark.parametrize("text", [
    "GET https://graph.facebook.com/v21.0/oauth/access_token?grant_type=fb_exchange_token&client_id=1"
    "&client_secret=s3cr3tvalue&fb_exchange_token=EAABsecretTOKEN",
    'body {"access_token": "EAABsecretTOKEN", "refresh_token": "r-secretvalue"}',
    "Authorization: Bearer EAABsecretTOKEN",
    "debug_token?input_token=EAABsecretTOKEN&access_token=1|s3cr3tvalue",
])
def test_scrub_removes_tokens_and_secrets(text):
    cleaned = scrub(text)
    assert "EAABsecretTOKEN" not in cleaned
    assert "s3cr3tvalue" not in cleaned
    assert "r-secretvalue" not in cleaned
    assert "[redacted]" in cleaned


def test_scrub_removes_known_values_anywhere():
    assert scrub("token was xyz-123-abc here", secrets=["xyz-123-abc"]) == "token was [redacted] here"


def test_an_error_message_never_holds_a_token():
    error = RenewNeeded(InvalidReason.EXPIRED, "refused: access_token=EAABsecretTOKEN")
    assert "EAABsecretTOKEN" not in str(error)
