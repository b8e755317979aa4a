"""each person's time zone; notices resolved by a renewal

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 23:00:00.000000
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel

import portal.db


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('timezone', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.add_column(sa.Column('resolved_at', portal.db.UTCDateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_column('resolved_at')
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('timezone')
