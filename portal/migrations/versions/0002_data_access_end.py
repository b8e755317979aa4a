"""credentials found by the end of their data access

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04 20:30:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('credential', schema=None) as batch_op:
        batch_op.create_index('ix_credential_current_data_access_end', ['data_access_expires_at'], unique=False, sqlite_where=sa.text('superseded_at IS NULL'), postgresql_where=sa.text('superseded_at IS NULL'))


def downgrade():
    with op.batch_alter_table('credential', schema=None) as batch_op:
        batch_op.drop_index('ix_credential_current_data_access_end', sqlite_where=sa.text('superseded_at IS NULL'), postgresql_where=sa.text('superseded_at IS NULL'))
