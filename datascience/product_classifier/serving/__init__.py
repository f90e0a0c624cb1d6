"""Runtime side of the models: what a logged MLflow model carries and runs at prediction time."""
