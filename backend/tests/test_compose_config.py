"""The Docker Compose deployment, the two Dockerfiles and the ``.env`` template agree.

Docker cannot run here, so these tests read the files: every variable the compose file uses is
documented or defaulted, the ports exposed by the images are the ones compose publishes and the
servers listen on, the API receives only settings it knows, the services share one set of
database credentials, and the compose tools (and the compose JSON schema) accept the file.
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]

from app.core.config import Settings
from product_classifier.paths import REPOSITORY_ROOT

COMPOSE_FILE = REPOSITORY_ROOT / "docker-compose.yaml"
ENV_FILE = REPOSITORY_ROOT / ".env"
DOCKERIGNORE = REPOSITORY_ROOT / ".dockerignore"
COMPOSE_SCHEMA = Path("/usr/lib/python3/dist-packages/compose/config/compose_spec.json")
SYSTEM_PYTHON = Path("/usr/bin/python3")

# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?error}, ${NAME?error}; `$$` escapes.
VARIABLE = re.compile(r"(?<!\$)\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?P<modifier>:?[-?][^}]*)?\}")
BARE_VARIABLE = re.compile(r"(?<!\$)\$(?P<name>[A-Za-z_][A-Za-z0-9_]*)")

# Variables the API process reads that are not Settings fields, and who reads them.
NON_SETTINGS_VARIABLES = {
    "API_WORKERS": "backend/Dockerfile CMD (python -m app.serve --workers)",
    "MLFLOW_DISABLE_TELEMETRY": "MLflow itself",
}
# Prefixes of variables read by other parts: the demo bootstrap of start.sh, OpenTelemetry.
OTHER_READERS_PREFIXES = ("DEMO_", "OTEL_")
SERVICE_PORT_VARIABLES = {"api": "BACKEND_PORT", "mlflow": "MLFLOW_PORT"}
SERVICE_DOCKERFILES = {"api": "backend/Dockerfile", "mlflow": "datascience/Dockerfile"}


def compose() -> dict[str, Any]:
    """The compose file, parsed (YAML anchors and merge keys resolved)."""
    loaded = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def service(name: str) -> dict[str, Any]:
    """One service of the compose file."""
    services = compose()["services"]
    assert name in services, f"docker-compose.yaml has no {name!r} service"
    found = services[name]
    assert isinstance(found, dict)
    return found


def env_template() -> dict[str, str]:
    """The ``NAME=value`` lines of ``.env`` (comments and blank lines skipped)."""
    values = {}
    for line in ENV_FILE.read_text(encoding="utf-8").splitlines():
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        name, separator, value = text.partition("=")
        assert separator, f".env line without '=': {line!r}"
        values[name.strip()] = value.strip().strip('"')
    return values


def documented_names() -> set[str]:
    """Names that ``.env`` documents, as active lines or commented-out examples."""
    pattern = re.compile(r"^#?\s*([A-Z][A-Z0-9_]*)=", re.MULTILINE)
    return set(pattern.findall(ENV_FILE.read_text(encoding="utf-8")))


def dockerfile_instructions(path: str) -> list[tuple[str, str]]:
    """The Dockerfile's instructions as (KEYWORD, arguments), continuation lines joined."""
    text = (REPOSITORY_ROOT / path).read_text(encoding="utf-8")
    joined = re.sub(r"\\\n", " ", text)
    instructions = []
    for line in joined.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        keyword, _, arguments = stripped.partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
    return instructions


def exposed_ports(path: str) -> set[int]:
    """Ports of the Dockerfile's EXPOSE instructions."""
    ports: set[int] = set()
    for keyword, arguments in dockerfile_instructions(path):
        if keyword == "EXPOSE":
            ports.update(int(item.split("/")[0]) for item in arguments.split())
    return ports


def final_cmd(path: str) -> str:
    """The last CMD of the Dockerfile (the one the image runs)."""
    instructions = dockerfile_instructions(path)
    commands = [arguments for keyword, arguments in instructions if keyword == "CMD"]
    assert commands, f"{path} has no CMD"
    return commands[-1]


