"""Command-line tasks: `flask --app wsgi <command>` (`seed-demo` is the
development tools', in `devkit.cli`)."""
import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import update
from sqlmodel import select

from portal import db
from portal.crypto import cipher
from portal.migrate import revision, upgrade
from portal.models import Credential
from portal.queue import queue


def init_app(app):
    app.cli.add_command(db_upgrade)
    app.cli.add_command(rotate_token_keys)
    app.cli.add_command(db_revision)
    app.cli.add_command(scan)
    app.cli.add_command(vapid_keys)
    app.cli.add_command(create_agency)


@click.command("db-upgrade")
@with_appcontext
def db_upgrade():
    """Create or upgrade the database schema to the newest migration."""
    upgrade(current_app.config["DATABASE_URL"])
    click.echo("Database is at the newest schema.")


@click.command("db-revision")
@click.argument("message")
@with_appcontext
def db_revision(message):
    """Write a migration for the difference between the models and the database."""
    revision(current_app.config["DATABASE_URL"], message)


@click.command("scan")
@with_appcontext
def scan():
    """Renew what is due silently, then write and enqueue the token notices that are due."""
    # The scheduler's job, run here and now: enqueued by its name on a queue
    # that runs it at once, as the portal names every job (it never imports `jobs`).
    job = queue(is_async=False).enqueue("jobs.scan.scan")
    if job.is_failed:
        raise click.ClickException(job.latest_result().exc_string)
    report = job.return_value()
    click.echo(
        f"Scan done: {report.renewals} renewal(s) enqueued, {report.credentials} credential(s) due, "
        f"{report.notifications} new notice(s), {len(report.deliveries)} new delivery(ies) enqueued."
    )


@click.command("create-agency")
@click.argument("name")
@click.option("--owner", "owner_email", required=True, help="The email address of the agency's first Owner.")
@click.option("--owner-name", default="", help="The Owner's name (they may change it later).")
@with_appcontext
def create_agency(name, owner_email, owner_name):
    """Create an agency and its Owner, and print a single-use link to set the Owner's password."""
    from portal.auth.signup import create_agency as create
    from portal.forms import normalized_email
    from portal.notifications.messages import url_context

    name = name.strip()
    if not name or len(name) > 120:
        raise click.BadParameter("give the agency a name of 1 to 120 characters", param_hint="NAME")
    try:
        owner_email = normalized_email(owner_email)
    except ValueError:
        raise click.BadParameter(f"{owner_email!r} is not an email address", param_hint="--owner") from None
    with url_context(), db.new_session() as session:
        organization, owner, link = create(session, name, owner_email, owner_name[:120])
    click.echo(f"Created the agency {organization.name!r} with {owner.email} as its Owner.")
    if link:
        hours = current_app.config["LINK_LIFETIME_HOURS"]
        click.echo(f"Send them this link to set their password (it works once, for {hours} hours):")
        click.echo(link)
    else:
        click.echo(f"{owner.email} already has a password: they sign in as usual and find the agency there.")


@click.command("rotate-token-keys")
@with_appcontext
def rotate_token_keys():
    """Re-encrypt every stored token with the newest key of TOKEN_KEYS.

    Put the new key first in TOKEN_KEYS, run this, then remove the old key.
    """
    count = rotate_all()
    click.echo(f"Re-encrypted the tokens of {count} credential(s) with the newest key.")


def rotate_all(batch_size=500):
    """Re-seal every credential; returns how many were re-sealed.

    Each row is updated only if its ciphertexts are still the ones read, so a
    token refreshed meanwhile (already sealed with the newest key by its
    writer) is never overwritten with an older one.
    """
    sealer = cipher()
    count = 0
    last_id = 0
    with db.new_session() as session:
        while True:
            batch = session.exec(
                select(Credential.id, Credential.sealed_access_token, Credential.sealed_refresh_token)
                .where(Credential.id > last_id)
                .order_by(Credential.id)
                .limit(batch_size)
            ).all()
            if not batch:
                break
            for credential_id, access, refresh in batch:
                result = session.exec(
                    update(Credential)
                    .where(
                        Credential.id == credential_id,
                        Credential.sealed_access_token == access,
                        Credential.sealed_refresh_token.is_(None)
                        if refresh is None
                        else Credential.sealed_refresh_token == refresh,
                    )
                    .values(
                        sealed_access_token=sealer.reseal(access),
                        sealed_refresh_token=sealer.reseal(refresh),
                    )
                )
                count += result.rowcount
            session.commit()
            last_id = batch[-1][0]
    return count


@click.command("vapid-keys")
def vapid_keys():
    """Print a new VAPID key pair for web push, to put in the environment."""
    from portal.notifications.webpush import new_vapid_keys

    private_key, public_key = new_vapid_keys()
    click.echo(f"VAPID_PRIVATE_KEY={private_key}")
    click.echo(f"VAPID_PUBLIC_KEY={public_key}")
    click.echo("VAPID_SUBJECT=mailto:you@example.com  # a contact address for the push services")
