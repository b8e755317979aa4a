"""Development commands, added to `flask --app wsgi` when `DEV_TOOLS` is on."""
import click
from flask.cli import with_appcontext


@click.command("seed-demo")
@with_appcontext
def seed_demo():
    """Create the demo agency, its people and profiles (safe to run again)."""
    from devkit.demo import DEMO_PASSWORD, PEOPLE, seed_demo as seed

    created = seed()
    if created:
        click.echo("Demo data added: " + ", ".join(f"{count} {name}" for name, count in sorted(created.items())))
    else:
        click.echo("Demo data already present; nothing changed.")
    click.echo(f"Sign in as {', '.join(p['email'] for p in PEOPLE)} with the password {DEMO_PASSWORD}.")
