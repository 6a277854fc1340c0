"""postcode directory: unit postcodes → local authority, loaded by operators from ONSPD/NSPL

Revision ID: 0008
Revises: 0007
"""

from alembic import op
import sqlalchemy as sa

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('postcode_directory',
    sa.Column('postcode', sa.String(length=8), nullable=False),
    sa.Column('authority_code', sa.String(length=9), nullable=False),
    sa.Column('terminated', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('postcode')
    )
    op.create_table('postcode_directory_loads',
    sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
    sa.Column('source_name', sa.String(length=300), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('rows_read', sa.BigInteger(), nullable=False),
    sa.Column('units_kept', sa.BigInteger(), nullable=False),
    sa.Column('loaded_by', sa.String(length=100), nullable=False),
    sa.Column('loaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )


def downgrade() -> None:
    op.drop_table('postcode_directory_loads')
    op.drop_table('postcode_directory')
