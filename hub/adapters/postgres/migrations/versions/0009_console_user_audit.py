"""console user audit: who created, changed, disabled or enabled a console user

Revision ID: 0009
Revises: 0008
"""

from alembic import op
import sqlalchemy as sa

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ops_user_changes',
    sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
    sa.Column('username', sa.String(length=100), nullable=False),
    sa.Column('change', sa.String(length=40), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_ops_user_changes_username'), 'ops_user_changes', ['username'],
                    unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_ops_user_changes_username'), table_name='ops_user_changes')
    op.drop_table('ops_user_changes')
