"""Entry point of every logged model (MLflow "models from code").

MLflow copies this file into the logged model and runs it when the model loads (after putting
the logged copy of this package on ``sys.path``), so no pickled Python object is involved.
"""

from mlflow.models import set_model

from product_classifier.serving.pyfunc import ProductClassifier

set_model(ProductClassifier())
