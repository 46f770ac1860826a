"""The production set-up: docker-compose.yml, `manage.py check --deploy`, and the README's variable table."""

import os
import re
import secrets
import string
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
APP_SERVICES = ("web", "worker", "beat")
ENV_READ = re.compile(r"""\benv_(?:str|bool|int|list)\(\s*["']([A-Z][A-Z0-9_]*)["']""")


def settings_variables() -> set[str]:
    names = set(ENV_READ.findall((ROOT / "copapp" / "settings.py").read_text()))
    assert len(names) >= 10, f"parsing settings.py found too few variables: {sorted(names)}"
    return names


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def command_text(service: dict) -> str:
    command = service.get("command", "")
    return " ".join(command) if isinstance(command, list) else str(command)


def test_compose_has_all_services(compose):
    assert {"web", "worker", "beat", "db", "redis"} <= set(compose["services"])


def test_web_migrates_then_runs_gunicorn(compose):
    command = command_text(compose["services"]["web"])
    assert "manage.py migrate" in command
    assert "gunicorn -c python:copapp.gunicorn_conf copapp.wsgi" in command
    assert command.index("manage.py migrate") < command.index("gunicorn")


def test_gunicorn_workers_freeze_what_they_loaded_at_start():
    """The settings module the image and compose name exists, and its hook takes the worker's start-up objects out
    of the garbage collector's rounds."""
    import gc

    from copapp import gunicorn_conf

    gc.unfreeze()
    try:
        gunicorn_conf.post_worker_init(worker=None)
        assert gc.get_freeze_count() > 10_000
    finally:
        gc.unfreeze()


def test_worker_and_beat_run_celery(compose):
    assert re.search(r"\bcelery\b.*\bworker\b", command_text(compose["services"]["worker"]))
    assert re.search(r"\bcelery\b.*\bbeat\b", command_text(compose["services"]["beat"]))


def test_db_and_redis_images_and_volumes(compose):
    services = compose["services"]
    assert services["db"]["image"].startswith("postgres:16")
    assert "healthcheck" in services["db"]
    assert any(str(v).endswith(":/var/lib/postgresql/data") for v in services["db"]["volumes"])
    assert services["redis"]["image"].startswith("redis:7")
    assert {"media", "private-media", "backups"} <= set(compose["volumes"])
    env = services["web"]["environment"]
    for name in ("web", "worker"):
        mounts = services[name]["volumes"]
        assert f"media:{env['MEDIA_ROOT']}" in mounts, name
        assert f"private-media:{env['PRIVATE_MEDIA_ROOT']}" in mounts, name


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_use_db_redis_and_production_mode(compose, name):
    env = compose["services"][name]["environment"]
    assert str(env["DEBUG"]) == "0"
    assert "@db:5432/" in env["DATABASE_URL"] and env["DATABASE_URL"].startswith("postgres://")
    assert env["REDIS_URL"].startswith("redis://redis:6379")
    assert env["SECRET_KEY"].startswith("${SECRET_KEY:?"), "SECRET_KEY must be required, never defaulted"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_only_set_variables_settings_reads(compose, name):
    env = compose["services"][name]["environment"]
    unknown = set(env) - settings_variables()
    assert not unknown, f"{name} sets variables copapp/settings.py never reads: {sorted(unknown)}"


def test_check_deploy_passes_without_warnings():
    alphabet = string.ascii_letters + string.digits + "!@#%^&*(-_=+)"
    env = {key: value for key, value in os.environ.items() if key in {"PATH", "HOME", "LANG", "TMPDIR"}}
    env.update(
        DJANGO_SETTINGS_MODULE="copapp.settings",
        DEBUG="0",
        SECRET_KEY="".join(secrets.choice(alphabet) for _ in range(60)),
        ALLOWED_HOSTS="example.org",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "WARNINGS" not in output, output


def test_readme_documents_every_variable():
    readme = (ROOT / "README.md").read_text()
    table_rows = [line for line in readme.splitlines() if line.lstrip().startswith("|")]
    documented = set(re.findall(r"`([A-Z][A-Z0-9_]*)`", "\n".join(table_rows)))
    missing = settings_variables() - documented
    assert not missing, f"README's configuration table lacks: {sorted(missing)}"
