"""What ``/models/current`` and ``/health/ready`` tell about the served model and the registry.

The served version and the version the alias points at can differ: while a new version loads,
after it failed to load (the previous one keeps serving), or while the registry cannot be asked.
These functions turn the :class:`~app.inference.model_server.ModelServer`'s memory of its last
registry check into the published shapes, and into plain warnings for the readiness probe.
"""

from app.inference.model_server import AliasTarget, ModelServer, ServedModel
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
    target = server.alias_target
    if target is not None and target.load_error and _state(target, server.current) == "failed":
        served = server.current
        kept = f"still serving version {served.version}" if served else "no model is served"
        warnings.append(
            f"{server.model_uri} points at version {target.version}, which failed to load "
            f"({kept}): {target.load_error}"
        )
    return warnings
