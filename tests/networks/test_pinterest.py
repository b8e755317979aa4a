"""Pinterest's error rules (docs/networks.md), one row per signature, without a server."""
import pytest

from portal.networks.outcomes import Kind, Stage
from portal.networks.pinterest import classify_pinterest


PINTEREST = [
    (400, {"code": 1, "message": "Invalid refresh token"}, Stage.TOKEN, Kind.RENEW),
    (401, {"error": "invalid_grant", "error_description": "Refresh token expired"}, Stage.TOKEN, Kind.RENEW),
    (401, {"code": 2, "message": "Authentication failed."}, Stage.API, Kind.REFRESH),
    (401, {"code": 2, "message": "Authentication failed."}, Stage.RETRY, Kind.RENEW),
    (429, {"code": 8, "message": "Rate limit exceeded"}, Stage.API, Kind.TRANSIENT),
    (429, None, Stage.TOKEN, Kind.TRANSIENT),
    (500, {"code": 0, "message": "Server error"}, Stage.TOKEN, Kind.TRANSIENT),
    (403, {"code": 3, "message": "Not permitted"}, Stage.API, Kind.PERMISSION),
    (200, {"username": "a"}, Stage.API, Kind.OK),
]


@pytest.mark.parametrize("status,body,stage,kind", PINTEREST)
def test_pinterest(status, body, stage, kind):
    assert classify_pinterest(status, body, stage).kind == kind
