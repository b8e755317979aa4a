"""Development tooling, kept apart from the product and out of its wheel.

- `devkit.sandbox`: the sandbox network, a local stand-in for the social
  networks' OAuth and APIs, with its own storage (`SANDBOX`);
- `devkit.demo`: the demo agency, written by `flask --app wsgi seed-demo`
  (`devkit.cli`) and by the run command;
- `devkit.run`: `make run` (`python -m devkit.run`), web, worker, scheduler,
  Redis, mail capture and sandbox on one machine;
- `devkit.mailcapture`: the SMTP capture on loopback, and `devkit.devmail`,
  the `/dev/mail` pages that read what it kept (`DEV_TOOLS`).

The devkit imports the portal; the portal never imports the devkit, except
`portal.create_app`, which calls `init_app` when `SANDBOX` or `DEV_TOOLS` is
on (`[tool.importlinter]` in pyproject.toml holds both to it).
"""


def init_app(app):
    """Mount on `app` the tools its settings turn on."""
    if app.config["SANDBOX"]:
        from devkit.sandbox import bp as sandbox_bp
        from portal.extensions import csrf

        csrf.exempt(sandbox_bp)  # the networks' endpoints, called by OAuth clients without a CSRF token
        app.register_blueprint(sandbox_bp)
        # The redirect URIs the sandbox's apps have registered: the portal's
        # callback of each network (`callback.network_callback`), on its BASE_URL.
        app.config.setdefault("SANDBOX_REDIRECT_URI", "{base_url}/renew/callback/{network}")
    if app.config["DEV_TOOLS"]:
        from devkit.cli import seed_demo
        from devkit.devmail import bp as devmail_bp

        app.register_blueprint(devmail_bp)
        app.cli.add_command(seed_demo)
