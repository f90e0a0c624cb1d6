"""FastAPI service predicting product categories, storing predictions and feedback."""
