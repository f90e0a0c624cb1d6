"""Errors a person running a training CLI can fix (reported as one line, without a traceback)."""


class TrainingInputError(Exception):
    """The inputs of a training run are missing or invalid (dataset folder, model URIs...)."""
