"""The GPU check's Python environment: the wheels it ships and whether they are enough.

The lent GPU machine has Python 3.12 with torch and the common scientific packages
(``GPU_MACHINE`` below) but not Optuna's stack, and no network: ``bench/gpu_prepare.sh``
downloads those wheels (``bench/gpu_wheels.txt``) and ``bench/gpu_check.sh`` installs them there
with ``--no-deps``. A wheel missing from the list would only show on the GPU machine, in the
few minutes it is lent; these checks find it on any machine beforehand.

    python bench/gpu_env.py requirements --wheels .whl [--installed]
    python -I bench/gpu_env.py simulate --target DIR

``requirements``: the pins match the wheels one to one, every wheel installs on CPython 3.12
manylinux x86-64, and every Requires-Dist of every wheel (markers evaluated for that Python, no
extras) is met by another shipped wheel or by the GPU machine. With ``--installed`` (there,
after the install) versions are checked against what is really installed; without it (here)
the GPU machine is ``GPU_MACHINE`` plus what those require according to this machine's
metadata, by name only (their versions there are unknown here).

``simulate``: with this interpreter, imports what the check imports and runs a tiny study
through the hpo command line (create-study, worker, read back with Optuna) in an environment
cut down to the GPU machine's: the standard library, ``GPU_MACHINE`` and what it requires
(from this machine's site-packages), the wheels installed in ``--target`` and the repository.
An import hook hides every other distribution on this machine's path, so a wheel missing from
the list fails here as it would there. The interpreter may be another Python than 3.12: a
binary wheel's extension is then not loaded (SQLAlchemy falls back to pure Python), which
gpu_check.sh --dry-run checks separately where a python3.12 exists.
"""

from __future__ import annotations

import argparse
import importlib.abc
import importlib.machinery
import importlib.metadata
import json
import runpy
import subprocess
import sys
import tempfile
import time
import zipfile
from collections import deque
from collections.abc import Iterable, Sequence
from email.parser import HeaderParser
from pathlib import Path
from types import ModuleType

from packaging.requirements import Requirement
from packaging.tags import Tag, compatible_tags, cpython_tags
from packaging.utils import canonicalize_name, parse_wheel_filename
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
PINS = Path(__file__).resolve().with_name("gpu_wheels.txt")

#: What the GPU machine has (as lent for this project): Python 3.12.3 and these distributions.
GPU_MACHINE = (
    "torch",
    "torchvision",
    "numpy",
    "pillow",
    "scipy",
    "scikit-learn",
    "typer",
    "rich",
    "pyyaml",
    "tqdm",
    "grpcio",
    "matplotlib",
    "pandas",
)
#: Markers are evaluated for the GPU machine's Python.
TARGET_MARKERS = {
    "implementation_name": "cpython",
    "implementation_version": "3.12.3",
    "os_name": "posix",
    "platform_machine": "x86_64",
    "platform_python_implementation": "CPython",
    "platform_system": "Linux",
    "python_full_version": "3.12.3",
    "python_version": "3.12",
    "sys_platform": "linux",
    "extra": "",
}
#: What gpu_check.py and the hpo commands it runs import beyond the GPU machine's packages.
#: ``hpo`` and ``training`` are imported whole besides (every submodule, to find any import of
#: a package that is not there).
NEEDED_IMPORTS = (
    "optuna",
    "optuna.samplers",
    "optuna.pruners",
    "optuna.storages",
    "sqlalchemy",
    "sqlalchemy.dialects.sqlite",
    "alembic",
    "alembic.command",
    "alembic.migration",
    "mako.template",
    "colorlog",
    "cmaes",
    "hpo.cli",
    "training",
    "training.loop",
    "bench.gpu_check",
)


def read_pins(path: Path = PINS) -> dict[str, Requirement]:
    """The pinned distributions of gpu_wheels.txt by canonical name."""
    pins: dict[str, Requirement] = {}
    for line in path.read_text().splitlines():
        text = line.split("#", 1)[0].strip()
        if text:
            requirement = Requirement(text)
            pins[canonicalize_name(requirement.name)] = requirement
    return pins


