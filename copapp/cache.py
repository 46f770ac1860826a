"""Redis cache whose ``clear()`` removes only its own keys.

Django's ``RedisCache.clear()`` runs ``FLUSHDB``. The Celery broker lives on the same Redis by default, so a
restore (which clears the cache) would also drop every queued e-mail and digest, and parallel test workers
sharing one Redis would wipe each other's rate-limit counters. Clearing by key prefix leaves both alone.
"""

import re

from django.core.cache.backends.redis import RedisCache

_GLOB_SPECIAL = re.compile(r"([\\*?\[\]])")


class PrefixedRedisCache(RedisCache):
    def clear(self) -> bool:
        client = self._cache.get_client(None, write=True)
        pattern = _GLOB_SPECIAL.sub(r"\\\1", self.key_prefix) + ":*"
        batch: list[bytes] = []
        for key in client.scan_iter(match=pattern, count=1000):
            batch.append(key)
            if len(batch) >= 1000:
                client.delete(*batch)
                batch.clear()
        if batch:
            client.delete(*batch)
        return True
