# copapp production image: gunicorn serves the site; the same image runs the Celery worker and beat.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# `manage.py backup` and `restore` run pg_dump / pg_restore, which must be at least as new as the server
# (PostgreSQL 16 in docker-compose.yml): the client of that version, from the PostgreSQL project's repository.
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-common ca-certificates \
    && /usr/share/postgresql-common/pgdg/apt.postgresql.org.sh -y \
    && apt-get install -y --no-install-recommends postgresql-client-16 \
    && rm -rf /var/lib/apt/lists/*

# Dependencies first, so a code change does not reinstall them (pyproject.toml declares no packages of its own).
COPY pyproject.toml ./
RUN pip install .

COPY . .

# Static files are collected (and compressed, hashed by whitenoise) at build time, with throw-away settings.
RUN DEBUG=0 SECRET_KEY=build-time-only-not-secret python manage.py collectstatic --noinput

RUN useradd --create-home --uid 1000 copapp \
    && mkdir -p /data/media /data/private-media /backups \
    && chown -R copapp:copapp /data /backups
USER copapp

ENV MEDIA_ROOT=/data/media \
    PRIVATE_MEDIA_ROOT=/data/private-media
EXPOSE 8000

CMD ["gunicorn", "-c", "python:copapp.gunicorn_conf", "copapp.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
