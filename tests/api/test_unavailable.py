"""While Redis (the keys' rate limits, the queue) does not answer, the API
answers 503 as a problem with Retry-After, as its document says, and goes
on once Redis is back."""
import pytest

from portal.api import problems
from tests import factories
from tests.api.conftest import Api, make_key

pytestmark = pytest.mark.slow  # a redis-server of the test's own, stopped and started


@pytest.fixture
def keyed(restartable_redis, app, client, session, openapi):
    agency = factories.agency(session, profiles={"x": {"network": "x", "credential": {}}})
    secret, _ = make_key(app, session, agency.org)
    return Api(client, openapi, secret), agency.profiles["x"]


def unavailable(answer):
    body = answer.get_json()
    return (answer.status_code == 503 and answer.mimetype == problems.MEDIA_TYPE
            and answer.headers["Retry-After"] == "60" and body["status"] == 503
            and body["type"].endswith("#problem-temporarily-unavailable"))


def test_a_key_that_cannot_be_counted_is_refused_until_redis_is_back(restartable_redis, keyed):
    api, _ = keyed
    restartable_redis.stop()
    assert unavailable(api.get("/api/v1/profiles"))
    restartable_redis.start()
    assert api.get("/api/v1/profiles").status_code == 200
    assert api.checked == 2  # both answers are the document's


def test_a_request_counted_before_that_needs_redis_itself_is_refused_too(restartable_redis, keyed):
    api, profile = keyed
    assert api.get("/api/v1/profiles").status_code == 200  # leases requests for the next second
    restartable_redis.stop()
    assert unavailable(api.post(f"/api/v1/profiles/{profile.id}/token/report", json={"http_status": 401}))
