#!/usr/bin/env python3
"""Fuzz the REST API with schemathesis against the embedded default, and fail on any server error (5xx).

    .venv/bin/python scripts/api_fuzz.py                    # fresh SQLite database with the demo content
    .venv/bin/python scripts/api_fuzz.py --max-examples 50  # more cases per operation
    .venv/bin/python scripts/api_fuzz.py --db /tmp/fuzz.sqlite3 --keep   # reuse (or keep) a seeded database

What it does:
1. makes a temporary SQLite database (``SQLITE_PATH``: the embedded default, with its WAL journal and busy
   timeout) and folders for uploads, migrates it and loads the demo content (``manage.py seed_demo``);
2. creates a read-and-write personal access token for the demo site administrator, and reads real slugs and ids
   (pages, questions, events, posts, members...) of the demo space with the most pages, so that most generated
   requests reach real objects rather than stopping at 404;
3. serves the site with gunicorn on a free port of 127.0.0.1 (rate limits off, e-mail discarded);
4. runs ``schemathesis run`` on ``/api/v1/openapi.json`` with the ``not_a_server_error`` check, authenticated with
   the token (every operation, positive and negative data, ``--max-examples`` cases each);
5. stops the server and exits non-zero if schemathesis found a failure or the server logged a traceback.

Logs and the JUnit report go to ``--artifacts`` (default ``ci-artifacts/api-fuzz``).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
PYTHON = str(VENV_BIN / "python")

# Read by ``manage.py shell``: the token and the values the fuzzer should use for path parameters.
PREPARE = r"""
import json
from datetime import timedelta

from django.db.models import Count
from django.utils import timezone

from members.models import User
from members.services_tokens import token_create
from spaces import services
from spaces.models import Answer, Event, Page, Post, Question, Space
from spaces.services import events as event_services
from spaces.services import posts as post_services

admin = User.objects.get(email="admin@example.org")
token = token_create(actor=admin, name="schemathesis", scope="read_write").secret
space = (
    Space.objects.filter(is_archived=False)
    .annotate(n=Count("items"))
    .select_related("community")
    .order_by("-n", "pk")
    .first()
)
# Every kind of content at least twice in that space, so every endpoint has real objects to reach.
for n in range(2 - min(2, Page.objects.filter(space=space).count())):
    services.page_create(actor=admin, space=space, title=f"Fuzzing page {n}", body="Some *text*.")
for n in range(2 - min(2, Question.objects.filter(space=space).count())):
    services.question_ask(actor=admin, space=space, title=f"Fuzzing question {n}?", tags=["fuzz"])
for question in Question.objects.filter(space=space, answers__isnull=True)[:2]:
    services.answer_post(actor=admin, question=question, body="An answer.")
start = timezone.now() + timedelta(days=30)
for n in range(2 - min(2, Event.objects.filter(space=space).count())):
    event_services.event_create(
        actor=admin, space=space, title=f"Fuzzing event {n}", starts_at=start, ends_at=start + timedelta(hours=2),
        time_zone="Asia/Bangkok",
    )
for n in range(2 - min(2, Post.objects.filter(space=space).count())):
    post_services.post_create(actor=admin, space=space, body=f"Fuzzing post {n}")
