"""MLflow side of training: tracking store, experiments, logged models and the model registry."""
