"""Database: engine and sessions, ORM models, migrations helpers and data access."""
