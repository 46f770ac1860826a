"""Clearing the cache (a restore does) must not flush other keys living in the same Redis, like Celery's queue."""

import uuid

import pytest
import redis
from django.conf import settings
from django.core.cache import cache

pytestmark = pytest.mark.redis


def test_clearing_the_cache_keeps_keys_it_does_not_own():
    client = redis.Redis.from_url(settings.REDIS_URL)
    foreign = f"celery-like-queue-{uuid.uuid4().hex}"
    client.rpush(foreign, "a queued e-mail")
    try:
        cache.set("mine", "cached value")
        assert cache.get("mine") == "cached value"

        cache.clear()

        assert cache.get("mine") is None
        assert client.lrange(foreign, 0, -1) == [b"a queued e-mail"]
    finally:
        client.delete(foreign)
