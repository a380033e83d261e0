"""Prefect settings for offline, quiet runs. Must be applied before `import prefect`.

Values the user already set in the environment win (setdefault).
"""

from __future__ import annotations

import os

DEFAULTS = {
    "DO_NOT_TRACK": "1",  # no client-side SDK telemetry
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",  # no server telemetry heartbeat (fails offline, noisy)
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "90",  # the embedded server is slow to start on 2 cores
    "PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL": "WARNING",  # quiet console; INFO still reaches the run logs
    "PREFECT_LOGGING_EXTRA_LOGGERS": "cleaners,dedupe,flows",  # our loggers appear in the Prefect run logs
    "PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW": "ignore",
}


PROXIES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")
LOOPBACK = ("127.0.0.1", "localhost")


def configure() -> None:
    """Set the offline defaults in os.environ unless the user set them. With an HTTP proxy set,
    the loopback addresses join NO_PROXY: Prefect's client would otherwise ask the proxy for the
    temporary server on 127.0.0.1 ('Failed to reach API')."""
    for key, value in DEFAULTS.items():
        os.environ.setdefault(key, value)
    if any(os.environ.get(k) for k in PROXIES):
        for key in ("NO_PROXY", "no_proxy"):
            hosts = [h for h in os.environ.get(key, "").split(",") if h.strip()]
            os.environ[key] = ",".join(hosts + [h for h in LOOPBACK if h not in hosts])
