"""What a command trial runs, checked against the directories a worker may run code from.

A command's directory says nothing about what it executes (``/usr/bin/curl … | sh`` runs as
well in a vetted directory as anywhere), so under ``--allow-code`` the check follows the
command to the files that run, as ``/bin/sh`` would find them:

- ``PROGRAM ARGS…``: PROGRAM, found as the shell finds it (a path from the code directory,
  else the trial's ``PATH``), resolved, lies in an allowed directory;
- ``INTERPRETER [OPTIONS] SCRIPT ARGS…``: INTERPRETER is ``python``/``python3``/``python3.N``
  or ``sh``/``bash``/``dash`` named bare (the worker's own, from its ``PATH``), with options
  that run no code of their own, and SCRIPT (or ``python -m MODULE``'s file in the code
  directory), resolved, lies in an allowed directory.

Nothing else: the shell would otherwise decide what runs after the check (operators,
redirections, variables, substitutions, globs, ``~``, ``VAR=value`` prefixes, its builtins
such as ``eval`` or ``exec``), so a command holding any of them is refused, in one line. A
wrapper script in an allowed directory can do all of that.
"""

from __future__ import annotations

import importlib.machinery
import os
import re
import shlex
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from hpo.objectives.command_env import trial_path
from hpo.objectives.target import ObjectiveSpec
from hpo.objectives.trust import inside, not_allowed, refused

#: Characters that make the shell do more than run one program with its arguments.
SHELL_SYNTAX = frozenset(";&|<>()$`\\*?[]{}~#!")
#: Words the shell runs itself rather than looking for a file (POSIX sh, dash and bash).
_SHELL_WORDS = (
    ". : [ [[ ]] { } ! alias bg bind break builtin caller case cd command compgen complete "
    "continue declare dirs disown do done echo elif else enable esac eval exec exit export "
    "false fc fg fi for function getopts hash help history if in jobs kill let local logout "
    "mapfile popd printf pushd pwd read readarray readonly return select set shift shopt "
    "source suspend test then time times trap true type typeset ulimit umask unalias unset "
    "until wait while"
)
SHELL_WORDS = frozenset(_SHELL_WORDS.split())
PYTHON = re.compile(r"python(\d+(\.\d+)?)?")
SHELLS = frozenset({"sh", "bash", "dash"})
#: Python's options that run no code of their own (no -c, no stdin, no startup file).
_PYTHON_FLAGS = "-u -B -O -OO -b -bb -d -E -I -P -s -S -q -v -vv -R"
PYTHON_FLAGS = frozenset(_PYTHON_FLAGS.split())
PYTHON_VALUED = ("-W", "-X")  # each takes a value (warnings filter, implementation option)
SHELL_FLAGS = re.compile(r"-[euxv]+")


def check_command(spec: ObjectiveSpec, allowed: Sequence[Path]) -> None:
    """Refuse, in one line, a command that would run a file outside ``allowed``."""
    directory = Path(spec.directory).resolve()
    if not inside(directory, allowed):
        raise refused(f"command runs code from {directory}", allowed)
    command = spec.command or ""
    shell = sorted({c for c in command if c in SHELL_SYNTAX or (ord(c) < 32 and c != " ")})
    if shell:
        raise not_allowed(
            f"command {command!r}",
            f"it uses the shell ({' '.join(map(repr, shell))}); a checked command is a "
            "program and its arguments (put the rest in a script in an allowed directory)",
        )
    try:
        words = shlex.split(command)
    except ValueError as exc:
        raise not_allowed(f"command {command!r}", f"it cannot be read ({exc})") from None
    if not words:
        raise not_allowed(f"command {command!r}", "it is empty")
    program = words[0]
    if "=" in program:
        raise not_allowed(f"command {command!r}", f"it sets a variable ({program})")
    if program in SHELL_WORDS:
        raise not_allowed(f"command {command!r}", f"{program!r} is run by the shell itself")
    found = find_program(program, directory, os.environ)
    if found is None:
        raise not_allowed(
            f"command {command!r}",
            f"{program!r} is not an executable file in {directory} or on the PATH",
        )
    if inside(found, allowed):
        return  # a program from an allowed directory: what it does was vetted
    name = Path(program).name
    if "/" in program or not (PYTHON.fullmatch(name) or name in SHELLS):
        raise refused(f"command runs {found.resolve()} ({program})", allowed)
    script = _script(command, program, words[1:], directory, python=name not in SHELLS)
    if not inside(script, allowed):
        raise refused(f"command runs {program} on {script.resolve()}", allowed)


def find_program(word: str, directory: Path, worker_env: Mapping[str, str]) -> Path | None:
    """The file ``/bin/sh`` runs for ``word`` in a trial in ``directory``: a path (relative to
    the directory) as given, a bare name from the trial's ``PATH`` (empty or relative entries
    relative to the directory)."""
    if "/" in word:
        candidates = [directory / word]
    else:
        entries = trial_path(worker_env).split(os.pathsep)
        candidates = [directory / (entry or ".") / word for entry in entries]
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def _script(command: str, program: str, args: list[str], directory: Path, *, python: bool) -> Path:
    """The file an interpreter runs, past the options that run no code of their own."""
    what = f"command {command!r}"
    i = 0
    while i < len(args):
        arg = args[i]
        if (python and arg in PYTHON_FLAGS) or (not python and SHELL_FLAGS.fullmatch(arg)):
            i += 1
        elif python and arg in PYTHON_VALUED:
            i += 2
        elif python and arg.startswith(PYTHON_VALUED):
            i += 1
        elif python and arg == "-m":
            if i + 1 == len(args):
                raise not_allowed(what, f"{program} -m names no module")
            return _module_file(what, args[i + 1], directory)
        elif arg.startswith("-"):
            raise not_allowed(
                what,
                f"{program} is given {arg}; a checked interpreter runs a script file, with "
                "options that run no code of their own",
            )
        else:
            script = directory / arg
            if not script.is_file():
                raise not_allowed(what, f"its script {script} is not a file")
            return script
    raise not_allowed(what, f"{program} is given no script file (it would read its input)")


def _module_file(what: str, module: str, directory: Path) -> Path:
    """The file ``python -m MODULE`` runs from the code directory (the first entry of its
    ``sys.path``), or a refusal where Python would find it elsewhere."""
    parts = module.split(".")
    if not all(part.isidentifier() for part in parts):
        raise not_allowed(what, f"-m {module!r} is not a module name")
    top = parts[0]
    if top in sys.builtin_module_names or importlib.machinery.FrozenImporter.find_spec(top):
        raise not_allowed(what, f"-m {module} runs a module built into Python")
    base = directory.joinpath(*parts)
    for candidate in (base.with_suffix(".py"), base / "__main__.py"):
        if candidate.is_file():
            return candidate
    raise not_allowed(
        what, f"-m {module}: no {module} in {directory} (Python would look elsewhere)"
    )