def target_tags() -> set[Tag]:
    """Wheel tags CPython 3.12 on manylinux x86-64 (glibc ≥ 2.17) installs."""
    platforms = [f"manylinux_2_{minor}_x86_64" for minor in range(39, 4, -1)]
    platforms += ["manylinux2014_x86_64", "manylinux2010_x86_64", "manylinux1_x86_64"]
    platforms += ["linux_x86_64"]
    tags = set(cpython_tags((3, 12), abis=["cp312", "abi3", "none"], platforms=platforms))
    tags |= set(compatible_tags((3, 12), "cp312", platforms=platforms))
    return tags


class Wheel:
    def __init__(self, path: Path) -> None:
        self.path = path
        name, version, _, tags = parse_wheel_filename(path.name)
        self.name = canonicalize_name(name)
        self.version = version
        self.tags = tags
        with zipfile.ZipFile(path) as archive:
            metadata = next(
                n for n in archive.namelist() if n.endswith(".dist-info/METADATA") and "/" in n
            )
            headers = HeaderParser().parsestr(archive.read(metadata).decode())
        self.requires = [Requirement(r) for r in headers.get_all("Requires-Dist") or []]
        self.binary = not any(t.abi == "none" for t in tags)


def wheels_in(folder: Path) -> list[Wheel]:
    return [Wheel(p) for p in sorted(folder.glob("*.whl"))]


def applies(requirement: Requirement, environment: dict[str, str]) -> bool:
    return requirement.marker is None or requirement.marker.evaluate(environment)


def provided_closure(names: Iterable[str]) -> dict[str, str]:
    """The GPU machine's distributions and, recursively, what they require according to this
    machine's metadata: name → the distribution that brought it in."""
    found: dict[str, str] = {}
    # Breadth first, in the list's order: a shared requirement is said to come with torch.
    queue = deque((canonicalize_name(n), canonicalize_name(n)) for n in names)
    while queue:
        name, via = queue.popleft()
        if name in found:
            continue
        found[name] = via
        try:
            requires = importlib.metadata.requires(name) or []
        except importlib.metadata.PackageNotFoundError:
            continue  # not installed here (pandas): kept by name, its requirements unknown
        for text in requires:
            requirement = Requirement(text)
            if applies(requirement, TARGET_MARKERS):
                queue.append((canonicalize_name(requirement.name), via))
    return found


def installed_version(name: str) -> Version | None:
    try:
        return Version(importlib.metadata.version(name))
    except importlib.metadata.PackageNotFoundError:
        return None


