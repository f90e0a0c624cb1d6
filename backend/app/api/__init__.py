"""HTTP layer: dependencies and versioned routes."""
