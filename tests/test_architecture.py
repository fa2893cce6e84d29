"""The architecture, checked: layers without loops, Optuna's internals in one place, small
modules, a worker that knows nothing about training, a training package that knows nothing
about hpo.

Every import counts, at module level, inside functions and under ``TYPE_CHECKING`` alike: a
loop hidden in a function is still a loop. The layers, lowest first (``docs/architecture.md``
says what each holds); a module may import from lower layers and from its own package, never
from a higher layer or from another package of its own layer:
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers import ROOT

LAYERS: tuple[tuple[str, ...], ...] = (
    ("hpo.errors", "hpo.attrs", "hpo.env", "hpo.text"),
    ("hpo.optuna_compat",),
    ("hpo.space", "hpo.storage"),
    ("hpo.tuners",),
    ("hpo.objectives",),
    ("hpo.study",),
    ("hpo.worker", "hpo.analysis"),
    ("hpo.cli",),
    ("hpo", "hpo.__main__"),
)
#: Only the CLI imports inside functions (so that ``hpo --help`` stays instant), and these
#: (importing module, imported module): each is heavy and needed by one code path only.
LAZY_IMPORTS = {
    # torch (seconds to import) loads only in workers whose objective trains.
    ("hpo.objectives.training", "training"),
    # Optuna's gRPC client (protobuf, generated code) only for a grpc:// storage.
    ("hpo.storage.open", "hpo.storage.grpc"),
}
MAX_LINES = 450
#: Names that belong to the built-in training objective, never to the worker.
TRAINING_NAMES = ("state_file", "resumed_from_epoch", "training")
#: Private names of the standard library's that are public in all but name.
STDLIB_PRIVATE = {"_exit", "_asdict", "_replace", "_fields", "_getframe"}


@dataclass(frozen=True)
class Import:
    module: str  # the module imported (a submodule where ``from X import sub`` names one)
    names: tuple[str, ...]  # what ``from X import ...`` takes
    line: int
    in_function: bool


def modules(package: str) -> dict[str, Path]:
    """Every module of a package: dotted name → file."""
    out = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


HPO = modules("hpo")
TRAINING = modules("training")


def _is_module(name: str) -> bool:
    path = ROOT.joinpath(*name.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def imports(path: Path) -> Iterator[Import]:
    tree = ast.parse(path.read_text(), str(path))
    in_function: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            in_function.update(id(n) for n in ast.walk(node) if n is not node)
    for node in ast.walk(tree):
        nested = id(node) in in_function
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(alias.name, (), node.lineno, nested)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = tuple(a.name for a in node.names)
            submodules = [f"{node.module}.{n}" for n in names if _is_module(f"{node.module}.{n}")]
            for module in submodules or [node.module]:
                yield Import(module, names, node.lineno, nested)


def internal(module: str) -> str | None:
    """The hpo module an import refers to, or None for anything else."""
    while module and module not in HPO:
        module = module.rpartition(".")[0]
    return module or None


def layer_of(module: str) -> tuple[int, str]:
    """(layer, package) of an hpo module: ``hpo.worker.loop`` → (6, "hpo.worker")."""
    best: tuple[int, str] | None = None
    for index, packages in enumerate(LAYERS):
        for package in packages:
            if (module == package or module.startswith(package + ".")) and (
                best is None or len(package) > len(best[1])
            ):
                best = (index, package)
    assert best is not None, f"{module} is in no layer: add it to LAYERS"
    return best


def graph() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {name: set() for name in HPO}
    for name, path in HPO.items():
        for imp in imports(path):
            target = internal(imp.module)
            if target is not None and target != name:
                edges[name].add(target)
    return edges


def layering_violations(edges: dict[str, set[str]]) -> list[str]:
    found = []
    for source, targets in edges.items():
        source_layer, source_package = layer_of(source)
        for target in sorted(targets):
            target_layer, target_package = layer_of(target)
            if target_package == source_package or target_layer < source_layer:
                continue
            why = "a higher layer" if target_layer > source_layer else "a sibling package"
            found.append(f"{source} imports {target} ({why})")
    return found


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Every loop of imports, each found once (depth-first search, Tarjan-free and small)."""
    found: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        path.append(node)
        for target in sorted(edges.get(node, ())):
            if state.get(target) == 1:
                found.append([*path[path.index(target) :], target])
            elif target not in state:
                visit(target)
        path.pop()
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node)
    return found


def test_every_module_has_a_layer() -> None:
    for name in HPO:
        layer_of(name)


def test_lower_layers_never_import_higher_ones() -> None:
    assert layering_violations(graph()) == []


def test_no_import_cycle_counting_imports_inside_functions() -> None:
    assert cycles(graph()) == []


