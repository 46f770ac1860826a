#!/usr/bin/env python3
"""Developer entry point for copapp. Standard library only: runs with the system ``python3``.

    python3 scripts/dev.py start            # venv + install + migrate + demo content + runserver on :8000
    python3 scripts/dev.py test [ARGS...]   # venv + install + pytest -n 2 [ARGS...]
    python3 scripts/dev.py install          # venv + install only (used by CI)

The project is installed into ``.venv`` with ``pip install -e ".[dev]"``, and only again when pyproject.toml
has changed since the last successful install (a hash is kept in ``.venv/.copapp-install-stamp``).
Everything afterwards runs with the venv's own python.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
VENV_PYTHON = VENV / "bin" / "python"
STAMP = VENV / ".copapp-install-stamp"
PYPROJECT = ROOT / "pyproject.toml"
HOST_PORT = "127.0.0.1:8000"

USAGE = """usage: python3 scripts/dev.py COMMAND [ARGS...]

commands:
  start            install if needed, migrate, load demo content, run the site at http://127.0.0.1:8000
  test [ARGS...]   install if needed, then run the test suite (pytest -n 2 ARGS...)
  install          create .venv and install the project if pyproject.toml changed
"""


def say(message: str) -> None:
    print(f"[dev] {message}", flush=True)


def run(cmd: list[str], what: str) -> None:
    """Run a command in the project root; stop with its exit code if it fails."""
    result = subprocess.run(cmd, cwd=ROOT, check=False)  # noqa: S603 - fixed commands, no shell
    if result.returncode != 0:
        say(f"FAILED: {what} (exit code {result.returncode})")
        sys.exit(result.returncode)


def requirements_hash() -> str:
    return hashlib.sha256(PYPROJECT.read_bytes()).hexdigest()


def ensure_venv() -> None:
    if VENV_PYTHON.exists():
        return
    say(f"creating virtual environment in {VENV.relative_to(ROOT)}/")
    run(
        [sys.executable, "-m", "venv", str(VENV)],
        "python3 -m venv .venv (on Debian: apt-get install python3-venv)",
    )


def install() -> None:
    ensure_venv()
    wanted = requirements_hash()
    current = STAMP.read_text().strip() if STAMP.exists() else ""
    if current == wanted:
        say("dependencies up to date (pyproject.toml unchanged since the last install)")
        return
    say("installing the project and its dev dependencies: pip install -e '.[dev]'")
    run(
        [str(VENV_PYTHON), "-m", "pip", "install", "--disable-pip-version-check", "-e", ".[dev]"],
        "pip install -e '.[dev]'",
    )
    STAMP.write_text(wanted + "\n")
    say("install done")


def manage(*args: str) -> list[str]:
    return [str(VENV_PYTHON), str(ROOT / "manage.py"), *args]


def start() -> None:
    install()
    say("applying database migrations: manage.py migrate")
    run(manage("migrate", "--noinput"), "manage.py migrate")
    say("loading demo content: manage.py seed_demo")
    run(manage("seed_demo"), "manage.py seed_demo")
    say(f"starting the site at http://{HOST_PORT}/ (Ctrl-C to stop)")
    os.chdir(ROOT)
    cmd = manage("runserver", HOST_PORT)
    os.execv(cmd[0], cmd)  # noqa: S606 - replaces this process so Ctrl-C goes straight to runserver


def test(extra: list[str]) -> None:
    install()
    cmd = [str(VENV_PYTHON), "-m", "pytest", "-n", "2", *extra]
    say("running the tests: " + " ".join(["pytest", "-n", "2", *extra]))
    result = subprocess.run(cmd, cwd=ROOT, check=False)  # noqa: S603
    say(f"pytest finished with exit code {result.returncode}")
    sys.exit(result.returncode)


def main(argv: list[str]) -> None:
    if not argv or argv[0] in {"-h", "--help", "help"}:
        print(USAGE, end="")
        sys.exit(0 if argv else 2)
    command, rest = argv[0], argv[1:]
    if command == "start" and not rest:
        start()
    elif command == "test":
        test(rest)
    elif command == "install" and not rest:
        install()
    else:
        print(USAGE, end="", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except KeyboardInterrupt:
        sys.exit(130)
