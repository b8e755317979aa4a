"""why a renewal link's or an invitation's email could not be sent

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-08 12:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    for table in ('renewal_link', 'connect_invitation'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('email_error', sa.Text(), nullable=True))


def downgrade():
    for table in ('connect_invitation', 'renewal_link'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('email_error')
