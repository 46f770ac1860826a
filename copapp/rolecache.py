"""A process-wide generation number for cached roles.

Permission checks keep a member's roles on the user object for the length of a request. Any service that
changes roles bumps the generation, so a copy held elsewhere in the same process (a script, a test, a Celery
task) is reloaded on its next check instead of answering from stale roles.
"""

_generation = 0


def bump() -> None:
    global _generation
    _generation += 1


def current() -> int:
    return _generation
