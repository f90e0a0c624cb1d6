"""After a model load, what the process keeps is frozen out of the full garbage collections."""

import gc
import uuid
import weakref

from app.inference.long_lived_objects import freeze_long_lived_objects
from app.inference.model_server import ModelServer
from tests.helpers.models import TrainedModels
from tests.inference.test_serving import registry


class _Node:
    """An object the cyclic garbage collector tracks (it can hold a reference cycle)."""

    def __init__(self) -> None:
        self.partner: _Node | None = None


def _tracked(target: object) -> bool:
    """Whether a collection would walk ``target`` (frozen objects are in no generation)."""
    return any(each is target for each in gc.get_objects())


def test_objects_alive_at_the_freeze_leave_the_collections() -> None:
    kept = _Node()
    assert _tracked(kept)
    assert freeze_long_lived_objects() == gc.get_freeze_count() > 0
    assert not _tracked(kept)
    assert _tracked(_Node())  # made after the freeze: collected as usual


def test_a_frozen_cycle_dropped_later_is_collected_at_the_next_freeze() -> None:
    # The replaced model's reference cycles: frozen at its load, garbage once replaced.
    first, second = _Node(), _Node()
    first.partner, second.partner = second, first
    watcher = weakref.ref(first)
    freeze_long_lived_objects()
    del first, second
    gc.collect()
    assert watcher() is not None  # frozen: a plain collection leaves it
    freeze_long_lived_objects()
    assert watcher() is None


def test_loading_a_model_freezes_what_the_process_keeps(
    tracking_uri: str, trained_text: TrainedModels
) -> None:
    alias = f"freeze-{uuid.uuid4().hex[:6]}"
    registry(tracking_uri).set_registered_model_alias("text", alias, "1")
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    server = ModelServer(
        tracking_uri=tracking_uri, model_name="text", model_alias=alias, reload_interval=3600
    )
    assert server.refresh()
    assert server.current is not None
    assert gc.get_freeze_count() > 0
    assert not _tracked(server.current)
