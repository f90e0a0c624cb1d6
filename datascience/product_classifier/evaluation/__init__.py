"""Replaying labelled rows through two registered versions, and promotion gated on the result."""
