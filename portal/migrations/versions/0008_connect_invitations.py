"""invitations to clients to connect their profiles

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 22:53:03.111001
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import portal.db


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('connect_invitation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('email', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
    sa.Column('networks', sqlmodel.sql.sqltypes.AutoString(length=400), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('brand_id', sa.Integer(), nullable=True),
    sa.Column('locale', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('secret_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('invited_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', portal.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', portal.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('connected', sqlmodel.sql.sqltypes.AutoString(length=400), nullable=False),
    sa.ForeignKeyConstraint(['brand_id'], ['brand.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['invited_by_id'], ['user.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('secret_hash')
    )
    with op.batch_alter_table('connect_invitation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_connect_invitation_organization_id'), ['organization_id'], unique=False)



def downgrade():
    with op.batch_alter_table('connect_invitation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_connect_invitation_organization_id'))

    op.drop_table('connect_invitation')
