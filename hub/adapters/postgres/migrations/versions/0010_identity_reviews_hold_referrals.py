"""identity reviews hold referrals; candidate search by family name and postcode district

Revision ID: 0010
Revises: 0009
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('triage_items', sa.Column('review_id', postgresql.UUID(as_uuid=False),
                                            nullable=True))
    op.add_column('triage_items', sa.Column('residence_reason', sa.String(length=40),
                                            nullable=True))
    op.create_foreign_key('triage_items_review_id_fkey', 'triage_items', 'triage_items',
                          ['review_id'], ['id'])
    op.create_index(op.f('ix_triage_items_review_id'), 'triage_items', ['review_id'],
                    unique=False)
    op.create_index('ix_triage_items_open_person', 'triage_items', ['person_id'], unique=False,
                    postgresql_where=sa.text("status = 'open'"))
    op.create_index('ix_person_demographics_name_district', 'person_demographics',
                    ['family_name', sa.text("split_part(postcode, ' ', 1)")], unique=False)


def downgrade() -> None:
    op.drop_index('ix_person_demographics_name_district', table_name='person_demographics')
    op.drop_index('ix_triage_items_open_person', table_name='triage_items')
    op.drop_index(op.f('ix_triage_items_review_id'), table_name='triage_items')
    op.drop_constraint('triage_items_review_id_fkey', 'triage_items', type_='foreignkey')
    op.drop_column('triage_items', 'residence_reason')
    op.drop_column('triage_items', 'review_id')
