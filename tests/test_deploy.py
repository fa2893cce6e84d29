"""Deployment files, checked statically: they parse, they have what a cluster needs, they hold
no credentials, and docker-compose accepts the compose file where the tool is installed."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helpers import ROOT


def load_all(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return loaded


def workers(services: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: s for name, s in services.items() if name.startswith("worker")}


def test_compose_has_postgres_dashboard_and_gpu_workers() -> None:
    services = compose()["services"]
    postgres = services["postgres"]
    assert "pgdata:/var/lib/postgresql/data" in postgres["volumes"]
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    assert "optuna-dashboard" in " ".join(services["dashboard"]["entrypoint"])
    assert services["dashboard"]["ports"] == ["127.0.0.1:8080:8080"]  # not open to the network
    for service in services.values():
        assert service.get("env_file") == ".env"
        assert depends_ok(service)


def test_compose_worker_uses_every_gpu_of_its_host() -> None:
    # One service: a fixed list of per-GPU services leaves GPUs idle on a bigger host and asks
    # for devices that do not exist on a smaller one.
    [worker] = workers(compose()["services"]).values()
    devices = worker["deploy"]["resources"]["reservations"]["devices"]
    assert devices == [{"driver": "nvidia", "count": "all", "capabilities": ["gpu"]}]
    # ... and one worker process per GPU inside it, each on its own.
    assert "hpo worker" in worker["entrypoint"][2] and " --gpus all " in worker["entrypoint"][2]
    assert "container_name" not in worker


def test_compose_restart_keeps_a_workers_own_stop() -> None:
    for name, worker in workers(compose()["services"]).items():
        # on-failure, always, unless-stopped would all start again a worker that stopped
        # itself after 10 failed trials in a row (exit 1).
        assert worker["restart"] == "no", name
        assert "workers" in worker["profiles"], name  # `docker compose up -d` starts none


def test_compose_requires_hpo_study_only_when_a_worker_starts(tmp_path: Path) -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    # Compose interpolates "${VAR:?…}" for the whole file, whichever services start.
    assert not re.search(r"(?<!\$)\$\{HPO_STUDY:\?", text)
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    hpo = fake_bin / "hpo"
    hpo.write_text('#!/bin/sh\necho "hpo $*"\n')
    hpo.chmod(0o755)
    for name, worker in workers(compose()["services"]).items():
        entrypoint = worker["entrypoint"]
        assert entrypoint[:2] == ["sh", "-c"], name
        script = entrypoint[2].replace("$$", "$")  # as compose hands it to the container
        path = f"{fake_bin}:/usr/bin:/bin"
        started = subprocess.run(
            ["sh", "-c", script],
            env={"PATH": path, "HPO_STUDY": "digits"},
            capture_output=True,
            text=True,
        )
        assert started.stdout.split() == [
            "hpo", "worker", "--study", "digits", "--gpus", "all", "--stop-timeout", "20"
        ]  # fmt: skip
        missing = subprocess.run(
            ["sh", "-c", script],
            env={"PATH": path, "HPO_STUDY": ""},
            capture_output=True,
            text=True,
        )
        assert missing.returncode != 0 and "set HPO_STUDY" in missing.stderr
        assert missing.stdout == ""


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
    for extra in ({"HPO_STUDY": "digits"}, {}):  # PostgreSQL and the dashboard need no study
        result = subprocess.run(
            ["docker-compose", "config"],
            cwd=tmp_path,
            env={"PATH": "/usr/bin:/bin", **extra},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        assert ("HPO_STUDY: digits" in result.stdout) == bool(extra)


def test_compose_file_follows_the_compose_specification(tmp_path: Path) -> None:
    """The Compose specification's JSON schema, as check-jsonschema ships it (pinned)."""
    assert validate_compose(ROOT / "docker-compose.yml") == (0, "ok -- validation done")
    # The schema is strict: a misspelt key is refused, so the pass above means something.
    broken = compose()
    broken["services"]["worker"]["deploy"]["resources"]["reservations"]["devices"][0]["cuont"] = 1
    (tmp_path / "docker-compose.yml").write_text(yaml.safe_dump(broken))
    code, out = validate_compose(tmp_path / "docker-compose.yml")
    assert code == 1 and "'cuont' does not match" in out, out


