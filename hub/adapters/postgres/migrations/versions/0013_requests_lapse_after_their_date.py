"""a court's or probation's request is needed by a date (the hearing it adjourned to, the
report's due date) and lapses unanswered after it

Revision ID: 0013
Revises: 0012

Requests opened before this revision have no date: they never lapse.
"""

from alembic import op
import sqlalchemy as sa

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('assessment_requests', sa.Column('needed_by', sa.Date(), nullable=True))
    op.add_column('assessment_requests',
                  sa.Column('lapsed_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column('assessment_requests', 'lapsed_at')
    op.drop_column('assessment_requests', 'needed_by')
