"""The deployment files in ``deploy/`` say what the README's production section says.

Nothing here pulls an image or starts a container: compose.yaml is read as YAML, the
Dockerfile and Caddyfile as text, and the systemd units go through ``systemd-analyze
verify`` where the machine has it.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from core.settings import Settings

REPO = Path(__file__).resolve().parent.parent
DEPLOY = REPO / "deploy"
# what the other parts of production mode add to core/settings.py (issue 12)
PRODUCTION_SETTINGS = {"webhook_url", "webhook_secret", "redis_url", "log_json"}


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    return loaded


def instances(services: dict[str, Any]) -> dict[str, Any]:
    return {
        name: service
        for name, service in services.items()
        if service.get("command") == ["kameng", "serve"]
    }


def test_compose_runs_two_instances_after_the_upgrade_on_postgres_and_redis() -> None:
    services = compose()["services"]
    serving = instances(services)

    assert len(serving) == 2
    assert services["upgrade"]["command"] == ["kameng", "db", "upgrade"]
    assert services["upgrade"]["restart"] == "no"  # one shot
    for service in serving.values():
        needs = service["depends_on"]
        assert needs["upgrade"]["condition"] == "service_completed_successfully"
        assert needs["postgres"]["condition"] == needs["redis"]["condition"] == "service_healthy"
        environment = service["environment"]
        assert environment["KAMENG_DATABASE_URL"].startswith("postgresql+asyncpg://")
        assert "@postgres:5432/" in environment["KAMENG_DATABASE_URL"]
        assert environment["KAMENG_REDIS_URL"] == "redis://redis:6379/0"
        assert "/healthz" in " ".join(service["healthcheck"]["test"])
        assert service["build"]["dockerfile"] == "deploy/Dockerfile"
    assert "pg_isready" in services["postgres"]["healthcheck"]["test"]
    assert "ping" in services["redis"]["healthcheck"]["test"]


def test_the_proxy_terminates_tls_and_balances_over_ready_instances() -> None:
    services = compose()["services"]
    caddy = services["caddy"]
    assert "443:443" in caddy["ports"]
    upstreams = caddy["environment"]["KAMENG_UPSTREAMS"].split()
    assert upstreams == [f"{name}:8080" for name in instances(services)]
    caddyfile = (DEPLOY / "Caddyfile").read_text()
    assert "{$KAMENG_DOMAIN} {" in caddyfile  # a site by name: Caddy's automatic HTTPS
    assert "reverse_proxy {$KAMENG_UPSTREAMS}" in caddyfile
    assert "health_uri /readyz" in caddyfile
    assert re.search(r"@internal path /metrics", caddyfile)  # not published


def test_the_image_installs_with_the_pinned_versions_and_every_package() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert "pip install --constraint constraints.txt ." in dockerfile
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    packages = [
        name.rstrip("*") for name in project["tool"]["setuptools"]["packages"]["find"]["include"]
    ]
    for package in packages:
        assert f"COPY {package} {package}" in dockerfile
    assert re.search(r"^USER kameng$", dockerfile, re.MULTILINE)  # not root


def test_the_environment_example_names_only_real_settings() -> None:
    lines = (DEPLOY / "kameng.env.example").read_text().splitlines()
    keys = [line.split("=", 1)[0] for line in lines if line and not line.startswith("#")]
    known = set(Settings.model_fields) | PRODUCTION_SETTINGS
    compose_only = {"KAMENG_DOMAIN", "POSTGRES_PASSWORD"}
    for key in keys:
        assert key in compose_only or key.removeprefix("KAMENG_").lower() in known, key
    assert "KAMENG_API_PORT" not in keys  # each instance sets its own
    for setting in PRODUCTION_SETTINGS | {"secret_key", "database_url", "bot_token"}:
        assert f"KAMENG_{setting.upper()}" in keys


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="no systemd-analyze here")
def test_the_systemd_units_verify(tmp_path: Path) -> None:
    kameng = Path(sys.executable).parent / "kameng"  # ExecStart must name a real program
    for unit, name in [
        ("kameng@.service", "kameng@8081.service"),
        ("kameng-upgrade.service", "kameng-upgrade.service"),
    ]:
        text = (DEPLOY / "systemd" / unit).read_text()
        assert "EnvironmentFile=/etc/kameng/kameng.env" in text
        (tmp_path / name).write_text(text.replace("/opt/kameng/.venv/bin/kameng", str(kameng)))
    instance = (DEPLOY / "systemd" / "kameng@.service").read_text()
    assert "Environment=KAMENG_API_PORT=%i" in instance
    assert "Requires=kameng-upgrade.service" in instance

    verified = subprocess.run(
        ["systemd-analyze", "verify", *(str(path) for path in sorted(tmp_path.iterdir()))],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert verified.returncode == 0 and verified.stderr == "", verified.stderr