def check_requirements(folder: Path, installed: bool) -> int:
    pins, wheels = read_pins(), wheels_in(folder)
    problems: list[str] = []
    by_name: dict[str, Wheel] = {w.name: w for w in wheels}
    if len(by_name) != len(wheels):
        problems.append("two wheels of one distribution in " + str(folder))
    for name, pin in pins.items():
        wheel = by_name.get(name)
        if wheel is None:
            problems.append(f"{pin}: no wheel in {folder} (run bench/gpu_prepare.sh)")
        elif not pin.specifier.contains(wheel.version):
            problems.append(f"{pin}: the wheel is {wheel.version}")
    for wheel in wheels:
        if wheel.name not in pins:
            problems.append(f"{wheel.path.name}: not in {PINS.name}")
        if not wheel.tags & target_tags():
            problems.append(f"{wheel.path.name}: does not install on CPython 3.12 manylinux x86-64")
        abis = sorted({t.abi for t in wheel.tags})
        kind = f"binary ({', '.join(abis)})" if wheel.binary else "pure Python"
        print(f"  wheel {wheel.name} {wheel.version}: {kind}")
    provided: dict[str, str] = {}
    if installed:
        from packaging.markers import default_environment

        environment = {k: str(v) for k, v in default_environment().items()} | {"extra": ""}
        where = "installed here"
    else:
        environment = TARGET_MARKERS
        provided = provided_closure(GPU_MACHINE)
        where = "the GPU machine's list and what it requires (names only)"
    met = 0
    for wheel in wheels:
        for requirement in wheel.requires:
            if not applies(requirement, environment):
                continue
            name = canonicalize_name(requirement.name)
            shown = f"{wheel.name} needs {requirement}"
            if name in by_name:
                version: Version | None = by_name[name].version
                source = "shipped"
            elif installed:
                version, source = installed_version(name), "installed"
            elif name in provided:
                via = provided[name]
                print(
                    f"  ok   {shown}: on the GPU machine ({via if via == name else 'with ' + via})"
                )
                met += 1
                continue
            else:
                version, source = None, ""
            if version is None:
                problems.append(f"{shown}: neither shipped nor {where}")
            elif not requirement.specifier.contains(version, prereleases=True):
                problems.append(f"{shown}: {source} {version} does not satisfy it")
            else:
                print(f"  ok   {shown}: {source} {version}")
                met += 1
    if installed:
        for wheel in wheels:
            locations = {
                str(d.locate_file(""))
                for d in importlib.metadata.distributions()
                if canonicalize_name(d.metadata["Name"] or "") == wheel.name
            }
            if len(locations) > 1:
                print(f"  note {wheel.name} is also installed outside the shipped folder")
    for problem in problems:
        print(f"  MISSING {problem}")
    print(f"requirements: {met} met, {len(problems)} problems ({len(wheels)} wheels)")
    return 1 if problems else 0


# --------------------------------------------------------------------------------------------
# The simulated GPU environment
# --------------------------------------------------------------------------------------------


class HideOthers(importlib.abc.MetaPathFinder):
    """Hides top-level modules of distributions the GPU machine will not have, unless the
    shipped wheels (``target``) provide them."""

    def __init__(self, hidden: set[str], target: str) -> None:
        self.hidden = hidden
        self.target = target

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if "." in fullname or fullname not in self.hidden:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, [self.target])
        if spec is not None:
            return spec
        raise ModuleNotFoundError(
            f"No module named {fullname!r} (hidden: the GPU machine lacks it and no shipped "
            "wheel provides it)",
            name=fullname,
        )


def hidden_modules() -> set[str]:
    allowed = set(provided_closure(GPU_MACHINE))
    hidden = set()
    for module, distributions in importlib.metadata.packages_distributions().items():
        if not any(canonicalize_name(d) in allowed for d in distributions):
            hidden.add(module)
    return hidden - {"hpo", "training", "bench"}  # the repository itself travels


def enter_sandbox(target: str) -> None:
    sys.path[:0] = [target, str(ROOT)]
    sys.meta_path.insert(0, HideOthers(hidden_modules(), target))


def import_all() -> int:
    """Import what the check needs; every hpo / training module too (those not needed may
    fail: reported, not counted)."""
    import pkgutil

    failures = 0
    for name in NEEDED_IMPORTS:
        try:
            module = __import__(name, fromlist=["_"])
        except Exception as exc:
            print(f"  FAIL import {name}: {type(exc).__name__}: {exc}")
            failures += 1
            continue
        where = Path(getattr(module, "__file__", "") or "?").resolve()
        if where.is_relative_to(Path(sys.path[0]).resolve()):
            origin = "shipped wheel"
        elif where.is_relative_to(ROOT):
            origin = "repository"
        else:
            origin = "GPU machine's packages"
        print(f"  ok   import {name} ({origin})")
    for package in ("hpo", "training"):
        root = __import__(package)
        for info in pkgutil.walk_packages(root.__path__, prefix=f"{package}."):
            if info.name.endswith("__main__"):
                continue
            try:
                __import__(info.name)
            except Exception as exc:
                # Reported, not counted: the command-line run below is what decides.
                print(f"  note {info.name} does not import there: {exc}")
    from sqlalchemy.util._has_cython import HAS_CYEXTENSION

    loaded = "loaded" if HAS_CYEXTENSION else "not loaded (pure-Python fallback)"
    print(f"  note SQLAlchemy's C extensions: {loaded} with Python {sys.version.split()[0]}")
    return failures


