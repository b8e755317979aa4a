"""an organization's profiles by network

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 23:18:42.713117
"""
from alembic import op


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('social_profile', schema=None) as batch_op:
        batch_op.create_index('ix_social_profile_organization_network', ['organization_id', 'network', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('social_profile', schema=None) as batch_op:
        batch_op.drop_index('ix_social_profile_organization_network')

