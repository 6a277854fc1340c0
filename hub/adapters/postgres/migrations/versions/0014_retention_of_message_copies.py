"""copies of messages can be removed under a retention policy (`hub retention purge`): the
outbox row and the dead-letter action keep what happened, not the message

Revision ID: 0014
Revises: 0013
"""

from alembic import op
import sqlalchemy as sa

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('outbox', sa.Column('purged_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('dead_letter_actions',
                  sa.Column('purged_at', sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        'retention_runs',
        sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('messages_days', sa.Integer(), nullable=True),
        sa.Column('dead_letters_days', sa.Integer(), nullable=True),
        sa.Column('messages_purged', sa.BigInteger(), nullable=False),
        sa.Column('dead_letters_purged', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )


def downgrade() -> None:
    op.drop_table('retention_runs')
    op.drop_column('dead_letter_actions', 'purged_at')
    op.drop_column('outbox', 'purged_at')