def validate_compose(path: Path) -> tuple[int, str]:
    checked = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec",
         str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )  # fmt: skip
    return checked.returncode, (checked.stdout + checked.stderr).strip()


def k8s_docs() -> list[dict[str, Any]]:
    return [
        doc for path in sorted((ROOT / "deploy" / "k8s").glob("*.yaml")) for doc in load_all(path)
    ]


def named(docs: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    return next(d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name)


def test_kubernetes_manifests() -> None:
    docs = k8s_docs()
    for doc in docs:
        assert {"apiVersion", "kind", "metadata"} <= doc.keys() and doc["metadata"]["name"]
    kinds = {(d["kind"], d["metadata"]["name"]) for d in docs}
    assert {
        ("Service", "postgres"),
        ("Deployment", "hpo-postgres"),
        ("Job", "hpo-workers"),
        ("Job", "hpo-create-study"),
        ("Deployment", "hpo-dashboard"),
        ("Service", "hpo-dashboard"),
    } <= kinds
    job = named(docs, "Job", "hpo-workers")
    assert job["spec"]["completionMode"] == "Indexed"
    assert job["spec"]["parallelism"] == job["spec"]["completions"]
    [container] = job["spec"]["template"]["spec"]["containers"]
    assert container["args"][0] == "worker"
    assert container["resources"]["limits"]["nvidia.com/gpu"] == 1
    assert secret_storage(container)
    grace = job["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
    stop_timeout = float(container["args"][container["args"].index("--stop-timeout") + 1])
    assert stop_timeout < grace  # the worker queues its trial again before the SIGKILL
    postgres = named(docs, "Deployment", "hpo-postgres")
    [pg] = postgres["spec"]["template"]["spec"]["containers"]
    assert pg["envFrom"] == [{"secretRef": {"name": "hpo-db"}}] and "readinessProbe" in pg


#: The oldest Kubernetes the manifests are for (backoffLimitPerIndex is GA from 1.33; there a
#: pod condition's status was still required), and the newest kubernetes-validate knows.
KUBERNETES_VERSIONS = ("1.33", "1.37")
#: What the manifests name the image with, until README's steps set the user's registry.
K8S_IMAGE_NAME = "registry.example.org/hpo"


def test_kubernetes_manifests_pass_kubernetes_validate_strict(tmp_path: Path) -> None:
    manifests = sorted((ROOT / "deploy" / "k8s").glob("*.yaml"))
    resources = sum(len(load_all(path)) for path in manifests)
    for version in KUBERNETES_VERSIONS:
        code, out = kubernetes_validate(version, *manifests)
        assert code == 0, out
        assert out.count("passed for resource") == resources, out
    # Strict: a field the API does not know is refused, so the passes above mean something.
    job = named(k8s_docs(), "Job", "hpo-workers")
    job["spec"]["template"]["spec"]["containers"][0]["gpus"] = 1
    (tmp_path / "workers.yaml").write_text(yaml.safe_dump(job))
    code, out = kubernetes_validate(KUBERNETES_VERSIONS[-1], tmp_path / "workers.yaml")
    assert code != 0 and "'gpus' was unexpected" in out, out


def kubernetes_validate(version: str, *paths: Path) -> tuple[int, str]:
    checked = subprocess.run(
        [sys.executable, "-m", "kubernetes_validate", "--strict", "-k", version, *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    return checked.returncode, checked.stdout + checked.stderr


def hpo_version() -> str:
    match = re.search(r'^version = "([^"]+)"$', (ROOT / "pyproject.toml").read_text(), re.M)
    assert match
    return match.group(1)


def test_every_hpo_container_runs_an_image_the_cluster_can_pull() -> None:
    """A registry's copy with hpo's version as its tag: never latest, which Kubernetes pulls
    on every pod start (and a node without the registry leaves in ImagePullBackOff)."""
    image = f"{K8S_IMAGE_NAME}:{hpo_version()}"
    containers = [
        c
        for d in k8s_docs()
        if d["kind"] in ("Job", "Deployment")
        for c in d["spec"]["template"]["spec"]["containers"]
        if c["name"] != "postgres"
    ]
    assert len(containers) == 3  # create-study, workers, dashboard
    for container in containers:
        assert container["image"] == image, container["name"]
        assert container["imagePullPolicy"] == "IfNotPresent", container["name"]
    # Compose builds the image on its own host, with the same tag.
    images = {s["image"] for s in compose()["services"].values() if s["image"] != "postgres:16"}
    assert images == {f"hpo:{hpo_version()}"}
    for path in [ROOT / "docker-compose.yml", *(ROOT / "deploy").rglob("*")]:
        if path.is_file():
            assert ":latest" not in path.read_text(), path


def test_readme_pushes_the_image_the_manifests_name(tmp_path: Path) -> None:
    """README's commands build, tag and push the image and name it in every manifest."""
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"<!-- deploy-image -->\s*```bash\n(.*?)```", readme, re.S)
    assert block, "README.md has no deploy-image block"
    lines = [line.strip() for line in block.group(1).splitlines()]
    assert lines[0].startswith("IMAGE=") and lines[0].split()[0].endswith(f"/hpo:{hpo_version()}")
    assert lines[1] == 'docker build -t "$IMAGE" . && docker push "$IMAGE"'
    # Run the step that names it, on a copy of the manifests.
    shutil.copytree(ROOT / "deploy" / "k8s", tmp_path / "deploy" / "k8s")
    renamed = subprocess.run(
        ["bash", "-c", lines[2]],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "IMAGE": "registry.test/team/hpo:9"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert renamed.returncode == 0, renamed.stderr
    docs = [doc for path in (tmp_path / "deploy" / "k8s").glob("*.yaml") for doc in load_all(path)]
    images = {
        c["image"]
        for d in docs
        if d["kind"] in ("Job", "Deployment")
        for c in d["spec"]["template"]["spec"]["containers"]
    }
    assert images == {"registry.test/team/hpo:9", "postgres:16"}


def test_dashboard_is_served_inside_the_cluster_only() -> None:
    docs = k8s_docs()
    deployment = named(docs, "Deployment", "hpo-dashboard")
    pod = deployment["spec"]["template"]
    [container] = pod["spec"]["containers"]
    args = container["args"]
    assert args[0] == "dashboard" and option(args, "--host") == "0.0.0.0"  # for its Service
    assert secret_storage(container) and "readinessProbe" in container
    labels = pod["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"] == labels
    service = named(docs, "Service", "hpo-dashboard")["spec"]
    # No login: a ClusterIP, reached through kubectl port-forward, never a LoadBalancer.
    assert service.get("type", "ClusterIP") == "ClusterIP"
    assert service["selector"] == labels
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    [port] = service["ports"]
    assert ports[port["targetPort"]] == int(str(option(args, "--port")))


def test_kubernetes_jobs_are_valid_as_the_api_checks_them() -> None:
    for job in (d for d in k8s_docs() if d["kind"] == "Job"):
        spec, pod = job["spec"], job["spec"]["template"]["spec"]
        name = job["metadata"]["name"]
        # The API accepts only Never or OnFailure in a Job; backoffLimitPerIndex and a
        # podFailurePolicy need Never (each retry is a new pod).
        assert pod["restartPolicy"] in ("Never", "OnFailure"), name
        if "backoffLimitPerIndex" in spec or "podFailurePolicy" in spec:
            assert pod["restartPolicy"] == "Never", name
        if "backoffLimitPerIndex" in spec:
            assert spec["completionMode"] == "Indexed", name
        containers = {c["name"] for c in pod["containers"]}
        for rule in spec.get("podFailurePolicy", {}).get("rules", []):
            if rule["action"] == "FailIndex":
                assert "backoffLimitPerIndex" in spec, name
            codes = rule.get("onExitCodes")
            if codes:
                assert codes.get("containerName", next(iter(containers))) in containers
                assert 0 not in codes["values"] and codes["operator"] in ("In", "NotIn")
    workers = named(k8s_docs(), "Job", "hpo-workers")["spec"]
    # A worker that stopped itself (exit 1) or was given bad input (2) is not started again.
    [fail] = [r for r in workers["podFailurePolicy"]["rules"] if r["action"] == "FailIndex"]
    assert {1, 2} <= set(fail["onExitCodes"]["values"])


def test_every_claim_mounted_is_defined() -> None:
    docs = k8s_docs()
    defined = {d["metadata"]["name"] for d in docs if d["kind"] == "PersistentVolumeClaim"}
    pods = [d["spec"]["template"]["spec"] for d in docs if d["kind"] in ("Job", "Deployment")]
    claimed = {
        v["persistentVolumeClaim"]["claimName"]
        for pod in pods
        for v in pod.get("volumes", [])
        if "persistentVolumeClaim" in v
    }
    assert claimed and claimed <= defined, claimed - defined
    for pod in pods:
        volumes = {v["name"] for v in pod.get("volumes", [])}
        for container in pod["containers"]:
            assert {m["name"] for m in container.get("volumeMounts", [])} <= volumes


def test_the_create_study_job_makes_the_study_the_workers_run() -> None:
    docs = k8s_docs()
    create = named(docs, "Job", "hpo-create-study")["spec"]["template"]["spec"]
    workers = named(docs, "Job", "hpo-workers")["spec"]["template"]["spec"]
    [creator] = create["containers"]
    [worker] = workers["containers"]
    args = creator["args"]
    assert args[0] == "create-study"
    # The database the workers use, not a throwaway SQLite file in the pod.
    assert secret_storage(creator)
    assert option(args, "--name") == option(worker["args"], "--study")
    # Checkpoints on the volume every worker mounts, at the same path: a retry resumes.
    checkpoint_dir = option(args, "--checkpoint-dir")
    assert checkpoint_dir is not None
    create_mount = claim_mount(create, creator, checkpoint_dir)
    worker_mount = claim_mount(workers, worker, checkpoint_dir)
    assert create_mount == worker_mount and create_mount[0] == "hpo-checkpoints"
    # Data the workers read where the study's params say it is.
    data_dir = next(a.split("=", 1)[1] for a in args if a.startswith("data_dir="))
    assert claim_mount(workers, worker, data_dir)[0] == "hpo-datasets"


def secret_storage(container: dict[str, Any]) -> bool:
    storage = next((e for e in container.get("env", []) if e["name"] == "HPO_STORAGE"), None)
    return storage is not None and storage["valueFrom"]["secretKeyRef"] == {
        "name": "hpo-db",
        "key": "HPO_STORAGE",
    }


def option(args: list[str], flag: str) -> str | None:
    return args[args.index(flag) + 1] if flag in args else None


def claim_mount(pod: dict[str, Any], container: dict[str, Any], path: str) -> tuple[str, str]:
    """(claim, mount path) of the persistent volume that holds ``path`` in this container."""
    claims = {
        v["name"]: v["persistentVolumeClaim"]["claimName"]
        for v in pod["volumes"]
        if "persistentVolumeClaim" in v
    }
    for mount in container["volumeMounts"]:
        where = mount["mountPath"].rstrip("/")
        if (path == where or path.startswith(where + "/")) and mount["name"] in claims:
            return claims[mount["name"]], where
    raise AssertionError(f"{path} is on no persistent volume of {container['name']}")


def test_slurm_array_script() -> None:
    script = ROOT / "deploy" / "slurm" / "hpo-workers.sbatch"
    text = script.read_text()
    assert subprocess.run(["bash", "-n", str(script)], capture_output=True).returncode == 0
    assert re.search(r"^#SBATCH --array=\d+-\d+$", text, re.M)
    assert re.search(r"^#SBATCH --gres=gpu:1$", text, re.M)
    assert re.search(r"^#SBATCH --signal=B:TERM@\d+$", text, re.M)
    assert "exec hpo worker --study" in text


def test_slurm_script_activates_the_environment_it_names(tmp_path: Path) -> None:
    """Run as a compute node would (hpo on no PATH): the worker is the venv's hpo, with the
    storage from the submitting shell or from ~/.hpo-env, labelled with its array task."""
    venv = tmp_path / "venv"
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120
    )
    (venv / "bin" / "hpo").write_text(
        '#!/bin/sh\necho "$0 $* venv=$VIRTUAL_ENV storage=$HPO_STORAGE '
        'label=$HPO_WORKER_LABEL cache=$HPO_CACHE_DIR"\n'
    )
    (venv / "bin" / "hpo").chmod(0o755)
    home = tmp_path / "home"
    home.mkdir()
    script = str(ROOT / "deploy" / "slurm" / "hpo-workers.sbatch")
    task = {"SLURM_ARRAY_JOB_ID": "41", "SLURM_ARRAY_TASK_ID": "3", "SLURM_JOB_ID": "44"}
    base = {"PATH": "/usr/bin:/bin", "HOME": str(home), "HPO_STUDY": "s1", "HPO_VENV": str(venv)}

    def sbatch_run(**env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", script], env={**base, **env}, capture_output=True, text=True, timeout=60
        )

    def worker(storage: str, label: str = "41_3", cache: str = "/scratch/c") -> list[str]:
        return [
            f"{venv}/bin/hpo", "worker", "--study", "s1", "--stop-timeout", "20",
            f"venv={venv}", f"storage={storage}", f"label={label}", f"cache={cache}",
        ]  # fmt: skip

    # HPO_STORAGE from the submitting shell, no ~/.hpo-env: it works.
    exported = sbatch_run(
        HPO_STORAGE="postgresql+psycopg2://me@db/a", SLURM_TMPDIR="/scratch", **task
    )
    assert exported.returncode == 0, exported.stderr
    assert exported.stdout.split() == worker(
        "postgresql+psycopg2://me@db/a", cache=f"/scratch/hpo-cache-{os.getuid()}"
    )
    # From ~/.hpo-env; an exported one wins over the file's. Not an array: the job's id.
    (home / ".hpo-env").write_text("export HPO_STORAGE=postgresql+psycopg2://me@db/file\n")
    from_file = sbatch_run(HPO_CACHE_DIR="/scratch/c", SLURM_JOB_ID="44")
    assert from_file.stdout.split() == worker("postgresql+psycopg2://me@db/file", label="44")
    both = sbatch_run(
        HPO_STORAGE="postgresql+psycopg2://me@db/a", HPO_CACHE_DIR="/scratch/c", **task
    )
    assert both.stdout.split() == worker("postgresql+psycopg2://me@db/a")
    other = tmp_path / "other-env"
    other.write_text("export HPO_STORAGE=postgresql+psycopg2://me@db/other\n")
    named = sbatch_run(HPO_ENV_FILE=str(other), HPO_CACHE_DIR="/scratch/c", **task)
    assert named.stdout.split() == worker("postgresql+psycopg2://me@db/other")
    (home / ".hpo-env").unlink()

    # What is missing is named in one line, before anything runs.
    def refused(result: subprocess.CompletedProcess[str], error: str) -> None:
        assert result.returncode == 2 and result.stdout == "", result
        assert result.stderr.strip() == f"error: {error}"

    refused(
        sbatch_run(HPO_STORAGE="x", HPO_VENV=str(tmp_path / "nowhere")),
        f"no hpo in {tmp_path / 'nowhere'} "
        "(set HPO_VENV to the virtual environment hpo is installed in)",
    )
    refused(  # without it, hpo would make a SQLite study of its own in the working directory
        sbatch_run(**task),
        "HPO_STORAGE is not set (export it before sbatch, or set it in ~/.hpo-env)",
    )
    refused(
        sbatch_run(HPO_ENV_FILE=str(tmp_path / "missing"), HPO_STORAGE="x"),
        f"HPO_ENV_FILE names {tmp_path / 'missing'}, which does not exist",
    )


def test_dockerfile_installs_the_torch_the_project_pins() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert "pip install torch==2.14.1 torchvision==0.29.1" in text
    assert "RUN pip install '.[train]'" in text  # the workers train: the extra with torch
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert '"torch>=2.6,<2.15"' in pyproject and '"torchvision>=0.21,<0.30"' in pyproject
    assert 'ENTRYPOINT ["hpo"]' in text
