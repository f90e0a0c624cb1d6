"""Model architectures and their featurizers: text, image and fusion."""
