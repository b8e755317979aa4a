"""Keepalive: keeps an agency's social-media connections alive."""
import logging
import os

from dotenv import load_dotenv
from flask import Flask, jsonify, render_template, request
from werkzeug.middleware.proxy_fix import ProxyFix

from portal.config import Config, ConfigurationError

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def create_app(config=None):
    """The application; `config` overrides settings read from the environment."""
    load_dotenv(os.path.join(ROOT, ".env"))
    app = Flask(
        __name__,
        instance_path=os.environ.get("KEEPALIVE_INSTANCE") or os.path.join(ROOT, "instance"),
        instance_relative_config=True,
        template_folder=os.path.join(ROOT, "templates"),
        static_folder=os.path.join(ROOT, "static"),
    )
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.from_mapping(Config(app.instance_path).as_dict())
    if config:
        app.config.from_mapping(config)
    if app.config["TRUSTED_PROXIES"]:
        n = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)

    from portal import accesslog, crypto, db, headers, queue, versions
    from portal.extensions import babel, csrf, htmx, limiter, login_manager, mail, select_locale, select_timezone
    from portal.web import IdConverter, Request

    app.url_map.converters["int"] = IdConverter  # before any route is added

    db.init_app(app)
    versions.init_app(app)
    crypto.init_app(app)
    queue.init_app(app)
    csrf.init_app(app)
    htmx.init_app(app)
    app.request_class = Request  # htmx's request, which init_app set
    headers.init_app(app)
    mail.init_app(app)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)

    from portal import auth, tenancy

    auth.init_login(app, login_manager)
    app.before_request(tenancy.load_current)

    from portal.accounts.views import bp as accounts_bp
    from portal.api.views import bp as api_bp
    from portal.auth.views import bp as auth_bp
    from portal.callback.views import bp as callback_bp
    from portal.connect.views import bp as connect_bp
    from portal.health.views import bp as health_bp
    from portal.home import bp as home_bp
    from portal.links.views import bp as links_bp
    from portal.notifications import outbox
    from portal.notifications.views import bp as notifications_bp
    from portal.renewal.views import bp as renewal_bp
    from portal.settings.views import bp as settings_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(accounts_bp)
    app.register_blueprint(home_bp)
    app.register_blueprint(health_bp)
    app.register_blueprint(settings_bp)
    app.register_blueprint(renewal_bp)
    app.register_blueprint(callback_bp)
    app.register_blueprint(links_bp)
    app.register_blueprint(connect_bp)
    app.register_blueprint(notifications_bp)
    app.register_blueprint(api_bp)
    csrf.exempt(api_bp)  # bearer keys only: no cookie is read there
    outbox.init_app(app)
    if app.config["SANDBOX"] or app.config["DEV_TOOLS"]:
        _development_tools().init_app(app)

    from portal import cli, templating

    cli.init_app(app)
    templating.init_app(app)
    _register_error_pages(app)
    logging.getLogger("keepalive").setLevel(logging.INFO)
    accesslog.install()
    return app


def _development_tools():
    """The `devkit` package (the sandbox network, `/dev/mail`, `seed-demo`),
    imported only when a setting turns it on: a checkout has it, the
    production wheel has not."""
    try:
        import devkit
    except ModuleNotFoundError as error:
        if error.name != "devkit":
            raise
        raise ConfigurationError(
            "SANDBOX and the development tools (on unless KEEPALIVE_ENV=production) need the devkit "
            "package, which a checkout has and the wheel has not: run from the checkout, or set "
            "KEEPALIVE_ENV=production and leave SANDBOX off."
        ) from None
    return devkit


def _register_error_pages(app):
    from flask_wtf.csrf import CSRFError

    from portal import unavailable
    from portal.api import problems

    def error_page(status, template_message):
        def handler(error):
            if request.path.startswith(problems.API_PREFIX):
                return problems.from_http_error(error)
            if request.path.startswith("/healthz") or request.accept_mimetypes.best == "application/json":
                return jsonify(error=template_message), status
            try:
                return render_template("error.html", status=status, error=error, message_key=template_message,
                                       detail=own_description(error)), status, kept_headers(error)
            except unavailable.REDIS_AWAY as away:  # an error found before the person was read (CSRF)
                return unavailable.answer(away)

        return handler

    def kept_headers(error):
        """The error's own headers but its type: a 405 says which methods are allowed (`Allow`)."""
        headers = error.get_headers() if hasattr(error, "get_headers") else []
        return [(name, value) for name, value in headers if name.lower() != "content-type"]

    def own_description(error):
        """What the app itself said of the error, in the person's language
        (`abort(404, description=_(...))`); never Werkzeug's or Flask-WTF's
        English sentences, nor a bare message key ("managers_only")."""
        description = getattr(error, "description", None)
        description = None if description is None else str(description)
        if (description is None or isinstance(error, CSRFError)
                or description == type(error).description or " " not in description):
            return None
        return description

    app.register_error_handler(400, error_page(400, "bad_request"))
    app.register_error_handler(CSRFError, error_page(400, "csrf"))
    app.register_error_handler(403, error_page(403, "forbidden"))
    app.register_error_handler(404, error_page(404, "not_found"))
    app.register_error_handler(405, error_page(405, "method_not_allowed"))
    app.register_error_handler(429, error_page(429, "too_many_requests"))
    app.register_error_handler(500, server_error)
    unavailable.init_app(app)


def server_error(error):
    """A fault of Keepalive's (Flask has logged it): the error page in the
    layout, as for 403 and 404; without the layout if that fails too (its
    header reads the database, which may be what failed)."""
    from portal.db import close_session

    close_session()  # roll back whatever the request left half done
    if request.path.startswith("/healthz") or request.accept_mimetypes.best == "application/json":
        return jsonify(error="internal_server_error"), 500
    try:
        return render_template("error.html", status=500, error=error, message_key="internal_error"), 500
    except Exception:  # noqa: BLE001 - already answering an error: say it plainly
        logging.getLogger("keepalive").exception("the error page failed; answering the bare one")
        close_session()
    try:
        return render_template("error_bare.html"), 500
    except Exception:  # noqa: BLE001 - even the language could not be chosen (it reads the person)
        logging.getLogger("keepalive").exception("the bare error page failed too")
        return BARE_500, 500, {"Content-Type": "text/html; charset=utf-8"}


BARE_500 = ("<!doctype html><html lang=en><meta charset=utf-8><title>Something went wrong · Keepalive</title>"
            "<h1>Something went wrong on our side</h1><p>Try again in a moment.</p></html>")
