"""Data folders: original Rakuten format, dataset folders, splits and the sample generator."""
