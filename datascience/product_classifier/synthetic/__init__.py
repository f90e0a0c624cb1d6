"""The synthetic sample: French product texts and drawn photos in the original Rakuten format."""
