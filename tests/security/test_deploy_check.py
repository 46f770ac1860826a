"""`manage.py check --deploy --fail-level WARNING` is clean on production settings (issue 10, item 5).

Production is the same settings file with the variables docker-compose.yml sets; nothing is switched off here to
make the check pass."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

from django.conf import settings

BASE_DIR = Path(settings.BASE_DIR)


def production_env(**overrides: str) -> dict[str, str]:
    """The environment docker-compose.yml gives the web container (services named as there, never reached)."""
    keep = {name: os.environ[name] for name in ("PATH", "HOME", "LANG", "SYSTEMROOT") if name in os.environ}
    return {
        **keep,
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "example.org",
        "SITE_URL": "https://example.org",
        "SITE_NAME": "copapp",
        "DATABASE_URL": "postgres://copapp:not-a-real-password@db:5432/copapp",
        "REDIS_URL": "redis://redis:6379/0",
        "MEDIA_ROOT": "/data/media",
        "PRIVATE_MEDIA_ROOT": "/data/private-media",
        "BACKUP_DIR": "/backups",
        "COPAPP_TESTING": "0",
        **overrides,
    }


def deploy_check(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_deploy_check_is_clean_on_production_settings():
    result = deploy_check(production_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout
    assert "WARNING" not in result.stdout + result.stderr


def test_deploy_check_notices_a_production_setting_switched_off():
    # The check really runs on these settings: turning HSTS off is reported (security.W004) and fails it.
    result = deploy_check(production_env(SECURE_HSTS_SECONDS="0"))
    assert result.returncode != 0
    assert "security.W004" in result.stdout + result.stderr
