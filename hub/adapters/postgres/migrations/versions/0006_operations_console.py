"""operations console: dead letter actions, users, triage decisions

Revision ID: 0006
Revises: 0005
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('dead_letters', sa.Column('source_system', sa.String(length=200), nullable=True))
    op.add_column('dead_letters', sa.Column('event_type', sa.String(length=100), nullable=True))
    op.add_column('dead_letters', sa.Column('version', sa.Integer(), server_default='0', nullable=False))
    op.add_column('dead_letters', sa.Column('acted_by', sa.String(length=100), nullable=True))
    op.add_column('dead_letters', sa.Column('acted_at', sa.DateTime(timezone=True), nullable=True))
    op.create_table('dead_letter_actions',
    sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
    sa.Column('dead_letter_id', sa.BigInteger(), nullable=False),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('edits', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('original_value', sa.LargeBinary(), nullable=True),
    sa.Column('sent_value', sa.LargeBinary(), nullable=True),
    sa.Column('replay_id', sa.String(length=36), nullable=True),
    sa.Column('replay_topic', sa.String(length=249), nullable=True),
    sa.Column('replay_partition', sa.Integer(), nullable=True),
    sa.Column('replay_offset', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['dead_letter_id'], ['dead_letters.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_dead_letter_actions_dead_letter_id'), 'dead_letter_actions', ['dead_letter_id'], unique=False)
    op.create_table('ops_users',
    sa.Column('username', sa.String(length=100), nullable=False),
    sa.Column('password_hash', sa.Text(), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('disabled', sa.Boolean(), server_default='false', nullable=False),
    sa.PrimaryKeyConstraint('username')
    )
    op.create_table('triage_decisions',
    sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
    sa.Column('triage_item_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('decision', sa.String(length=30), nullable=False),
    sa.Column('detail', sa.String(length=100), nullable=True),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['triage_item_id'], ['triage_items.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_triage_decisions_triage_item_id'), 'triage_decisions', ['triage_item_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_triage_decisions_triage_item_id'), table_name='triage_decisions')
    op.drop_table('triage_decisions')
    op.drop_table('ops_users')
    op.drop_index(op.f('ix_dead_letter_actions_dead_letter_id'), table_name='dead_letter_actions')
    op.drop_table('dead_letter_actions')
    op.drop_column('dead_letters', 'acted_at')
    op.drop_column('dead_letters', 'acted_by')
    op.drop_column('dead_letters', 'version')
    op.drop_column('dead_letters', 'event_type')
    op.drop_column('dead_letters', 'source_system')
