"""Score a whole catalogue with a registered model, on this machine or on Apache Spark.

One job per module: :mod:`.columns` (the output table), :mod:`.catalogue` (reading the input
formats, the same row rules for both engines), :mod:`.images` (finding each row's image),
:mod:`.rows` (one batch through the model's pyfunc interface, bad rows isolated),
:mod:`.model_reference` (which registered version scores), :mod:`.local_engine` (batched,
resumable part files) and :mod:`.spark_engine` (a pandas UDF over the same model).
"""
