"""Data folders: original Rakuten format, dataset folders, splits, merging and feedback export."""
