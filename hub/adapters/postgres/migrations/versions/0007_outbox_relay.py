"""outbox relay: index of the rows still waiting to be published

Revision ID: 0007
Revises: 0006
"""

from alembic import op
import sqlalchemy as sa

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_outbox_unpublished', 'outbox', ['id'], unique=False,
                    postgresql_where=sa.text('published_at IS NULL'))


def downgrade() -> None:
    op.drop_index('ix_outbox_unpublished', table_name='outbox',
                  postgresql_where=sa.text('published_at IS NULL'))
