"""Alembic, driven from the application's own settings."""
import os

from alembic import command
from alembic.config import Config as AlembicConfig

MIGRATIONS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "migrations")


def alembic_config(database_url):
    config = AlembicConfig()
    config.set_main_option("script_location", MIGRATIONS)
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url, revision="head"):
    command.upgrade(alembic_config(database_url), revision)


def revision(database_url, message):
    """A new migration with what differs between the models and the database."""
    command.revision(alembic_config(database_url), message=message, autogenerate=True)
