"""The Docker Compose deployment, the Dockerfile's two images and the ``.env`` template agree.

Docker cannot run here, so these tests read the files: every variable the compose file uses is
documented or defaulted, the ports exposed by the images are the ones compose publishes and the
servers listen on, the API receives only settings it knows, the services share one set of
database credentials, and the compose tools (and the compose JSON schema) accept the file.
"""

import http.server
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
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
    "API_WORKERS": "docker/Dockerfile api CMD (python -m app.serve --workers)",
    "API_REPLICAS": "docker-compose.yaml (deploy.replicas) and scripts/docker-deploy.sh",
    "MLFLOW_DISABLE_TELEMETRY": "MLflow itself",
    "FORWARDED_ALLOW_IPS": "uvicorn --proxy-headers (which proxies to trust)",
}
# Prefixes of variables read by other parts: the demo bootstrap of start.sh, OpenTelemetry.
OTHER_READERS_PREFIXES = ("DEMO_", "OTEL_")
SERVICE_PORT_VARIABLES = {"proxy": "BACKEND_PORT", "mlflow": "MLFLOW_PORT"}
DOCKERFILE = "docker/Dockerfile"
SERVICE_STAGES = {"api": "api", "mlflow": "mlflow"}
"""The Dockerfile stage (``build.target``) of each service built from it."""
NGINX = Path("/usr/sbin/nginx")


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


def dockerfile_instructions(stage: str | None = None) -> list[tuple[str, str]]:
    """The Dockerfile's instructions as (KEYWORD, arguments), continuation lines joined.

    With ``stage``, only those of that stage (from its ``FROM ... AS stage`` to the next FROM).
    """
    text = (REPOSITORY_ROOT / DOCKERFILE).read_text(encoding="utf-8")
    joined = re.sub(r"\\\n", " ", text)
    instructions = []
    for line in joined.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        keyword, _, arguments = stripped.partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
    if stage is None:
        return instructions
    starts = [
        index
        for index, (keyword, arguments) in enumerate(instructions)
        if keyword == "FROM" and arguments.split()[-1] == stage
    ]
    assert len(starts) == 1, f"{DOCKERFILE} has no single stage {stage!r}"
    rest = instructions[starts[0] + 1 :]
    ends = [index for index, (keyword, _) in enumerate(rest) if keyword == "FROM"]
    return rest[: ends[0]] if ends else rest


def exposed_ports(stage: str) -> set[int]:
    """Ports of the EXPOSE instructions of a Dockerfile stage."""
    ports: set[int] = set()
    for keyword, arguments in dockerfile_instructions(stage):
        if keyword == "EXPOSE":
            ports.update(int(item.split("/")[0]) for item in arguments.split())
    return ports


def final_cmd(stage: str) -> str:
    """The last CMD of a Dockerfile stage (the one its image runs)."""
    instructions = dockerfile_instructions(stage)
    commands = [arguments for keyword, arguments in instructions if keyword == "CMD"]
    assert commands, f"{DOCKERFILE} stage {stage} has no CMD"
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
        return final_cmd(SERVICE_STAGES[name])
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
    assert "API_WORKERS" in final_cmd(SERVICE_STAGES["api"])


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


def published_to(name: str, container_port: int) -> None:
    """Check that a service publishes ``container_port`` on the loopback, on its variable."""
    entries = published_ports(name)
    assert entries, f"service {name} publishes no port"
    variable = SERVICE_PORT_VARIABLES[name]
    default = Settings.model_fields[variable].default
    for host, container in entries:
        assert container == container_port, f"{name} publishes {container}, not {container_port}"
        assert host == f"127.0.0.1:${{{variable}:-{default}}}", host


def health_check_port(name: str) -> str:
    """The command line of a service's health check."""
    return " ".join(service(name)["healthcheck"]["test"])


def test_mlflow_publishes_the_port_its_image_exposes_and_serves() -> None:
    (port,) = exposed_ports(SERVICE_STAGES["mlflow"])
    published_to("mlflow", port)
    assert re.search(rf"--port[= ]{port}\b", command_text("mlflow"))
    assert f"127.0.0.1:{port}/" in health_check_port("mlflow")


def test_api_runs_as_replicas_without_a_published_port() -> None:
    exposed = exposed_ports(SERVICE_STAGES["api"])
    assert len(exposed) == 1, f"the api stage should EXPOSE one port: {exposed}"
    (port,) = exposed
    api = service("api")
    assert "ports" not in api, "replicas cannot share a host port: the proxy publishes it"
    assert "container_name" not in api, "a fixed container name prevents --scale"
    assert [int(item) for item in api["expose"]] == [port]
    assert api["deploy"]["replicas"] >= 2
    assert re.search(rf"--port[= ]{port}\b", command_text("api"))
    assert f"127.0.0.1:{port}/api/v1/health/live" in health_check_port("api")
    # Each replica adds up its own workers' metrics, in a folder emptied at each start.
    folder = api["environment"]["PROMETHEUS_MULTIPROC_DIR"]
    assert folder in api["tmpfs"]


def nginx_config() -> tuple[Path, str]:
    """The proxy's nginx configuration file (mounted from the repository) and its text."""
    for volume in service("proxy")["volumes"]:
        source, _, target = str(volume).partition(":")
        if target.startswith("/etc/nginx/conf.d/"):
            path = REPOSITORY_ROOT / source
            return path, path.read_text(encoding="utf-8")
    raise AssertionError("the proxy mounts no configuration in /etc/nginx/conf.d/")