def published_ports(name: str) -> list[tuple[str, int]]:
    """(host part, container port) of each ``ports`` entry of a service."""
    entries = []
    for entry in service(name).get("ports", []):
        host, _, container = str(entry).rpartition(":")
        entries.append((host, int(container.split("/")[0])))
    return entries


def command_text(name: str) -> str:
    """The service's command, or its image's CMD, as one string."""
    command = service(name).get("command")
    if command is None:
        return final_cmd(SERVICE_DOCKERFILES[name])
    return " ".join(command) if isinstance(command, list) else str(command)


def clean_environment() -> dict[str, str]:
    """PATH and HOME only: the test session's variables must not leak into compose."""
    return {key: os.environ[key] for key in ("PATH", "HOME") if key in os.environ}


# --- variables -----------------------------------------------------------------------------


def test_every_compose_variable_is_documented_or_defaulted() -> None:
    text = COMPOSE_FILE.read_text(encoding="utf-8")
    documented = documented_names()
    used = list(VARIABLE.finditer(text))
    assert used, "expected ${...} variables in docker-compose.yaml"
    missing = sorted(
        {
            match["name"]
            for match in used
            if not (match["modifier"] or "").lstrip(":").startswith("-")
            and match["name"] not in documented
        }
    )
    assert not missing, f"variables neither documented in .env nor defaulted: {missing}"
    bare = sorted({match["name"] for match in BARE_VARIABLE.finditer(text)})
    assert not bare, f"use ${{NAME:-default}} rather than bare $NAME in compose: {bare}"


def test_env_template_holds_only_known_variables() -> None:
    unknown = sorted(
        name
        for name in env_template()
        if name not in Settings.model_fields
        and name not in NON_SETTINGS_VARIABLES
        and not name.startswith(OTHER_READERS_PREFIXES)
    )
    assert not unknown, f".env documents variables nothing reads: {unknown}"


def test_api_environment_names_are_settings_fields() -> None:
    environment = service("api").get("environment", {})
    assert isinstance(environment, dict)
    unknown = sorted(
        name
        for name in environment
        if name not in Settings.model_fields and name not in NON_SETTINGS_VARIABLES
    )
    assert not unknown, f"api environment variables the API does not read: {unknown}"
    assert "API_WORKERS" in final_cmd("backend/Dockerfile")


def test_env_template_defaults_match_the_settings_defaults() -> None:
    values = env_template()
    for name in ("BACKEND_PORT", "MLFLOW_PORT", "MODEL_NAME", "MODEL_ALIAS", "API_V1_STR"):
        default = Settings.model_fields[name].default
        assert values[name] == str(default), f".env {name}={values[name]}, Settings: {default}"


def test_api_and_mlflow_use_the_database_credentials_of_the_db_service() -> None:
    db = service("db")["environment"]
    api = service("api")["environment"]
    for name in ("POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB"):
        assert api.get(name) == db[name], (
            f"api {name}={api.get(name)!r} but db {name}={db[name]!r}: an empty .env value "
            "would give them different credentials"
        )
    assert api["POSTGRES_SERVER"] == "db"
    store = re.search(r"--backend-store-uri=(\S+)", command_text("mlflow"))
    assert store is not None
    expected = (
        f"postgresql+psycopg2://{db['POSTGRES_USER']}:{db['POSTGRES_PASSWORD']}"
        f"@db:{api['POSTGRES_PORT']}/{db['MLFLOW_DB']}"
    )
    assert store.group(1) == expected


# --- ports ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["api", "mlflow"])
def test_published_port_is_exposed_and_served(name: str) -> None:
    exposed = exposed_ports(SERVICE_DOCKERFILES[name])
    assert len(exposed) == 1, f"{SERVICE_DOCKERFILES[name]} should EXPOSE one port: {exposed}"
    (port,) = exposed
    entries = published_ports(name)
    assert entries, f"service {name} publishes no port"
    variable = SERVICE_PORT_VARIABLES[name]
    default = Settings.model_fields[variable].default
    for host, container in entries:
        assert container == port, f"{name} publishes container port {container}, image: {port}"
        assert host == f"127.0.0.1:${{{variable}:-{default}}}", host
    command = command_text(name)
    assert re.search(rf"--port[= ]{port}\b", command), f"{name} does not listen on {port}"
    health = " ".join(service(name)["healthcheck"]["test"])
    assert f"127.0.0.1:{port}/" in health, f"{name} health check does not use port {port}"


