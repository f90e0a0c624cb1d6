"""Speed benchmarks of the datascience workflow.

Run them from ``datascience/`` as ``python -m benchmarks.NAME``.
"""
