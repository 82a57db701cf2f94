"""Every example in the README's "Examples" sections runs as written, in order, against a live
server on a fresh database (issue 11, item 8).

The ``sh`` blocks are cut into commands (a trailing ``\\`` continues a line), run one after the
other in a single bash (so ``token=$(...)`` is seen by the lines that use it), with the
README's ``http://127.0.0.1:8080`` replaced by the live server and this venv's ``rbt`` first on
``PATH``. Each must exit 0, and then, by its trailing comment:

* ``# ... err.code N``: its output is an error envelope with that code (the lines that show
  errors);
* ``# prints X``: its output is exactly ``X``;
* ``# ... no body``: its output is empty;
* an assignment (``name=$(...)``): the variable holds a value (not empty, not jq's ``null``);
* anything else: its output is JSON with ``"stat": "ok"`` (or XML with ``<stat>ok</stat>``;
  ``rbt ... --json`` says ``"status": "success"``).

The ``python`` blocks run with this venv's Python and must exit 0.

The "RBTools" section's ``rbapi`` repository commands are run too (through ``call_command``,
as ``rbapi`` would), and then the steps it describes: ``rbt setup-repo`` in a Git checkout of
the added repository writes the ``.reviewboardrc`` the README shows, ``rbt login``, and
``rbt status`` reading that file.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from reviews.models import Group, Repository
from tests.conftest import make_user

README = Path(__file__).resolve().parents[2] / "README.md"
README_SERVER = "http://127.0.0.1:8080"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)
TRAILING_COMMENT = re.compile(r"\s#\s+([^'\"]*)$")
ASSIGNMENT = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=")


@dataclass(frozen=True)
class Example:
    command: str
    comment: str

    @property
    def variable(self) -> str | None:
        match = ASSIGNMENT.match(self.command)
        return match.group(1) if match else None


def example_blocks(text: str, title: str = "Examples") -> list[tuple[str, str]]:
    """``(language, body)`` of every fenced block in the sections whose title starts with
    ``title``."""
    blocks = []
    for section in re.split(r"^## ", text, flags=re.MULTILINE)[1:]:
        if section.startswith(title):
            blocks += [(lang, body) for lang, body in FENCE.findall(section)]
    return blocks


def shell_examples(body: str) -> list[Example]:
    examples, pending = [], ""
    for line in body.splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line + "\n"
            continue
        command = pending + line
        pending = ""
        match = TRAILING_COMMENT.search(line)
        examples.append(Example(command, match.group(1).strip() if match else ""))
    assert not pending, f"unfinished command: {pending}"
    return examples


def test_the_readme_has_examples_to_run():
    blocks = example_blocks(README.read_text())
    commands = [e.command for lang, body in blocks if lang == "sh" for e in shell_examples(body)]
    assert len(commands) >= 40
    assert any(c.startswith("rbt ") for c in commands)
    assert any(lang == "python" for lang, _ in blocks)
    # No placeholder a reader would have to fill in.
    assert not [c for c in commands if "..." in c or "<" in c.split("#")[0]]


def _environment(tmp_path: Path) -> dict[str, str]:
    home = tmp_path / "home"
    home.mkdir()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("RBTOOLS_", "REVIEWBOARD_", "GIT_"))
    }
    venv_bin = str(Path(sys.executable).parent)
    env.update(
        HOME=str(home),
        XDG_CACHE_HOME=str(home / ".cache"),
        XDG_CONFIG_HOME=str(home / ".config"),
        PATH=f"{venv_bin}{os.pathsep}{env.get('PATH', '')}",
        NO_COLOR="1",
    )
    return env


def _check(example: Example, rc: int, out: str, err: str, variable: str | None) -> str:
    """What went wrong with one example, or "" if it did what the README says."""
    if rc != 0:
        return f"exit {rc}: {err.strip()[:300]}"
    comment = example.comment
    expected = re.search(r"err\.code (\d+)", comment)
    prints = re.match(r"prints (\S+)$", comment)
    if example.variable is not None:
        return "" if variable not in ("", "null") else f"${example.variable} is {variable!r}"
    if prints:
        return "" if out.strip() == prints.group(1) else f"printed {out.strip()[:200]!r}"
    if "no body" in comment:
        return "" if out == "" else f"printed {out[:200]!r}"
    if out.startswith("<?xml"):
        return "" if "<stat>ok</stat>" in out else f"not ok: {out[:300]}"
    try:
        body: Any = json.loads(out)
    except ValueError:
        return f"not JSON: {out[:200]!r}"
    if expected:
        code = int(expected.group(1))
        if body.get("stat") != "fail" or body.get("err", {}).get("code") != code:
            return f"expected err.code {code}: {out[:200]}"
        return ""
    if example.command.startswith("rbt ") and "--json" in example.command:
        # RBTools' own JSON output says "status" instead.
        return "" if body.get("status") == "success" else f"not a success: {out[:300]}"
    return "" if body.get("stat") == "ok" else f"not ok: {out[:300]}"


@pytest.mark.django_db(transaction=True, reset_sequences=True)
def test_every_readme_example_runs_in_order(live_server: Any, tmp_path: Path, capsys):
    for tool in ("curl", "jq"):
        assert shutil.which(tool), f"the README's examples need {tool}"
    make_user("admin", superuser=True, first_name="Admin", last_name="")  # bin/serve's demo user
    blocks = example_blocks(README.read_text())
    examples = [e for lang, body in blocks if lang == "sh" for e in shell_examples(body)]
    work = tmp_path / "work"
    work.mkdir()
    script = ["set -u"]
    for number, example in enumerate(examples):
        command = example.command.replace(README_SERVER, live_server.url)
        script.append(f"{{ {command}\n}} >{number}.out 2>{number}.err; echo $? >{number}.rc")
        if example.variable:
            script.append(f'printf %s "${{{example.variable}:-}}" >{number}.var')
    env = _environment(tmp_path)
    subprocess.run(["bash", "-c", "\n".join(script)], cwd=work, env=env, check=True, timeout=600)
    failures, report = [], []
    for number, example in enumerate(examples):
        read = (work / f"{number}.{{}}").as_posix().format
        rc = int(Path(read("rc")).read_text() or 1)
        variable = Path(read("var")).read_text() if example.variable else None
        problem = _check(
            example, rc, Path(read("out")).read_text(), Path(read("err")).read_text(), variable
        )
        first_line = example.command.splitlines()[0][:100]
        report.append(f"{'FAIL' if problem else 'ok  '} {first_line}")
        if problem:
            failures.append(f"{first_line}\n    {problem}")
    for lang, body in blocks:
        if lang != "python":
            continue
        code = body.replace(f"{README_SERVER}/", f"{live_server.url}/")
        done = subprocess.run(
            [sys.executable, "-c", code], cwd=work, env=env, capture_output=True, text=True,
            timeout=120,
        )  # fmt: skip
        report.append(
            f"{'ok  ' if done.returncode == 0 else 'FAIL'} python: {code.splitlines()[0]}"
        )
        if done.returncode != 0 or "admin" not in done.stdout.split():
            failures.append(f"python block\n    {done.stdout[-300:]}{done.stderr[-500:]}")
    with capsys.disabled():
        print(f"\nREADME examples: {len(report) - len(failures)}/{len(report)} as documented")
        print("\n".join(report))
    assert not failures, "\n".join(failures)


def _rbt(*args: str, cwd: Path, env: dict[str, str], stdin: str = "") -> str:
    done = subprocess.run(
        ["rbt", *args], cwd=cwd, env=env, input=stdin, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.mark.django_db(transaction=True)
def test_the_rbtools_section_works_as_written(live_server: Any, tmp_path: Path):
    make_user("admin", superuser=True)
    make_user("doc")  # the README's private repository names doc and devs
    Group.objects.create(name="devs", display_name="Developers")
    blocks = example_blocks(README.read_text(), "RBTools")
    commands = [
        shlex.split(line, comments=True)
        for lang, body in blocks
        if lang == "sh"
        for line in body.splitlines()
        if line.startswith("rbapi ")
    ]
    assert [args[1] for args in commands] == [
        "add_repository",
        "add_repository",
        "list_repositories",
        "archive_repository",
    ]
    for args in commands[:-1]:  # archiving comes last, once the checkout is set up
        call_command(*args[1:])
    repository = Repository.objects.get(name="myproject")
    # setup-repo in a checkout of that repository writes what the README shows.
    env = _environment(tmp_path)
    checkout = tmp_path / "myproject"
    checkout.mkdir()
    for git in (["init", "-q"], ["remote", "add", "origin", repository.path]):
        subprocess.run(["git", *git], cwd=checkout, env=env, check=True)
    server = f"{live_server.url}/"
    _rbt(
        "setup-repo", "--server", server, "--username", "admin", "--password", "admin",
        cwd=checkout, env=env, stdin="1\ny\n",
    )  # fmt: skip
    rc = (checkout / ".reviewboardrc").read_text()
    assert f'REVIEWBOARD_URL = "{server}"' in rc and 'REPOSITORY = "myproject"' in rc
    _rbt("login", "--username", "admin", "--password", "admin", cwd=checkout, env=env)
    status = json.loads(_rbt("status", "--json", cwd=checkout, env=env))
    assert status == {"review_requests": [], "status": "success"}
    call_command(*commands[-1][1:])
    repository.refresh_from_db()
    assert repository.archived and not repository.visible
