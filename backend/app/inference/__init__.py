"""Model serving: registry loading with hot reload, image checks, predictions."""