def test_the_checks_catch_a_planted_reverse_import_and_loop() -> None:
    """The two checks above fail where they should: storage importing the worker."""
    edges = graph()
    edges["hpo.storage.rdb"] = {*edges["hpo.storage.rdb"], "hpo.worker.loop"}
    assert "hpo.storage.rdb imports hpo.worker.loop (a higher layer)" in layering_violations(edges)
    assert any(c[0] == "hpo.storage.rdb" or "hpo.storage.rdb" in c for c in cycles(edges))


def test_only_the_cli_imports_inside_functions() -> None:
    lazy = []
    for name, path in HPO.items():
        if layer_of(name)[1] == "hpo.cli":
            continue
        for imp in imports(path):
            if imp.in_function and (name, imp.module) not in LAZY_IMPORTS:
                lazy.append(f"{path.relative_to(ROOT)}:{imp.line} imports {imp.module}")
    assert lazy == []


def test_training_imports_neither_optuna_nor_hpo() -> None:
    for path in TRAINING.values():
        for imp in imports(path):
            top = imp.module.split(".")[0]
            assert top not in ("optuna", "hpo"), f"{path.relative_to(ROOT)}:{imp.line}"


@pytest.mark.parametrize("package", ["hpo", "training"])
def test_modules_stay_small(package: str) -> None:
    sizes = {p: len(p.read_text().splitlines()) for p in modules(package).values()}
    assert {str(p.relative_to(ROOT)): n for p, n in sizes.items() if n > MAX_LINES} == {}


def test_the_worker_knows_nothing_about_training() -> None:
    """No name, key or import of the training objective's in the worker (prose may say it)."""
    for name, path in HPO.items():
        if layer_of(name)[1] != "hpo.worker":
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            words: list[str] = []
            if isinstance(node, ast.Name):
                words = [node.id]
            elif isinstance(node, ast.Attribute):
                words = [node.attr]
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                words = [node.value]  # a key such as "state_file"; sentences are not names
            elif isinstance(node, ast.Import | ast.ImportFrom):
                module = node.module if isinstance(node, ast.ImportFrom) else None
                words = [module or "", *(a.name for a in node.names)]
            for word in words:
                assert word.split(".")[0] not in TRAINING_NAMES, (
                    f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', '?')}: {word}"
                )


def private_optuna_uses(path: Path) -> list[str]:
    """Optuna's private modules, names and attributes used in one file."""
    tree = ast.parse(path.read_text())
    found = []
    from_optuna: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("optuna"):
            from_optuna.update(a.asname or a.name for a in node.names)
            if any(part.startswith("_") for part in node.module.split(".")) or any(
                a.name.startswith("_") for a in node.names
            ):
                found.append(f"{node.lineno}: from {node.module} import …")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("optuna") and "._" in alias.name:
                    found.append(f"{node.lineno}: import {alias.name}")
        elif isinstance(node, ast.Attribute) and _private(node.attr):
            base = node.value
            if not (isinstance(base, ast.Name) and base.id in ("self", "cls", "super")):
                found.append(f"{node.lineno}: ._{node.attr[1:]}")
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("getattr", "setattr", "hasattr")
            and len(node.args) > 1
            and isinstance(name := node.args[1], ast.Constant)
            and isinstance(name.value, str)
            and _private(name.value)
        ):
            found.append(f"{node.lineno}: {node.func.id}(…, {name.value!r})")
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and any(
            isinstance(b, ast.Name) and b.id in from_optuna for b in node.bases
        ):
            own = {
                t.attr
                for n in ast.walk(node)
                if isinstance(n, ast.Assign | ast.AnnAssign)
                for t in (n.targets if isinstance(n, ast.Assign) else [n.target])
                if isinstance(t, ast.Attribute)
            }
            for n in ast.walk(node):
                if isinstance(n, ast.FunctionDef) and _private(n.name):
                    found.append(f"{n.lineno}: {node.name} overrides {n.name}")
                if isinstance(n, ast.Attribute) and _private(n.attr) and n.attr not in own:
                    found.append(f"{n.lineno}: {node.name} uses inherited {n.attr}")
    return found


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__") and name not in STDLIB_PRIVATE


def test_optunas_private_names_are_used_only_in_optuna_compat() -> None:
    uses = {
        str(path.relative_to(ROOT)): found
        for name, path in HPO.items()
        if layer_of(name)[1] != "hpo.optuna_compat" and (found := private_optuna_uses(path))
    }
    assert uses == {}


def test_the_private_name_check_finds_what_it_looks_for(tmp_path: Path) -> None:
    planted = tmp_path / "planted.py"
    planted.write_text(
        "from optuna.samplers import GridSampler\n"
        "from optuna.storages._rdb import models\n"
        "def f(study):\n"
        "    return study._storage, getattr(study, '_stop_flag')\n"
        "class G(GridSampler):\n"
        "    def g(self):\n"
        "        return self._all_grids\n"
    )
    assert len(private_optuna_uses(planted)) == 4