def test_services_reach_mlflow_on_its_port() -> None:
    (port,) = exposed_ports("datascience/Dockerfile")
    for name in ("api", "training"):
        uri = service(name)["environment"]["MLFLOW_TRACKING_URI"]
        assert uri == f"http://mlflow:{port}", f"{name}: {uri}"
    allowed = re.search(r"--allowed-hosts=(\S+)", command_text("mlflow"))
    assert allowed is not None, "MLflow 3 rejects the Host 'mlflow:5000' without --allowed-hosts"
    assert "mlflow:*" in allowed.group(1).split(",")


def test_image_build_inputs_exist_and_are_not_ignored() -> None:
    ignored = [
        line.strip()
        for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    for name, dockerfile in SERVICE_DOCKERFILES.items():
        assert service(name)["build"]["dockerfile"] == dockerfile
        for keyword, arguments in dockerfile_instructions(dockerfile):
            if keyword != "COPY" or "--from=" in arguments:
                continue
            *sources, _ = arguments.split()
            for source in sources:
                assert (REPOSITORY_ROOT / source).exists(), f"{dockerfile}: COPY {source}"
                top = source.split("/")[0]
                assert top not in ignored, f"{dockerfile}: {source} is in .dockerignore"


# --- the compose tools and the schema -------------------------------------------------------


def run_config(command: list[str]) -> subprocess.CompletedProcess[str]:
    """Run ``<compose> config -q`` in the repository root."""
    return subprocess.run(
        [*command, "config", "-q"],
        cwd=REPOSITORY_ROOT,
        env=clean_environment(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_docker_compose_v1_validates_the_file() -> None:
    binary = shutil.which("docker-compose")
    if binary is None:
        pytest.skip("docker-compose (Compose v1) is not installed")
    result = run_config([binary])
    assert result.returncode == 0, result.stderr


def test_docker_compose_v2_validates_the_file() -> None:
    docker = shutil.which("docker")
    if docker is None:
        pytest.skip("docker is not installed, so neither is the Compose v2 plugin")
    probe = subprocess.run(
        [docker, "compose", "version"], capture_output=True, text=True, timeout=60, check=False
    )
    if probe.returncode != 0:
        pytest.skip("the Compose v2 plugin (`docker compose`) is not installed")
    result = run_config([docker, "compose"])
    assert result.returncode == 0, result.stderr


VALIDATE_WITH_SCHEMA = """
import json, sys
import jsonschema, yaml
schema = json.load(open(sys.argv[1], encoding="utf-8"))
document = yaml.safe_load(open(sys.argv[2], encoding="utf-8"))
errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(document), key=str)
for error in errors:
    print("/".join(map(str, error.absolute_path)) + ": " + error.message)
sys.exit(1 if errors else 0)
"""


def test_compose_file_matches_the_compose_json_schema() -> None:
    if not COMPOSE_SCHEMA.is_file():
        pytest.skip(f"no compose JSON schema at {COMPOSE_SCHEMA}")
    # The schema and its validator come with Debian's docker-compose, for the system Python.
    interpreter = SYSTEM_PYTHON if SYSTEM_PYTHON.is_file() else Path(sys.executable)
    probe = subprocess.run(
        [str(interpreter), "-c", "import jsonschema, yaml"],
        capture_output=True,
        timeout=60,
        check=False,
    )
    if probe.returncode != 0:
        pytest.skip(f"{interpreter} cannot import jsonschema and yaml")
    result = subprocess.run(
        [str(interpreter), "-c", VALIDATE_WITH_SCHEMA, str(COMPOSE_SCHEMA), str(COMPOSE_FILE)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
