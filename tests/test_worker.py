"""Proves that CI's PostgreSQL + Redis stage runs tasks in a real Celery worker, not eagerly in the test."""

import os
import time
import uuid

import pytest
import redis
from django.conf import settings

from copapp.celery import app
from copapp.tasks import worker_probe_key, worker_probe_task

pytestmark = pytest.mark.redis

WAIT_SECONDS = 60


def test_task_runs_in_a_separate_worker_process():
    token = uuid.uuid4().hex
    key = worker_probe_key(token)
    client = redis.Redis.from_url(settings.REDIS_URL)
    was_eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    try:
        worker_probe_task.delay(token)
        pid = None
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            pid = client.get(key)
            if pid is not None:
                break
            time.sleep(0.2)
    finally:
        app.conf.task_always_eager = was_eager
        client.delete(key)

    assert pid is not None, (
        f"no Celery worker ran worker_probe_task within {WAIT_SECONDS}s "
        f"(is `celery -A copapp worker -Q {app.conf.task_default_queue}` running against REDIS_URL?)"
    )
    assert int(pid) != os.getpid(), "the task ran inside the test process, not in a worker"
