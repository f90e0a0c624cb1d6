"""Speed measurements of the API (run them by hand; they print their figures)."""
