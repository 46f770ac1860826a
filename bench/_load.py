"""Load drivers for the benchmark: ``wrk`` when it is installed, otherwise a small Python driver.

Both drive one URL at a fixed concurrency for a fixed time, sending the member's session cookie, and report
requests per second, p50 and p99 latency and the requests that failed (connection errors, timeouts, or a status
other than 2xx/3xx). ``wrk`` (Debian: ``apt-get install wrk``) is the reference: C, event-driven, precise
latency histograms. The Python driver exists so the smoke run works on any machine; its numbers are lower.
"""

from __future__ import annotations

import http.client
import json
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlsplit

WRK_REPORT = """
done = function(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    '\\nWRKJSON {"requests": %d, "duration_us": %d, "connect": %d, "read": %d, "write": %d, "status": %d, '
    .. '"timeout": %d, "p50_us": %d, "p99_us": %d, "mean_us": %.1f, "max_us": %d}\\n',
    summary.requests, summary.duration, errors.connect, errors.read, errors.write, errors.status,
    errors.timeout, latency:percentile(50), latency:percentile(99), latency.mean, latency.max))
end
"""

INSTALL_HINT = "install wrk for precise numbers: sudo apt-get install wrk (Debian/Ubuntu) or brew install wrk"


@dataclass
class Run:
    driver: str
    concurrency: int
    seconds: float
    requests: int
    errors: int
    rps: float
    p50_ms: float
    p99_ms: float
    mean_ms: float

    def as_dict(self) -> dict:
        return {key: (round(value, 2) if isinstance(value, float) else value) for key, value in asdict(self).items()}


def wrk_path() -> str | None:
    return shutil.which("wrk")


def drive(url: str, *, concurrency: int, seconds: float, cookie: str = "", use_wrk: bool | None = None) -> Run:
    """Drive ``url`` at ``concurrency`` for ``seconds``."""
    if use_wrk is None:
        use_wrk = wrk_path() is not None
    if use_wrk:
        return _wrk(url, concurrency=concurrency, seconds=seconds, cookie=cookie)
    return _python(url, concurrency=concurrency, seconds=seconds, cookie=cookie)


def drive_paths(base: str, paths: list[str], *, concurrency: int, seconds: float, cookie: str = "") -> Run:
    """Like ``drive``, cycling through ``paths`` (a mix of pages, for the memory check)."""
    if wrk_path() is not None:
        listed = ", ".join(json.dumps(path) for path in paths)
        rotate = f"paths = {{{listed}}}\ncounter = 0\nrequest = function()\n  counter = counter + 1\n"
        rotate += "  return wrk.format(nil, paths[(counter % #paths) + 1])\nend\n"
        return _wrk(base + paths[0], concurrency=concurrency, seconds=seconds, cookie=cookie, extra=rotate)
    return _python(base, concurrency=concurrency, seconds=seconds, cookie=cookie, paths=paths)


def _wrk(url: str, *, concurrency: int, seconds: float, cookie: str, extra: str = "") -> Run:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(extra + WRK_REPORT)
    try:
        threads = max(1, min(2, concurrency))
        command = [
            wrk_path() or "wrk",
            f"-t{threads}",
            f"-c{concurrency}",
            f"-d{max(1, round(seconds))}s",
            "--timeout",
            "30s",
            "-s",
            script.name,
        ]
        if cookie:
            command += ["-H", f"Cookie: {cookie}"]
        output = subprocess.run(  # noqa: S603 (our own command line)
            [*command, url], capture_output=True, text=True, timeout=seconds + 60, check=True
        ).stdout
    finally:
        Path(script.name).unlink(missing_ok=True)
    line = next(line for line in output.splitlines() if line.startswith("WRKJSON "))
    data = json.loads(line.removeprefix("WRKJSON "))
    duration = data["duration_us"] / 1e6
    errors = data["connect"] + data["read"] + data["write"] + data["status"] + data["timeout"]
    return Run(
        driver="wrk",
        concurrency=concurrency,
        seconds=duration,
        requests=data["requests"],
        errors=errors,
        rps=data["requests"] / duration if duration else 0.0,
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        mean_ms=data["mean_us"] / 1000,
    )


def _python(url: str, *, concurrency: int, seconds: float, cookie: str, paths: list[str] | None = None) -> Run:
    parts = urlsplit(url)
    rotation = paths or [parts.path + (f"?{parts.query}" if parts.query else "")]
    turn = [0]
    headers = {"Cookie": cookie} if cookie else {}
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def worker() -> None:
        connection: http.client.HTTPConnection | None = None
        mine: list[float] = []
        failed = 0
        while time.monotonic() < deadline:
            started = time.perf_counter()
            try:
                if connection is None:
                    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
                with lock:
                    path = rotation[turn[0] % len(rotation)]
                    turn[0] += 1
                connection.request("GET", path, headers=headers)
                response = connection.getresponse()
                response.read()
                if response.status >= 400:
                    failed += 1
                if response.getheader("Connection", "").lower() == "close" or response.will_close:
                    connection.close()
                    connection = None
            except (OSError, http.client.HTTPException):
                failed += 1
                if connection is not None:
                    connection.close()
                connection = None
                continue
            mine.append(time.perf_counter() - started)
        if connection is not None:
            connection.close()
        with lock:
            latencies.extend(mine)
            errors[0] += failed

    started = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    return _summarise("python", concurrency, elapsed, latencies, errors[0])


def _summarise(driver: str, concurrency: int, elapsed: float, latencies: list[float], errors: int) -> Run:
    ordered = sorted(latencies)
    return Run(
        driver=driver,
        concurrency=concurrency,
        seconds=elapsed,
        requests=len(ordered),
        errors=errors,
        rps=len(ordered) / elapsed if elapsed else 0.0,
        p50_ms=percentile(ordered, 50) * 1000,
        p99_ms=percentile(ordered, 99) * 1000,
        mean_ms=(statistics.fmean(ordered) * 1000) if ordered else 0.0,
    )


def percentile(ordered: list[float], pct: float) -> float:
    """The ``pct`` percentile of sorted values (nearest rank); 0 for none."""
    if not ordered:
        return 0.0
    rank = max(0, min(len(ordered) - 1, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def get(url: str, *, cookie: str = "", timeout: float = 30) -> tuple[int, float, bytes]:
    """One GET: (status, seconds, body)."""
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        started = time.perf_counter()
        connection.request("GET", path, headers={"Cookie": cookie} if cookie else {})
        response = connection.getresponse()
        body = response.read()
        return response.status, time.perf_counter() - started, body
    finally:
        connection.close()
