import os

from celery import shared_task
from django.core.cache import cache


@shared_task
def worker_probe_task(token: str) -> int:
    """Records which process ran it, so a test can prove tasks run in a real worker, not in the test."""
    pid = os.getpid()
    cache.set(f"worker-probe:{token}", pid, timeout=300)
    return pid
