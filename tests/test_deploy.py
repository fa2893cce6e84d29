"""Deployment files, checked statically: they parse, they have what a cluster needs, they hold
no credentials, and docker-compose accepts the compose file where the tool is installed."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helpers import ROOT


def load_all(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def test_compose_has_postgres_dashboard_and_scalable_gpu_workers() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    postgres = services["postgres"]
    assert "pgdata:/var/lib/postgresql/data" in postgres["volumes"]
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    assert "optuna-dashboard" in " ".join(services["dashboard"]["entrypoint"])
    assert services["dashboard"]["ports"] == ["127.0.0.1:8080:8080"]  # not open to the network
    worker = services["worker"]
    assert worker["command"][:2] == ["worker", "--study"]
    [device] = worker["deploy"]["resources"]["reservations"]["devices"]
    assert (
        device["driver"] == "nvidia" and device["capabilities"] == ["gpu"] and device["count"] == 1
    )
    assert "container_name" not in worker  # or --scale worker=N would clash
    for service in services.values():
        assert service.get("env_file") == ".env"
        assert depends_ok(service)


def depends_ok(service: dict[str, Any]) -> bool:
    depends = service.get("depends_on", {})
    return (
        all(v.get("condition") == "service_healthy" for v in depends.values()) if depends else True
    )


def test_no_credentials_in_deployment_files() -> None:
    files = [ROOT / "docker-compose.yml", ROOT / "Dockerfile", *ROOT.glob("deploy/**/*")]
    for path in files:
        if path.is_file():
            text = path.read_text()
            assert not re.search(r"PASSWORD\s*[:=]\s*\S", text), path
            assert not re.search(r"postgresql(\+\w+)?://[^:@\s]+:[^@\s$]+@", text), path
    assert (ROOT / ".env").exists() is False or ".env" in (ROOT / ".gitignore").read_text()
    assert ".env" in (ROOT / ".gitignore").read_text().split()


@pytest.mark.skipif(
    shutil.which("docker-compose") is None, reason="docker-compose is not installed"
)
def test_docker_compose_accepts_the_file(tmp_path: Path) -> None:
    shutil.copy(ROOT / "docker-compose.yml", tmp_path / "docker-compose.yml")
    shutil.copy(ROOT / ".env.example", tmp_path / ".env")
    result = subprocess.run(
        ["docker-compose", "config"],
        cwd=tmp_path,
        env={"HPO_STUDY": "digits", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "digits" in result.stdout
    missing = subprocess.run(
        ["docker-compose", "config"],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert missing.returncode != 0 and "set HPO_STUDY" in missing.stderr


def test_kubernetes_manifests() -> None:
    docs = [
        doc for path in sorted((ROOT / "deploy" / "k8s").glob("*.yaml")) for doc in load_all(path)
    ]
    for doc in docs:
        assert {"apiVersion", "kind", "metadata"} <= doc.keys() and doc["metadata"]["name"]
    kinds = {(d["kind"], d["metadata"]["name"]) for d in docs}
    assert {
        ("Service", "postgres"),
        ("Deployment", "hpo-postgres"),
        ("Job", "hpo-workers"),
    } <= kinds
    job = next(d for d in docs if d["kind"] == "Job")
    assert job["spec"]["completionMode"] == "Indexed"
    assert job["spec"]["parallelism"] == job["spec"]["completions"]
    [container] = job["spec"]["template"]["spec"]["containers"]
    assert container["args"][0] == "worker"
    assert container["resources"]["limits"]["nvidia.com/gpu"] == 1
    storage = next(e for e in container["env"] if e["name"] == "HPO_STORAGE")
    assert storage["valueFrom"]["secretKeyRef"] == {"name": "hpo-db", "key": "HPO_STORAGE"}
    grace = job["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
    stop_timeout = float(container["args"][container["args"].index("--stop-timeout") + 1])
    assert stop_timeout < grace  # the worker queues its trial again before the SIGKILL
    postgres = next(d for d in docs if d["kind"] == "Deployment")
    [pg] = postgres["spec"]["template"]["spec"]["containers"]
    assert pg["envFrom"] == [{"secretRef": {"name": "hpo-db"}}] and "readinessProbe" in pg


def test_slurm_array_script() -> None:
    script = ROOT / "deploy" / "slurm" / "hpo-workers.sbatch"
    text = script.read_text()
    assert subprocess.run(["bash", "-n", str(script)], capture_output=True).returncode == 0
    assert re.search(r"^#SBATCH --array=\d+-\d+$", text, re.M)
    assert re.search(r"^#SBATCH --gres=gpu:1$", text, re.M)
    assert re.search(r"^#SBATCH --signal=B:TERM@\d+$", text, re.M)
    assert "exec hpo worker --study" in text


def test_dockerfile_installs_the_torch_the_project_pins() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert "pip install torch==2.14.1 torchvision==0.29.1" in text
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert '"torch>=2.6,<2.15"' in pyproject and '"torchvision>=0.21,<0.30"' in pyproject
    assert 'ENTRYPOINT ["hpo"]' in text
