"""Product categorisation models: datasets, preprocessing, training, tracking and serving.

Modules under ``product_classifier.serving`` and the ones they import (``categories``,
``preprocessing``) only need the runtime dependencies, because they travel with every logged
MLflow model as its code.
"""
