"""Argument types of the backend benchmarks: those of ``datascience/scripts/cli_support.py``.

The benchmarks run from ``backend/``, where ``scripts`` is the backend's own package, so the
datascience module cannot be imported by its name: it is loaded from its file (it imports only
``product_classifier``, installed in the same environment) under another module name.
"""

import argparse
import importlib.util
import sys
from types import ModuleType
from typing import Final

from product_classifier.paths import REPOSITORY_ROOT

CLI_SUPPORT: Final = REPOSITORY_ROOT / "datascience" / "scripts" / "cli_support.py"
_MODULE_NAME: Final = "datascience_cli_support"


def _cli_support() -> ModuleType:
    """Import ``datascience/scripts/cli_support.py`` once."""
    if _MODULE_NAME in sys.modules:
        return sys.modules[_MODULE_NAME]
    spec = importlib.util.spec_from_file_location(_MODULE_NAME, CLI_SUPPORT)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {CLI_SUPPORT}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[_MODULE_NAME] = module
    spec.loader.exec_module(module)
    return module


def positive_int(text: str) -> int:
    """Argparse type: an integer of at least 1 (``cli_support.positive_int``)."""
    return int(_cli_support().positive_int(text))


def positive_float(text: str) -> float:
    """Argparse type: a finite number above 0 (``cli_support.finite_float``, then the bound)."""
    value = float(_cli_support().finite_float(text))
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text} must be above 0")
    return value
