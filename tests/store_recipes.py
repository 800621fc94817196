"""The store recipes of docs/deploy.md as code, for the tests that only read through the app:
the store holds a published dist and the app's account may only read.

- Oxigraph server: a writable `oxigraph serve` on its own port takes `dcdr publish` and is
  stopped; then `oxigraph serve-read-only --timeout-s N` serves the same folder to the app.
- Virtuoso: a fresh instance (bench/peers.py) whose `dba` password is changed from the default
  at once; a user `dcdr_reader` with SPARQL_SELECT alone, and its own password, is what the app
  reads with (`/sparql-auth`, digest); `dba` with its new password is given to `dcdr publish`
  only.
"""

from __future__ import annotations

import secrets
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from graph.publish import publish

BENCH = Path(__file__).resolve().parents[1] / "bench"
if str(BENCH) not in sys.path:
    sys.path.append(str(BENCH))

import peers  # noqa: E402  (bench/peers.py: starts and stops the servers by process group)

READER = "dcdr_reader"


@dataclass(frozen=True)
class SealedStore:
    """A store holding the dist, as the app is configured to read it."""

    name: str
    # DCDR_STORE for the app (the read-only account included where the store has accounts).
    setting: str
    # Where the app's account sends SPARQL, and that account (None: the store has none).
    query_url: str
    reader: tuple[str, str] | None
    # The writer's Graph Store endpoint and account, when it still runs (Virtuoso).
    store_url: str | None = None
    writer: tuple[str, str] | None = None


@contextmanager
def oxigraph_read_only(dist: Path, workdir: Path, timeout_s: int = 10) -> Iterator[SealedStore]:
    """Published through a writable server that is stopped before the read-only one starts
    (opening a folder read-only while another process writes it is undefined in Oxigraph)."""
    oxigraph = peers.executable("oxigraph")
    if oxigraph is None:
        raise peers.PeerFailed("oxigraph is not installed (pip's `oxigraph`)")
    location = workdir / "oxigraph-data"
    with peers.oxigraph_writable(workdir) as writer:
        # oxigraph_writable keeps its data in workdir/oxigraph-rw.
        assert writer.store_url is not None
        publish(dist, writer.store_url)
    (workdir / "oxigraph-rw").rename(location)
    port = peers.free_port()
    command = [oxigraph, "serve-read-only", "--location", str(location)]
    command += ["--bind", f"{peers.LOOPBACK}:{port}", "--timeout-s", str(timeout_s)]
    url = f"http://{peers.LOOPBACK}:{port}/query"
    with peers.running("oxigraph-ro", command, url, workdir):
        yield SealedStore("oxigraph", f"sparql:{url}", url, None)


def virtuoso_sql(ini: Path, user: str, password: str, statements: str) -> None:
    """Runs SQL statements through Virtuoso's own client (isql-vt) on its loopback SQL port."""
    port = _sql_port(ini)
    command = ["isql-vt", f"{peers.LOOPBACK}:{port}", user, password, f"exec={statements}"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    if done.returncode != 0 or "Error" in done.stdout + done.stderr:
        raise peers.PeerFailed(f"isql-vt failed: {done.stdout}{done.stderr}")


def _sql_port(ini: Path) -> str:
    section = ""
    for line in ini.read_text().splitlines():
        if line.startswith("["):
            section = line.strip()
        elif section == "[Parameters]" and line.replace(" ", "").startswith("ServerPort="):
            return line.split("=", 1)[1].strip().rsplit(":", 1)[-1]
    raise peers.PeerFailed(f"{ini} names no SQL port")


@contextmanager
def virtuoso_read_only(dist: Path, workdir: Path) -> Iterator[SealedStore]:
    """A fresh Virtuoso sealed as the recipe says, the dist published by `dba`."""
    dba_password = secrets.token_urlsafe(16)
    reader_password = secrets.token_urlsafe(16)
    with peers.virtuoso(workdir) as server:
        ini = workdir / "virtuoso.ini"
        default_user, default_password = peers.VIRTUOSO_AUTH
        virtuoso_sql(
            ini,
            default_user,
            default_password,
            f"DB.DBA.USER_PASSWORD_SET('dba', '{dba_password}'); "
            f"DB.DBA.USER_CREATE('{READER}', '{reader_password}'); "
            f'GRANT SPARQL_SELECT TO "{READER}";',
        )
        assert server.store_url is not None
        publish(dist, server.store_url, ("dba", dba_password))
        base = urlsplit(server.sparql_url)
        query_url = f"{base.scheme}://{base.netloc}/sparql-auth"
        setting = (
            f"sparql:{base.scheme}://{READER}:{reader_password}@{base.netloc}/sparql-auth"
            "#timeout-param=timeout"
        )
        yield SealedStore(
            "virtuoso",
            setting,
            query_url,
            (READER, reader_password),
            server.store_url,
            ("dba", dba_password),
        )
