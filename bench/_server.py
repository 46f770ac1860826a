"""Starting and stopping the platform's processes for the benchmark (``bench/run.py``) and the PostgreSQL restart
check (``tests/faults/pg_restart.py``): gunicorn as production runs it, and the process helpers they share."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
START_SECONDS = 60


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (read from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return sorted(found)


def stop(process: subprocess.Popen) -> None:
    """SIGTERM (gunicorn and Celery finish what they are doing), then SIGKILL after 20 s."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as answer:  # noqa: S310  # nosec B310 # our own loopback address
            return answer.status == 200
    except OSError:
        return False


@contextmanager
def gunicorn(env: dict, port: int, log_path: Path, *, workers: int = 2, timeout: int = 120) -> Iterator:
    """``gunicorn copapp.wsgi`` with ``workers`` workers on 127.0.0.1:``port`` and the environment ``env``, once
    ``/healthz`` answers and every worker has started; stopped on leaving. Raises SystemExit (with the end of its
    log) if it exits or does not answer within a minute."""
    command = [str(Path(sys.executable).parent / "gunicorn"), "-c", "python:copapp.gunicorn_conf", "copapp.wsgi"]
    command += ["--workers", str(workers)]
    command += ["--bind", f"127.0.0.1:{port}", "--timeout", str(timeout), "--log-level", "warning"]
    with log_path.open("wb") as output:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)  # noqa: S603  # nosec B603 # fixed command
        try:
            deadline = time.monotonic() + START_SECONDS
            while not (_healthy(port) and len(children(process.pid)) >= workers):
                if process.poll() is not None:
                    raise SystemExit(f"gunicorn exited:\n{log_path.read_text()[-3000:]}")
                if time.monotonic() > deadline:
                    raise SystemExit(f"gunicorn did not answer:\n{log_path.read_text()[-3000:]}")
                time.sleep(0.3)
            yield process
        finally:
            stop(process)
