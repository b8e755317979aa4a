from flask import jsonify

from portal.extensions import csrf, limiter
from portal.health import bp


@bp.route("/healthz")
@limiter.exempt
@csrf.exempt
def healthz():
    return jsonify(database="unknown", redis="unknown", workers=0, last_scan=None), 503