def test_proxy_publishes_the_api_and_balances_over_every_replica() -> None:
    (api_port,) = exposed_ports(SERVICE_STAGES["api"])
    _, config = nginx_config()
    listen = re.search(r"^\s*listen\s+(\d+);", config, re.MULTILINE)
    assert listen is not None
    port = int(listen.group(1))
    published_to("proxy", port)
    assert f"127.0.0.1:{port}/" in health_check_port("proxy")
    # Docker's DNS gives every replica's address; a variable makes nginx resolve it again.
    assert re.search(r"^resolver 127\.0\.0\.11\b", config, re.MULTILINE)
    target = re.search(r"set (\$\w+) http://api:(\d+);", config)
    assert target is not None
    assert int(target.group(2)) == api_port
    assert f"proxy_pass {target.group(1)};" in config
    assert "proxy_next_upstream error timeout http_502 http_503 http_504;" in config
    assert re.search(r"location = /metrics \{\s*return 404;", config)
    assert int(config.split("client_max_body_size")[1].split("m;")[0]) * 1024 * 1024 >= (
        Settings.model_fields["MAX_BATCH_BODY_BYTES"].default
    )


def test_nginx_accepts_the_proxy_configuration(tmp_path: Path) -> None:
    if not NGINX.is_file():
        pytest.skip(f"{NGINX} is not installed (apt-get install nginx to run this check)")
    path, _ = nginx_config()
    main = tmp_path / "nginx.conf"
    main.write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log stderr;\nevents {{}}\n"
        f"http {{\n  access_log off;\n  include {path};\n}}\n",
        encoding="utf-8",
    )
    result = subprocess.run(
        [str(NGINX), "-t", "-p", str(tmp_path), "-c", str(main)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr


class _EchoForwardedFor(http.server.BaseHTTPRequestHandler):
    """Answers with the X-Forwarded-For header it received (the API's view of the client)."""

    def do_GET(self) -> None:
        body = (self.headers.get("X-Forwarded-For") or "").encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        """Quiet."""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_proxy_passes_the_client_address_not_the_client_header(tmp_path: Path) -> None:
    """A client cannot choose the address the API limits failed logins by."""
    if not NGINX.is_file():
        pytest.skip(f"{NGINX} is not installed (apt-get install nginx to run this check)")
    api = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _EchoForwardedFor)
    threading.Thread(target=api.serve_forever, daemon=True).start()
    _, config = nginx_config()
    port = _free_port()
    # The real configuration, with the API replicas replaced by the echo server.
    config = re.sub(r"^resolver .*$", "", config, flags=re.MULTILINE)
    config = re.sub(r"listen \d+;", f"listen 127.0.0.1:{port};", config)
    config = re.sub(r"http://api:\d+", f"http://127.0.0.1:{api.server_address[1]}", config)
    (tmp_path / "api.conf").write_text(config, encoding="utf-8")
    main = tmp_path / "nginx.conf"
    main.write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log stderr;\ndaemon off;\nevents {{}}\n"
        f"http {{\n  access_log off;\n  include {tmp_path}/api.conf;\n}}\n",
        encoding="utf-8",
    )
    proxy = subprocess.Popen([str(NGINX), "-p", str(tmp_path), "-c", str(main)])
    try:
        seen = _get_through_proxy(port, {"X-Forwarded-For": "6.6.6.6"})
        assert seen == "127.0.0.1"
        assert _get_through_proxy(port, {}) == "127.0.0.1"
    finally:
        proxy.terminate()
        proxy.wait(timeout=30)
        api.shutdown()


def _get_through_proxy(port: int, headers: dict[str, str]) -> str:
    for _ in range(100):  # nginx listens within a moment
        try:
            return httpx.get(f"http://127.0.0.1:{port}/", headers=headers, timeout=10).text
        except httpx.ConnectError:
            time.sleep(0.1)
    raise AssertionError("nginx did not start listening")


def test_api_replicas_share_one_count_of_failed_logins() -> None:
    uri = service("api")["environment"]["LOGIN_LIMITS_STORAGE_URI"]
    host = re.fullmatch(r"redis://(\w+):6379/\d+", uri)
    assert host is not None, uri
    assert service(host.group(1))["image"].startswith("redis:")
    assert service("api")["depends_on"][host.group(1)]["condition"] == "service_healthy"


def test_services_reach_mlflow_on_its_port() -> None:
    (port,) = exposed_ports(SERVICE_STAGES["mlflow"])
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
    for name, stage in SERVICE_STAGES.items():
        assert service(name)["build"]["dockerfile"] == DOCKERFILE
        assert service(name)["build"]["target"] == stage
    for keyword, arguments in dockerfile_instructions():
        if keyword != "COPY" or "--from=" in arguments:
            continue
        *sources, _ = arguments.split()
        for source in sources:
            assert (REPOSITORY_ROOT / source).exists(), f"{DOCKERFILE}: COPY {source}"
            top = source.split("/")[0]
            assert top not in ignored, f"{DOCKERFILE}: {source} is in .dockerignore"


def test_both_images_share_one_builder_stage() -> None:
    froms = [arguments for keyword, arguments in dockerfile_instructions() if keyword == "FROM"]
    assert froms[0].split()[-1] == "builder"
    assert sorted(item.split()[-1] for item in froms[1:]) == sorted(SERVICE_STAGES.values())
    for stage in SERVICE_STAGES.values():
        copies = [args for keyword, args in dockerfile_instructions(stage) if keyword == "COPY"]
        assert "--from=builder /app /app" in copies, f"{stage} does not copy the builder's /app"
    packages = {name: service(name)["build"]["args"]["PACKAGE"] for name in SERVICE_STAGES}
    assert packages == {"api": "backend", "mlflow": "datascience"}


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
