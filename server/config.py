"""Every setting of the server in one place, read from `DCDR_*` environment variables and
overridden by command-line flags or by the mapping given to `create_app`.

Defaults are chosen for a 2-core machine serving an immutable, small dataset: a hard 10 s query
limit, a row cap with an explicit signal, no outside SERVICE and a byte-bounded result cache.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graph.paths import dist_dir

ENV_PREFIX = "DCDR_"
# prometheus_client's multiprocess directory (server/protocol/metrics.py), which `dcdr serve`
# sets for the processes of one run before prometheus_client is imported.
METRICS_DIR_ENV = "PROMETHEUS_MULTIPROC_DIR"


class ConfigError(ValueError):
    """A setting has a value the server cannot use (reported without a traceback)."""


@dataclass(frozen=True)
class Settings:
    """The server's configuration; `from_env` builds it, `replace` derives variants."""

    dist: Path = field(default_factory=dist_dir)
    # "embedded" (Oxigraph over dist/) or "sparql:URL" (a remote SPARQL store, see
    # server/stores/remote_store.py); `store_version` names a remote store's content for ETags.
    store: str = "embedded"
    store_version: str = ""
    # How often a remote store's live build is read (server/stores/live_version.py).
    store_refresh_seconds: float = 5.0
    host: str = "127.0.0.1"
    port: int = 8000
    # granian: one process per core, a few app threads each (queries run in worker processes).
    workers: int = 2
    threads: int = 4
    # Each worker pinned to its share of the CPUs, when there are at least as many CPUs as
    # workers (server/stores/cpu_placement.py); off for a machine whose cores other services share.
    cpu_affinity: bool = True
    dev: bool = False
    # The hard limit of one query (seconds); `timeout=` may lower it per request, never raise.
    timeout: float = 10.0
    # Where queries run under `dcdr serve`: "watchdog" evaluates those that look cheap in the
    # server process and replaces a worker whose query will not stop (server/stores/runaway.py);
    # "process" runs every query in a killable process (one more hop per query).
    query_isolation: str = "watchdog"
    # Killable query processes per server process; 0 means one per two app threads under
    # "watchdog" (they take only the queries kept out of process), one per thread otherwise.
    query_workers: int = 0
    max_body_bytes: int = 1024 * 1024
    # The whole request (head and body) must arrive within this many seconds, else 408 or a
    # closed connection: a slow client holds no thread meanwhile (server/front/serving.py).
    request_read_timeout: float = 10.0
    max_query_chars: int = 100_000
    row_limit: int = 10_000
    # SERVICE IRIs a query may call; empty keeps every query inside this dataset.
    service_allowlist: tuple[str, ...] = ()
    cache_bytes: int = 32 * 1024 * 1024
    max_age: int = 3600
    # The access log carries a hash of the query; the text only when asked for.
    log_query_text: bool = False
    access_log: bool = True
    # A query the store took at least this many seconds to answer is logged (server/
    # structured_log.py, event slow_query); 0 logs none.
    slow_query_seconds: float = 1.0
    # Per-client fairness (server/stores/fairness.py): query seconds one client may spend per
    # `budget_window` seconds, shared by all server processes; 0 turns it off. Clients are told
    # apart by IP, or by the last entry of `trusted_proxy_header` when a proxy of ours sets it.
    query_budget_seconds: float = 0.0
    budget_window: float = 60.0
    trusted_proxy_header: str = ""
    # The address the public reaches this server at (e.g. `https://dcdr.example.org/`): the base
    # of relative IRIs in queries and of the links the dataset's description states about the
    # server. Empty: each request's own origin (scheme and Host), as Oxigraph server does.
    public_base: str = ""

    @property
    def pool_size(self) -> int:
        if self.query_workers > 0:
            return self.query_workers
        if self.query_isolation == "watchdog":
            return max(1, self.threads // 2)
        return max(1, self.threads)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Settings from `DCDR_<NAME>` variables (e.g. `DCDR_TIMEOUT=5`, `DCDR_ROW_LIMIT=100`)."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for item in dataclasses.fields(cls):
            raw = env.get(ENV_PREFIX + item.name.upper())
            if raw is not None:
                values[item.name] = raw
        return cls().replace(**values)

    def replace(self, **changes: Any) -> Settings:
        """A copy with some settings changed; strings are converted to each field's type."""
        known = {item.name: item for item in dataclasses.fields(self)}
        converted: dict[str, Any] = {}
        for name, value in changes.items():
            if name not in known:
                raise ConfigError(f"unknown setting {name!r}")
            if value is None:
                continue
            converted[name] = _convert(name, value, getattr(self, name))
        settings = dataclasses.replace(self, **converted)
        settings.check()
        return settings

    def check(self) -> None:
        if self.timeout <= 0 or self.request_read_timeout <= 0:
            raise ConfigError("timeout and request_read_timeout must be positive (seconds)")
        for name in ("workers", "threads", "max_body_bytes", "max_query_chars", "row_limit"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be at least 1")
        if self.slow_query_seconds < 0:
            raise ConfigError("slow_query_seconds must be >= 0 (0 logs no slow query)")
        if self.query_budget_seconds < 0 or self.budget_window <= 0:
            raise ConfigError("query_budget_seconds must be >= 0 and budget_window > 0")
        if self.query_isolation not in ("watchdog", "process"):
            raise ConfigError(
                f"query_isolation must be 'watchdog' or 'process', not {self.query_isolation!r}"
            )
        if self.public_base and not self.public_base.startswith(("http://", "https://")):
            raise ConfigError(f"public_base must be an http(s) URL, not {self.public_base!r}")
        if not 0 <= self.port <= 65535:
            raise ConfigError(f"port {self.port} is not a TCP port")


def _convert(name: str, value: Any, current: Any) -> Any:
    """Turns an env-var or flag string into the type of the setting it sets."""
    if not isinstance(value, str):
        if isinstance(current, tuple) and isinstance(value, list | tuple):
            return tuple(str(v) for v in value)
        if isinstance(current, Path):
            return Path(value)
        return value
    text = value.strip()
    try:
        if isinstance(current, bool):
            if text.lower() in ("1", "true", "yes", "on"):
                return True
            if text.lower() in ("0", "false", "no", "off", ""):
                return False
            raise ValueError(text)
        if isinstance(current, int):
            return int(text)
        if isinstance(current, float):
            return float(text)
        if isinstance(current, Path):
            return Path(text)
        if isinstance(current, tuple):
            return tuple(part for part in text.replace(",", " ").split() if part)
    except ValueError:
        kind = type(current).__name__
        raise ConfigError(f"setting {name} expects a {kind}, got {value!r}") from None
    return text
