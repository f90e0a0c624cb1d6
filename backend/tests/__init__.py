"""Tests of the backend (API, database, serving, scripts)."""
