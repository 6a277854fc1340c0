"""a court's or probation's open request keeps its subject, so deciding the identity review
that held it can answer it with the assessment on record

Revision ID: 0012
Revises: 0011

Requests opened before this revision have no subject: they are still answered by a later
assessment (about the person in that assessment's references), not when a review is decided.
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('assessment_requests',
                  sa.Column('subject', postgresql.JSONB(astext_type=sa.Text()), nullable=True))


def downgrade() -> None:
    op.drop_column('assessment_requests', 'subject')
