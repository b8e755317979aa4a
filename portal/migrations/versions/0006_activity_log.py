"""the activity log: each event keeps its values, its profile's name and network and its actor's name

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05 09:00:00.000000
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

# The renewal modes the events of before wrote as their detail ("silent",
# "interactive: denied").
MODES = {"silent", "interactive", "health_check", "system_user"}


def upgrade():
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('data', sa.JSON(), nullable=False, server_default='{}'))
        batch_op.add_column(sa.Column('profile_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False,
                                      server_default=''))
        batch_op.add_column(sa.Column('profile_network', sqlmodel.sql.sqltypes.AutoString(length=40),
                                      nullable=False, server_default=''))
        batch_op.add_column(sa.Column('actor_name', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False,
                                      server_default=''))
        batch_op.drop_index('ix_audit_event_organization_id')
        batch_op.create_index('ix_audit_event_organization_created', ['organization_id', 'created_at', 'id'],
                              unique=False)
    connection = op.get_bind()
    connection.execute(sa.text(
        "UPDATE audit_event SET"
        " profile_name = COALESCE((SELECT name FROM social_profile WHERE social_profile.id = audit_event.profile_id), ''),"
        " profile_network = COALESCE((SELECT network FROM social_profile"
        "                             WHERE social_profile.id = audit_event.profile_id), '')"
        " WHERE profile_id IS NOT NULL"
    ))
    connection.execute(sa.text(
        "UPDATE audit_event SET actor_name = COALESCE((SELECT CASE WHEN name <> '' THEN name ELSE email END"
        " FROM \"user\" WHERE \"user\".id = audit_event.user_id), '') WHERE user_id IS NOT NULL"
    ))
    # The demo seed's codes of before.
    connection.execute(sa.text(
        "UPDATE audit_event SET action = 'token.renewed' WHERE action = 'credential.renewed'"))
    connection.execute(sa.text(
        "UPDATE audit_event SET action = 'token.failed', detail = 'health_check: ' || detail"
        " WHERE action = 'credential.invalidated'"))
    connection.execute(sa.text(
        "UPDATE audit_event SET detail = '' WHERE action = 'profile.connected'"))
    # A renewal's events said "mode" or "mode: reason": their values, for the vocabulary to word.
    renewals = connection.execute(sa.text(
        "SELECT id, detail FROM audit_event WHERE action IN ('token.renewed', 'token.failed')"
    )).all()
    update = sa.text("UPDATE audit_event SET data = :data, detail = '' WHERE id = :id").bindparams(
        sa.bindparam("data", type_=sa.JSON))
    for event_id, detail in renewals:
        mode, _, reason = (detail or "").partition(": ")
        if mode in MODES:
            connection.execute(update, {"data": {"mode": mode, **({"reason": reason} if reason else {})},
                                        "id": event_id})


def downgrade():
    connection = op.get_bind()
    renewals = connection.execute(sa.text(
        "SELECT id, data FROM audit_event WHERE action IN ('token.renewed', 'token.failed')"
    ).columns(data=sa.JSON)).all()
    for event_id, values in renewals:
        if values and values.get("mode"):
            detail = values["mode"] + (f": {values['reason']}" if values.get("reason") else "")
            connection.execute(sa.text("UPDATE audit_event SET detail = :detail WHERE id = :id"),
                               {"detail": detail, "id": event_id})
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_event_organization_created')
        batch_op.create_index('ix_audit_event_organization_id', ['organization_id'], unique=False)
        batch_op.drop_column('actor_name')
        batch_op.drop_column('profile_network')
        batch_op.drop_column('profile_name')
        batch_op.drop_column('data')
