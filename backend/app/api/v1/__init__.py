"""Version 1 of the API (mounted under ``API_V1_STR``)."""
