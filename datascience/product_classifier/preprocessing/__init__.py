"""Preprocessing shared by training and serving: text cleaning and image optimisation."""