TINY_OBJECTIVE = """\
def run(params):
    return float(params["x"])
"""


def simulate(target: str) -> int:
    """Imports, then a tiny study through the command line, each in a sandboxed process."""
    started = time.time()
    with tempfile.TemporaryDirectory(prefix="gpu-env-") as tmp:
        folder = Path(tmp)
        (folder / "tiny.py").write_text(TINY_OBJECTIVE)
        space = {
            "config": {"experimentName": "sim", "maxTrialNum": 3},
            "params": {"x": 2},
            "search_space": {"x": {"_type": "choice", "_value": [1, 2, 3]}},
        }
        (folder / "space.json").write_text(json.dumps(space))
        url = f"sqlite:///{folder / 'sim.db'}"
        read = (
            "import optuna; optuna.logging.set_verbosity(optuna.logging.WARNING); "
            f"t = optuna.load_study(study_name='sim', storage={url!r}).trials; "
            "print('  ok   read back', len(t), 'trials:', sorted({x.state.name for x in t}))"
        )
        runs = [
            ("imports", ["-c", "import sys, bench.gpu_env as e; sys.exit(e.import_all())"]),
            (
                "hpo create-study",
                [
                    *["-m", "hpo", "create-study", "--space", str(folder / "space.json")],
                    *["--storage", url, "--objective", f"{folder / 'tiny.py'}:run"],
                    *["--max-trials", "3", "--pruner", "none"],
                ],
            ),
            ("hpo worker", ["-m", "hpo", "worker", "--study", "sim", "--storage", url]),
            ("optuna.load_study", ["-c", read]),
        ]
        for label, args in runs:
            print(f"- {label}")
            command = [sys.executable, "-I", str(Path(__file__).resolve()), "_sandboxed"]
            command += ["--target", target, "--", *args]
            result = subprocess.run(
                command, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
            )
            output = (result.stdout + result.stderr).rstrip()
            if label.startswith("hpo"):
                # Its last lines; more of them when it failed (the import chain, say).
                keep = 3 if result.returncode == 0 else 25
                output = "\n".join(f"  {line}" for line in output.splitlines()[-keep:])
            if output:
                print(output)
            if result.returncode != 0:
                print(f"simulate: {label} failed (exit {result.returncode})")
                return 1
    print(f"simulate: all ran in the cut-down environment ({time.time() - started:.0f} s)")
    return 0


def sandboxed(target: str, args: list[str]) -> None:
    """Run ``-m MODULE ARGS`` or ``-c CODE`` as python would, inside the sandbox."""
    enter_sandbox(target)
    if args[:1] == ["-m"]:
        sys.argv = [args[1], *args[2:]]
        runpy.run_module(args[1], run_name="__main__", alter_sys=True)
    elif args[:1] == ["-c"]:
        sys.argv = ["-c", *args[2:]]
        exec(compile(args[1], "<sandboxed>", "exec"), {"__name__": "__main__"})
    else:
        raise SystemExit("_sandboxed: expected -m MODULE ... or -c CODE")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    requirements = sub.add_parser("requirements", help="are the shipped wheels enough?")
    requirements.add_argument("--wheels", type=Path, default=ROOT / ".whl")
    requirements.add_argument(
        "--installed", action="store_true", help="check against what is installed here"
    )
    simulate_parser = sub.add_parser("simulate", help="run in a cut-down environment")
    simulate_parser.add_argument("--target", required=True, help="the installed wheels")
    inner = sub.add_parser("_sandboxed")
    inner.add_argument("--target", required=True)
    inner.add_argument("args", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    if args.command == "requirements":
        return check_requirements(args.wheels, args.installed)
    if args.command == "simulate":
        return simulate(str(Path(args.target).resolve()))
    rest = args.args[1:] if args.args[:1] == ["--"] else args.args
    sandboxed(str(Path(args.target).resolve()), rest)
    return 0


if __name__ == "__main__":
    sys.exit(main())
