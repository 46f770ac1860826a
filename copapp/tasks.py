import os

import redis
from celery import shared_task
from django.conf import settings


def worker_probe_key(token: str) -> str:
    return f"copapp:worker-probe:{token}"


@shared_task
def worker_probe_task(token: str) -> int:
    """Records which process ran it, so a test can prove tasks run in a real worker, not in the test.

    It writes to Redis directly rather than through Django's cache: under test the cache's key prefix belongs to the
    test process (one per xdist worker and test), which the Celery worker cannot know."""
    pid = os.getpid()
    redis.Redis.from_url(settings.REDIS_URL).set(worker_probe_key(token), pid, ex=300)
    return pid
