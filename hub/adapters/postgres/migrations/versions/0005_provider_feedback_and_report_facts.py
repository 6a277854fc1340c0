"""provider feedback and report facts

Revision ID: 0005
Revises: 0004
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('inbound_events', sa.Column('site', sa.Text(), nullable=True))
    op.add_column('inbound_events', sa.Column('authority', sa.String(length=9), nullable=True))
    op.add_column('inbound_events', sa.Column('facts', postgresql.JSONB(astext_type=sa.Text()), nullable=True))
    op.create_index(op.f('ix_inbound_events_occurred_at'), 'inbound_events', ['occurred_at'], unique=False)
    op.add_column('referrals', sa.Column('milestone', sa.String(length=30), server_default='referred', nullable=False))
    op.add_column('referrals', sa.Column('task', postgresql.JSONB(astext_type=sa.Text()), nullable=True))
    op.add_column('referrals', sa.Column('authority', sa.String(length=9), nullable=True))
    op.create_table('referral_feedback',
    sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
    sa.Column('referral_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('event_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('provider_id', sa.String(length=40), nullable=False),
    sa.Column('milestone', sa.String(length=30), nullable=False),
    sa.Column('reason', sa.String(length=40), nullable=True),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('effect', sa.String(length=20), nullable=False),
    sa.Column('milestone_before', sa.String(length=30), nullable=False),
    sa.Column('milestone_after', sa.String(length=30), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['inbound_events.event_id'], ),
    sa.ForeignKeyConstraint(['referral_id'], ['referrals.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('event_id')
    )
    op.create_index(op.f('ix_referral_feedback_referral_id'), 'referral_feedback', ['referral_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_referral_feedback_referral_id'), table_name='referral_feedback')
    op.drop_table('referral_feedback')
    op.drop_column('referrals', 'authority')
    op.drop_column('referrals', 'task')
    op.drop_column('referrals', 'milestone')
    op.drop_index(op.f('ix_inbound_events_occurred_at'), table_name='inbound_events')
    op.drop_column('inbound_events', 'facts')
    op.drop_column('inbound_events', 'authority')
    op.drop_column('inbound_events', 'site')
