"""What ``/models/current`` and ``/health/ready`` tell about the served model and the registry.

The served version and the version the alias points at can differ: while a new version loads,
after it failed to load (the previous one keeps serving), or while the registry cannot be asked.
These functions turn the :class:`~app.inference.model_server.ModelServer`'s memory of its last
registry check into the published shapes, and into plain warnings for the readiness probe.
"""

from app.inference.model_server import AliasTarget, ModelServer, ServedModel
from app.inference.shadow import ShadowPredictor
from app.schemas.serving import AliasState, AliasTargetInfo, RegistryStatus


def _state(target: AliasTarget, served: ServedModel | None) -> AliasState:
    if target.version is None:
        return "unset"
    if served is not None and served.version == target.version:
        return "served"
    return "failed" if target.load_error else "loading"


def alias_target_info(server: ModelServer) -> AliasTargetInfo | None:
    """Where the alias points and whether that version is served (``None`` before any check)."""
    target = server.alias_target
    if target is None:
        return None
    return AliasTargetInfo(
        version=target.version,
        run_id=target.run_id,
        state=_state(target, server.current),
        load_error=target.load_error,
        checked_at=target.checked_at,
    )


def registry_status(server: ModelServer) -> RegistryStatus:
    """Whether the last registry check succeeded, and why not."""
    problem = server.registry_problem
    if problem is None:
        return RegistryStatus(reachable=True)
    return RegistryStatus(reachable=False, error=problem.error, unreachable_since=problem.since)


def model_warnings(server: ModelServer) -> list[str]:
    """Plain sentences for what is wrong with the registry or the alias (empty when all is well).

    Example: ``"model registry unreachable since 2026-11-30T06:01:02Z: ConnectionError: ..."``.
    """
    warnings = []
    problem = server.registry_problem
    if problem is not None:
        since = problem.since.isoformat(timespec="seconds")
        warnings.append(
            f"model registry unreachable since {since} (cannot check {server.model_uri}): "
            f"{problem.error}"
        )
    warnings += _failed_alias(server, "still serving version {}", "no model is served")
    target, served = server.alias_target, server.current
    if target is not None and target.version is None and served is not None:
        warnings.append(
            f"{server.model_uri} points at no version any more (the alias was removed): still "
            f"serving version {served.version}; give a version the alias again"
        )
    return warnings


def challenger_warnings(shadow: ShadowPredictor | None) -> list[str]:
    """Plain sentences for a challenger alias that moved to a version that failed to load."""
    if shadow is None:
        return []
    return _failed_alias(
        shadow.challenger, "still shadowing with version {}", "no challenger is shadowing"
    )


def _failed_alias(server: ModelServer, kept: str, none_kept: str) -> list[str]:
    """The warning of an alias pointing at a version that failed to load (else none).

    Args:
        server: The served or challenger model's server.
        kept: What still runs, with ``{}`` for its version.
        none_kept: What is said when no version was loaded before.
    """
    target, served = server.alias_target, server.current
    if target is None or not target.load_error or _state(target, served) != "failed":
        return []
    still = kept.format(served.version) if served else none_kept
    return [
        f"{server.model_uri} points at version {target.version}, which failed to load "
        f"({still}): {target.load_error}"
    ]
