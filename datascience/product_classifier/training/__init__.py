"""Training shared by the text, image and fusion models: one pipeline, the differences as tasks."""
