"""Command-line helpers of the backend (run from backend/ with ``python -m scripts.NAME``)."""
