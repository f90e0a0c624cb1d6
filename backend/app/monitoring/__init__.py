"""Live model monitoring from stored predictions and feedback: quality, errors and drift."""
