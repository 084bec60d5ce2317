"""Persistence: SQLAlchemy 2.0 models, engine and session, Alembic migrations. No business rules."""
