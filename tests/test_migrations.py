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


def test_names_stored_with_line_breaks_are_put_on_one_line(empty_database):
    """Profiles a network named with control characters before they were cleaned on the way in."""
    upgrade(empty_database, "0009")
    engine = make_engine(empty_database)
    now = "2026-12-01 00:00:00"
    with engine.begin() as connection:
        connection.execute(sa.text(
            "INSERT INTO organization (id, name, expiry_window_days, notification_thresholds, created_at, version)"
            " VALUES (1, 'Northwind', 14, '7,3,1,0', :now, 0)"), {"now": now})
        connection.execute(sa.text(
            "INSERT INTO social_profile (id, organization_id, network, external_id, name, handle, created_at)"
            " VALUES (:id, 1, 'facebook', :external_id, :name, :handle, :now)"), [
            {"id": 1, "external_id": "fb-1", "name": "North\nwind\u2028Café", "handle": "@north\rwind", "now": now},
            {"id": 2, "external_id": "fb-2", "name": "\r\n", "handle": "", "now": now},
            {"id": 3, "external_id": "fb-3", "name": "Harbor Fitness", "handle": "@harbor", "now": now},
        ])
    upgrade(empty_database)
    with engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT name, handle FROM social_profile ORDER BY id")).all()
    engine.dispose()
    assert [tuple(row) for row in rows] == [("North wind Café", "@north wind"), ("fb-2", ""),
                                            ("Harbor Fitness", "@harbor")]
