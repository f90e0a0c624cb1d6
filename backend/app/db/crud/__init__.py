"""Data access functions, one module per table."""
