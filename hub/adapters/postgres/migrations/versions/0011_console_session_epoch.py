"""console sessions can be ended: a per-user session epoch

Revision ID: 0011
Revises: 0010
"""

from alembic import op
import sqlalchemy as sa

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('ops_users', sa.Column('session_epoch', sa.Integer(), server_default='0',
                                         nullable=False))


def downgrade() -> None:
    op.drop_column('ops_users', 'session_epoch')