values = {
    "token": token,
    "community_slug": space.community.slug,
    "space_slug": space.slug,
    "pages": list(Page.objects.filter(space=space).values_list("slug", flat=True)[:30]),
    "questions": list(Question.objects.filter(space=space).values_list("slug", flat=True)[:30]),
    "answers": list(Answer.objects.filter(question__space=space).values_list("pk", flat=True)[:30]),
    "events": list(Event.objects.filter(space=space).values_list("slug", flat=True)[:30]),
    "posts": list(Post.objects.filter(space=space).values_list("pk", flat=True)[:30]),
    "usernames": list(User.objects.filter(is_active=True).values_list("username", flat=True)[:30]),
    "notifications": list(admin.notifications.values_list("pk", flat=True)[:30]),
}
print("FUZZ-VALUES " + json.dumps(values))
"""


def say(message: str) -> None:
    print(f"[api-fuzz] {message}", flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run(cmd: list[str], env: dict, log: Path, what: str) -> str:
    started = time.monotonic()
    result = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    log.write_text(result.stdout + result.stderr)
    if result.returncode != 0:
        say(f"FAILED: {what} (exit code {result.returncode}); log: {log}")
        print((result.stdout + result.stderr)[-4000:])
        sys.exit(result.returncode or 1)
    say(f"{what}: done in {time.monotonic() - started:.0f}s")
    return result.stdout


def toml_string(value) -> str:
    return json.dumps(str(value))


def write_config(path: Path, values: dict) -> None:
    """schemathesis.toml: real values for the path parameters (90% of the time; the rest stay random)."""
    dictionaries = {
        "pages": values["pages"],
        "questions": values["questions"],
        "answers": values["answers"],
        "events": values["events"],
        "posts": values["posts"],
        "usernames": values["usernames"],
        "notifications": values["notifications"],
        "versions": [1, 2, 3],
    }
    bindings = {
        "path.page_slug": "pages",
        "path.question_slug": "questions",
        "path.answer_id": "answers",
        "path.event_slug": "events",
        "path.post_id": "posts",
        "path.username": "usernames",
        "path.notification_id": "notifications",
        "path.version": "versions",
    }
    lines = ["[parameters]"]
    lines.append(f'"path.community_slug" = {toml_string(values["community_slug"])}')
    lines.append(f'"path.space_slug" = {toml_string(values["space_slug"])}')
    for key, name in bindings.items():
        if dictionaries[name]:
            lines.append(f'"{key}" = {{ dictionary = "{name}", probability = 0.9 }}')
    for name, entries in dictionaries.items():
        if entries:
            lines.append("")
            lines.append(f"[dictionaries.{name}]")
            lines.append("values = [" + ", ".join(json.dumps(entry) for entry in entries) + "]")
    path.write_text("\n".join(lines) + "\n")


# schemathesis closes like pytest ("==== 2 warnings in 34.80s ===="): a line that CI's reader takes for a test runner
# closing on no test. The full output is kept in the artifacts; the printed copy leaves that one line out, so the
# last closing line CI reads is the suite's own.
_CLOSING_RULE = re.compile(r"^=+ .* in [0-9.]+s(?: \([0-9:]+\))? =+$")


def _without_closing_rules(output: str) -> str:
    return "\n".join(line for line in output.splitlines() if not _CLOSING_RULE.match(line.strip()))


def wait_for(url: str, server: subprocess.Popen, seconds: int = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server exited with code {server.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - our own loopback server
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"the server did not answer {url} within {seconds}s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--max-examples", type=int, default=int(os.environ.get("API_FUZZ_MAX_EXAMPLES", "20")))
    parser.add_argument("--workers", default="1", help="schemathesis workers (threads; 1 is the stable choice)")
    parser.add_argument("--seed", type=int, default=None, help="schemathesis's random seed (reproducible runs)")
    parser.add_argument("--db", type=Path, default=None, help="SQLite file to use; seeded only if missing")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (database, uploads)")
    parser.add_argument("--artifacts", type=Path, default=ROOT / "ci-artifacts" / "api-fuzz")
    args = parser.parse_args()

    args.artifacts.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="copapp-api-fuzz-"))
    db = args.db or workdir / "db.sqlite3"
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "REQUIRE_SERVICES", "CELERY_TASK_ALWAYS_EAGER", "PYTEST_ADDOPTS"}
    }
    env.update(
        DEBUG="1",
        SQLITE_PATH=str(db),
        MEDIA_ROOT=str(workdir / "media"),
        PRIVATE_MEDIA_ROOT=str(workdir / "private-media"),
        EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend",
        API_RATE_LIMIT="off",
        STAFF_MFA_REQUIRED="0",
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    server = None
    server_log = args.artifacts / "server.log"
    try:
        seeded = db.exists()
        run([PYTHON, "manage.py", "migrate", "--noinput"], env, args.artifacts / "migrate.log", "migrate")
        if not seeded:
            run([PYTHON, "manage.py", "seed_demo"], env, args.artifacts / "seed_demo.log", "seed_demo")
        output = run([PYTHON, "manage.py", "shell", "-c", PREPARE], env, args.artifacts / "prepare.log", "token")
        values = json.loads(next(line for line in output.splitlines() if line.startswith("FUZZ-VALUES "))[12:])
        config = workdir / "schemathesis.toml"
        write_config(config, values)
        shutil.copy(config, args.artifacts / "schemathesis.toml")

        port = free_port()
        base = f"http://127.0.0.1:{port}"
        say(f"serving on {base} (log: {server_log})")
        with server_log.open("w") as log:
            server = subprocess.Popen(  # noqa: S603
                [
                    str(VENV_BIN / "gunicorn"),
                    "copapp.wsgi",
                    "--bind",
                    f"127.0.0.1:{port}",
                    "--workers",
                    "2",
                    "--timeout",
                    "60",
                    "--access-logfile",
                    "-",
                ],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        wait_for(f"{base}/healthz", server)

        cmd = [
            str(VENV_BIN / "schemathesis"),
            "--config-file",
            str(config),
            "run",
            f"{base}/api/v1/openapi.json",
            "--checks",
            "not_a_server_error",
            "--header",
            f"Authorization: Bearer {values['token']}",
            "--max-examples",
            str(args.max_examples),
            "--workers",
            str(args.workers),
            "--phases",
            "examples,coverage,fuzzing",
            "--request-timeout",
            "30",
            "--report",
            "junit",
            "--report-junit-path",
            str(args.artifacts / "junit-api-fuzz.xml"),
            "--no-color",
        ]
        if args.seed is not None:
            cmd += ["--seed", str(args.seed)]
        say("running: schemathesis run .../api/v1/openapi.json --checks not_a_server_error " + " ".join(cmd[9:11]))
        started = time.monotonic()
        result = subprocess.run(  # noqa: S603
            cmd, cwd=workdir, env=env, check=False, capture_output=True, text=True
        )
        (args.artifacts / "schemathesis.log").write_text(result.stdout + result.stderr)
        print(_without_closing_rules(result.stdout + result.stderr), flush=True)
        say(f"schemathesis finished with exit code {result.returncode} in {time.monotonic() - started:.0f}s")
    finally:
        if server is not None and server.poll() is None:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
        if not args.keep and args.db is None:
            shutil.rmtree(workdir, ignore_errors=True)
        elif args.keep:
            say(f"kept {workdir}")

    logged = server_log.read_text() if server_log.exists() else ""
    tracebacks = logged.count("Traceback (most recent call last)")
    server_errors = sum(1 for line in logged.splitlines() if '" 5' in line and "HTTP/1.1" in line)
    say(f"server log: {tracebacks} tracebacks, {server_errors} responses with a 5xx status")
    if result.returncode != 0:
        say("FAILED: schemathesis found problems (see above)")
        return result.returncode
    if tracebacks or server_errors:
        say(f"FAILED: the server logged errors; see {server_log}")
        return 1
    say("no server errors")
    return 0


if __name__ == "__main__":
    sys.exit(main())
