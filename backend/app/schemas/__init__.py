"""Pydantic shapes of what the API reads and returns."""
