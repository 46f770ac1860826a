"""gunicorn's settings for the site (``gunicorn -c python:copapp.gunicorn_conf copapp.wsgi``: the Dockerfile,
docker-compose.yml and bench/ use them); command-line options still override them."""

import gc


def post_worker_init(worker) -> None:
    """Once a worker has loaded Django, the URL map and the app's modules, move those objects out of the garbage
    collector's reach (``gc.freeze``): they live as long as the worker, and every full collection walked all of
    them again while serving a page. In-process (bench/page_cpu.py) the gain was a few percent of CPU at most,
    within the noise."""
    gc.collect()
    gc.freeze()
