"""the person who granted a credential, at the network

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 03:44:36.429609
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('credential', schema=None) as batch_op:
        batch_op.add_column(sa.Column('person_external_id', sqlmodel.sql.sqltypes.AutoString(length=120),
                                      nullable=True))


def downgrade():
    with op.batch_alter_table('credential', schema=None) as batch_op:
        batch_op.drop_column('person_external_id')
