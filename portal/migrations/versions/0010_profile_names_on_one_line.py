"""profile names and handles on one line

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-08 10:00:00.000000
"""
from alembic import op
import sqlalchemy as sa

from portal.text import profile_name


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    """The names and handles stored before the networks' answers were cleaned
    (`portal.text.profile_name`), cleaned as they are now: a line break in
    one stopped every email of its batch."""
    connection = op.get_bind()
    update = sa.text("UPDATE social_profile SET name = :name, handle = :handle WHERE id = :id")
    for profile_id, name, handle, external_id in connection.execute(sa.text(
            "SELECT id, name, handle, external_id FROM social_profile")).all():
        clean = profile_name(name, handle, external_id)
        if clean != (name, handle):
            connection.execute(update, {"name": clean[0], "handle": clean[1], "id": profile_id})


def downgrade():
    """The line breaks removed are not put back: nothing to undo."""
