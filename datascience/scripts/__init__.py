"""Command-line entry points of the datascience workflow.

Run them from ``datascience/`` as ``python -m scripts.NAME --help``.
"""
