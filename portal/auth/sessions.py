"""Server-side sessions: a signed-in browser holds only a random session id,
whose record lives in Redis.

Flask-Login keeps that id (in the session cookie, and in the remember cookie
when the person asked to be remembered) and loads the user by it. Signing out
deletes the record, so a copy of either cookie taken before stops working. A
record carries the user's `session_version` of when it began: a password
change or reset bumps the version, and every older session ends at once.

A session ends after SESSION_IDLE_HOURS without a request; a remembered one
REMEMBER_DAYS after sign-in, however much it is used. Redis keeps only a hash
of each id.
"""
import secrets
from datetime import timedelta

from flask import current_app, session
from flask_login import login_user

from portal.queue import lua, redis, redis_key
from portal.url_secrets import hash_secret, plausible


def idle_lifetime():
    return timedelta(hours=current_app.config["SESSION_IDLE_HOURS"])


def remembered_lifetime():
    return timedelta(days=current_app.config["REMEMBER_DAYS"])


def record_key(session_id):
    return redis_key(f"session:{hash_secret(session_id)}")


def begin(user, remember=False):
    """Sign `user` in to this browser on a new server-side session."""
    if not login_user(user, remember=remember, duration=remembered_lifetime()):
        return False
    session_id = secrets.token_urlsafe(32)
    key = record_key(session_id)
    with redis().pipeline() as pipe:
        pipe.hset(key, mapping={"user": user.id, "version": user.session_version, "remembered": int(remember)})
        pipe.expire(key, remembered_lifetime() if remember else idle_lifetime())
        pipe.execute()
    # Flask-Login keeps the id it loads the user by here, and copies it into the
    # remember cookie: the session's id, not the user's, so that ending the
    # session ends every copy of both cookies.
    session["_user_id"] = session_id
    return True


# A session's record, its idle time started again unless it is remembered
# (whose end is fixed): one round trip to Redis on every signed-in request.
RESUME = lua("""
local record = redis.call('HMGET', KEYS[1], 'user', 'version', 'remembered')
if record[3] == '0' then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return record
""")


def resume(session_id):
    """(user id, session version) of a live session, its idle time started
    again; None for a session that ended or never was."""
    if not plausible(session_id):
        return None
    user, version, _remembered = RESUME(keys=[record_key(session_id)], args=[int(idle_lifetime().total_seconds())])
    if user is None:
        return None
    return int(user), int(version)


def is_remembered(session_id):
    return redis().hget(record_key(session_id), "remembered") == b"1"


def end(session_id):
    if session_id:
        redis().delete(record_key(session_id))


def restart(user):
    """This browser's session again under the user's new `session_version`
    (after a password change): every other session has ended, this one goes on,
    remembered if it was."""
    old = session.get("_user_id")
    remembered = bool(old) and is_remembered(old)
    end(old)
    begin(user, remember=remembered)
