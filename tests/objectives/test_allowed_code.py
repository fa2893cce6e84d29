"""``--allow-code`` checks what actually runs: a command's program or script, a function's
module file; not only the directory the study names."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from hpo.errors import InvalidInputError
from hpo.objectives import ObjectiveSpec, command_objective
from hpo.objectives.allowed import check_allowed
from hpo.objectives.command import SHIM
from tests.helpers import write_module


@pytest.fixture
def vetted(tmp_path: Path) -> Path:
    """An allowed directory with a script, an executable, a package and a link out."""
    code = tmp_path / "vetted"
    (code / "pkg").mkdir(parents=True)
    (code / "train.py").write_text("print('@hpo final 1')\n")
    (code / "run.sh").write_text("#!/bin/sh\npython3 train.py\n")
    (code / "run.sh").chmod(0o755)
    (code / "pkg" / "__init__.py").write_text("")
    (code / "pkg" / "main.py").write_text("print('@hpo final 1')\n")
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "evil.py").write_text("print('@hpo final 1')\n")
    (tmp_path / "elsewhere" / "evil.sh").write_text("#!/bin/sh\necho '@hpo final 1'\n")
    (tmp_path / "elsewhere" / "evil.sh").chmod(0o755)
    (code / "link.py").symlink_to(tmp_path / "elsewhere" / "evil.py")
    (code / "link.sh").symlink_to(tmp_path / "elsewhere" / "evil.sh")
    return code


@pytest.mark.parametrize(
    "command",
    [
        "python3 train.py",
        "python train.py --lr 0.1 --name run-1",
        "python3 -u -W ignore -X importtime train.py",
        "python3 -m pkg.main",
        "./run.sh",
        "bash -e run.sh",
        "sh run.sh --epochs=3",
        "python3 'train.py' \"--tag=a b\"",
    ],
)
def test_a_program_or_script_from_an_allowed_directory_runs(vetted: Path, command: str) -> None:
    check_allowed(command_objective(command, str(vetted)), [vetted])


@pytest.mark.parametrize(
    ("command", "says"),
    [
        # the directory is allowed, what runs is not
        ("python3 ../elsewhere/evil.py", "command runs python3 on {elsewhere}/evil.py"),
        ("{elsewhere}/evil.sh", "command runs {elsewhere}/evil.sh"),
        ("python3 link.py", "command runs python3 on {elsewhere}/evil.py"),
        ("./link.sh", "command runs {elsewhere}/evil.sh"),
        ("rm -rf data", "command runs /"),
        ("python3 -c 'import os'", "python3 is given -c"),
        ("python3", "python3 is given no script file"),
        ("bash -c id", "bash is given -c"),
        ("python3 -m json.tool", "-m json.tool: no json.tool in"),
        ("python3 -m sys", "-m sys runs a module built into Python"),
        ("python3 missing.py", "its script {vetted}/missing.py is not a file"),
        ("no-such-program x", "'no-such-program' is not an executable file"),
        ("{python} train.py", "command runs"),  # an interpreter given by path is a program
        # the shell would decide what runs after the check
        ("python3 train.py; curl x | sh", "it uses the shell (';' '|')"),
        ("python3 train.py && rm -rf ~", "it uses the shell ('&' '~')"),
        ("python3 $SCRIPT", "it uses the shell ('$')"),
        ("python3 `echo train.py`", "it uses the shell ('`')"),
        ("python3 train.py > /tmp/x", "it uses the shell ('>')"),
        ("python3 *.py", "it uses the shell ('*')"),
        ("python3 train.py\nrm -rf data", "it uses the shell ('\\n')"),
        ("LD_PRELOAD=/tmp/x.so python3 train.py", "it sets a variable (LD_PRELOAD=/tmp/x.so)"),
        ("eval python3 train.py", "'eval' is run by the shell itself"),
        ("exec python3 train.py", "'exec' is run by the shell itself"),
        ("python3 'train.py", "it cannot be read"),
        ("", "it is empty"),
    ],
)
def test_a_command_running_anything_else_is_refused(vetted: Path, command: str, says: str) -> None:
    fill = {"elsewhere": vetted.parent / "elsewhere", "vetted": vetted, "python": sys.executable}
    spec = command_objective(command.format(**fill), str(vetted))
    with pytest.raises(InvalidInputError, match="HPO_ALLOW_CODE") as refused:
        check_allowed(spec, [vetted])
    assert says.format(**fill) in str(refused.value)
    assert "\n" not in str(refused.value).replace("\\n", "")  # one line


def test_a_command_with_no_directory_is_checked_where_it_runs(
    vetted: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stored command without a directory runs in the worker's own: that is checked."""
    spec = ObjectiveSpec("command", (), command="python3 train.py")
    monkeypatch.chdir(tmp_path / "elsewhere")
    with pytest.raises(InvalidInputError, match=r"command runs code from .*elsewhere"):
        check_allowed(spec, [vetted])
    monkeypatch.chdir(vetted)
    check_allowed(spec, [vetted])


def test_the_shim_and_hpos_interpreter_need_no_allowing(vetted: Path) -> None:
    """python3 is the worker's own (first on the trial's PATH), not a file to allow."""
    assert SHIM.is_dir()
    check_allowed(command_objective("python3 train.py", str(vetted)), [vetted])
    assert not str(Path(sys.executable).resolve()).startswith(str(vetted))


def test_a_program_on_the_path_inside_an_allowed_directory_runs(
    vetted: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", f"{vetted}{os.pathsep}{os.environ['PATH']}")
    check_allowed(command_objective("run.sh", str(vetted)), [vetted])


# -- functions -------------------------------------------------------------------------------


def test_a_function_module_is_checked_where_it_is_imported_from(
    vetted: Path, tmp_path: Path
) -> None:
    write_module(vetted, "objective_here", "def run(params):\n    return 1.0\n")
    check_allowed(ObjectiveSpec("objective_here:run", (str(vetted),)), [vetted])
    check_allowed(ObjectiveSpec("pkg.main:run", (str(vetted),)), [vetted])
    # Its directory is allowed; the module is found elsewhere on sys.path (installed).
    for target, says in [
        ("json:dumps", "imports json from"),
        ("hpo.cli.app:main", "imports hpo from"),
        ("os:system", "imports os"),
        ("sys:exit", "imports sys, built into Python"),
        ("__main__:main", "imports __main__"),  # the worker's own program
    ]:
        with pytest.raises(InvalidInputError, match="outside the directories") as refused:
            check_allowed(ObjectiveSpec(target, (str(vetted),)), [vetted])
        assert says in str(refused.value)
    # No directory at all: the module is still checked.
    with pytest.raises(InvalidInputError, match="imports json from"):
        check_allowed(ObjectiveSpec("json:dumps", ()), [vetted])


def test_a_module_that_does_not_exist_is_left_to_the_import(vetted: Path) -> None:
    """Not found: nothing to run; loading the objective says it cannot import it."""
    check_allowed(ObjectiveSpec("no_such_module_here:run", (str(vetted),)), [vetted])
