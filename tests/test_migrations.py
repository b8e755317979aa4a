"""The Alembic history builds exactly the schema the models describe, on
SQLite and on PostgreSQL."""
import os
import uuid

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

import portal.models  # noqa: F401
from portal.config import database_url
from portal.db import make_engine
from portal.migrate import alembic_config, upgrade
from tests.conftest import DATABASES


def with_schema(url, schema):
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options=-csearch_path%3D{schema}"


@pytest.fixture(params=DATABASES)
def empty_database(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrated.sqlite'}"
        return
    base = database_url(os.environ["TEST_DATABASE_URL"])
    schema = f"migrations_{uuid.uuid4().hex[:10]}"
    admin = make_engine(base)
    with admin.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    yield with_schema(base, schema)
    with admin.begin() as connection:
        connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def differences(url, metadata=SQLModel.metadata):
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return compare_metadata(context, metadata)
    finally:
        engine.dispose()


def test_migrations_match_the_models(empty_database):
    upgrade(empty_database)
    assert differences(empty_database) == []


def test_migrations_go_down_and_up_again(empty_database):
    upgrade(empty_database)
    command.downgrade(alembic_config(empty_database), "base")
    engine = make_engine(empty_database)
    with engine.connect() as connection:
        left = set(sa.inspect(connection).get_table_names()) - {"alembic_version"}
    engine.dispose()
    assert left == set()
    upgrade(empty_database)
    assert differences(empty_database) == []


def test_a_model_change_without_migration_is_detected(empty_database):
    """The comparison really looks: a column the migrations lack shows up."""
    upgrade(empty_database)
    changed = sa.MetaData()
    for table in SQLModel.metadata.sorted_tables:
        table.to_metadata(changed)
    changed.tables["brand"].append_column(sa.Column("not_migrated", sa.Integer))
    assert any("not_migrated" in repr(diff) for diff in differences(empty_database, changed))
