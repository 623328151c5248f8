"""Alembic migrations of the workflow database (run by ``WorkflowDB.upgrade()``; no alembic.ini needed)."""
