"""A `QueryStore` that answers from a remote SPARQL 1.1 store (Oxigraph server, Virtuoso,
Fuseki, QLever, GraphDB …) over the SPARQL 1.1 Protocol.

Selected with `DCDR_STORE=sparql:http://HOST:PORT/path`. The app keeps its own limits and
caching; this module only carries the request to the store and maps its failures onto the
interface's exceptions.

The contract's default graph is the union of the named graphs. Stores disagree on what a query
without a dataset sees (Oxigraph: an empty default graph; Virtuoso: every graph, its own system
graphs included; Fuseki: depends on `tdb:unionDefaultGraph`), so the portable way, used unless
told otherwise, is to name the dataset's graphs in the request (`default-graph-uri` and
`named-graph-uri` for each), which every SPARQL 1.1 store honours. See docs/deploy.md.
"""

from __future__ import annotations

import io
import json
import re
import threading
import time
from collections.abc import Iterable
from typing import Literal

import pyoxigraph as ox
import requests

from graph.namespaces import GRAPH, QUERY_PREFIXES
from server.stores.base_declaration import declares_absolute_base
from server.stores.content_fingerprint import content_fingerprint
from server.stores.default_prefixes import declare_defaults, shift_back
from server.stores.query_analysis import plan_query
from server.stores.row_cap import DeadlineReader, capped_stream
from server.stores.sealing import dataset_parameters, sealed_query, within_project
from server.stores.store import (
    UPDATE_REFUSED,
    DatasetSpec,
    NotAcceptable,
    QueryRefused,
    QueryResult,
    QuerySyntaxError,
    QueryTimeout,
    StoreFailed,
    StoreUnavailable,
    UpdateRefused,
    syntax_message,
)
from server.stores.store_answers import (
    TailKeeper,
    broken_answer,
    check_complete,
    error_excerpt,
    raise_if_interrupted,
)
from server.stores.store_credentials import StoreAuth, split_credentials

UnionMode = Literal["explicit", "native", "oxigraph"]
UNION_MODES: tuple[UnionMode, ...] = ("explicit", "native", "oxigraph")

SELECT_JSON = "application/sparql-results+json"
_LISTING_QUERY = "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"
_CHUNK = 1 << 16
# The connection itself must come fast; only the query is allowed the request's full time.
_CONNECT_TIMEOUT = 5.0
_ERROR_EXCERPT = 600

# Virtuoso also refuses up front a query whose estimated time "exceeds the limit" (42000).
_TIMEOUT_WORDS = re.compile(r"time ?out|timed out|SR171|exceeded|exceeds the limit", re.IGNORECASE)


def query_has_dataset_clause(text: str) -> bool:
    """True when the query names its own dataset with FROM / FROM NAMED (then the union
    default graph must not be requested on its behalf)."""
    return plan_query(text).has_dataset_clause


def _base_media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


class RemoteSparqlStore:
    """`QueryStore` over any SPARQL 1.1 query endpoint.

    `union` says how the contract's union default graph is obtained:
    `explicit` (default, any store) lists the dataset's graphs in the request;
    `native` trusts the store to do it (Oxigraph server started with `--union-default-graph`,
    Fuseki with `tdb:unionDefaultGraph true`); `oxigraph` adds Oxigraph's `union-default-graph`
    request parameter. `graphs` are the dataset's graph IRIs for `explicit`; by default they are
    discovered once from the store (every graph whose IRI starts with the project's graph
    namespace). `version` identifies the content for ETags: pass the dist's version (printed by
    `dcdr publish`); when left out, a fingerprint of the per-graph triple counts is used.
    """

    def __init__(
        self,
        endpoint_url: str,
        version: str | None = None,
        *,
        union: UnionMode = "explicit",
        graphs: Iterable[str] | None = None,
        auth: tuple[str, str] | None = None,
        max_rows: int | None = None,
        timeout_param: str | None = None,
        session: requests.Session | None = None,
    ) -> None:
        if not endpoint_url.startswith(("http://", "https://")):
            raise ValueError(f"remote store URL must be http(s)://…, got {endpoint_url!r}")
        if union not in UNION_MODES:
            raise ValueError(f"union must be one of {', '.join(UNION_MODES)}, got {union!r}")
        self.endpoint_url = endpoint_url
        self.union: UnionMode = union
        self.max_rows = max_rows
        # Virtuoso reads `timeout` in milliseconds; other stores ignore unknown parameters.
        self.timeout_param = timeout_param
        self._graphs: tuple[str, ...] | None = tuple(graphs) if graphs is not None else None
        self._version = version
        self._lock = threading.RLock()
        self._session = session or requests.Session()
        if auth is not None:  # digest or basic, as the store asks (store_credentials.py)
            self._session.auth = StoreAuth(*auth)
        # Never holds data: it only parses (see `_form`).
        self._parser = ox.Store()

    @classmethod
    def from_setting(
        cls,
        setting: str,
        version: str | None = None,
        max_rows: int | None = None,
        graphs: Iterable[str] | None = None,
    ) -> RemoteSparqlStore:
        """Builds the store from `DCDR_STORE`'s value `sparql:URL`.

        Options ride in the URL's fragment so that one setting says everything, e.g.
        `sparql:http://127.0.0.1:8890/sparql#union=explicit&timeout-param=timeout`.
        """
        if not setting.startswith("sparql:"):
            raise ValueError(f"DCDR_STORE must be 'embedded' or 'sparql:URL', got {setting!r}")
        url, _, fragment = setting.removeprefix("sparql:").partition("#")
        url, credentials = split_credentials(url)  # the app's read-only account, if any
        options: dict[str, str] = {}
        for part in filter(None, fragment.split("&")):
            key, _, value = part.partition("=")
            options[key] = value
        unknown = set(options) - {"union", "timeout-param"}
        if unknown:
            raise ValueError(f"unknown remote store option(s): {', '.join(sorted(unknown))}")
        union = options.get("union", "explicit")
        if union not in UNION_MODES:
            raise ValueError(f"union must be one of {', '.join(UNION_MODES)}, got {union!r}")
        return cls(
            url,
            version,
            union=union,
            timeout_param=options.get("timeout-param"),
            max_rows=max_rows,
            auth=credentials,
            graphs=graphs,
        )

    # -- QueryStore ----------------------------------------------------------------------

    @property
    def version(self) -> str:
        if self._version is None:
            with self._lock:
                if self._version is None:
                    self._version = self._fingerprint()
        return self._version

    @property
    def known_version(self) -> str | None:
        """The version if known without asking the store (given, or fingerprinted before)."""
        return self._version

    def query(
        self,
        text: str,
        dataset: DatasetSpec,
        media_type: str,
        timeout: float,
        *,
        graph_media_type: str = "",
        base_iri: str | None = None,
    ) -> QueryResult:
        form = self._form(text, base_iri)
        declared = declare_defaults(text, QUERY_PREFIXES)
        try:
            return self._query(
                declared.text, form, dataset, media_type, timeout, graph_media_type, base_iri
            )
        except QuerySyntaxError as error:
            message = shift_back(str(error), declared.shift, declared.line)
            raise QuerySyntaxError(message) from None

    def _query(
        self,
        text: str,
        form: str,
        dataset: DatasetSpec,
        media_type: str,
        timeout: float,
        graph_media_type: str,
        base_iri: str | None,
    ) -> QueryResult:
        if form == "graph":
            accepted = [graph_media_type]
        elif form == "results":
            accepted = [media_type]
        else:
            accepted = [media_type, graph_media_type]
        accepted = [_base_media_type(t) for t in accepted if t]
        if not accepted:
            raise NotAcceptable("no acceptable media type for this kind of query")
        if base_iri and plan_query(text).relative_iris and not declares_absolute_base(text):
            # The protocol has no base parameter: the remote store would resolve against its
            # own address. On the first line, so that only that line's columns move (and the
            # text was parsed here first, so the remote store reports no syntax errors).
            text = f"BASE <{base_iri}> {text}"
        sent, dataset_params = self._dataset_params(text, dataset)
        params: list[tuple[str, str]] = [("query", sent), *dataset_params]
        if self.timeout_param:
            params.append((self.timeout_param, str(int(timeout * 1000))))
        if form == "results" and self.max_rows is not None:
            return self._capped(params, _base_media_type(media_type), timeout, self.max_rows)
        body, answered = self._post(params, ", ".join(accepted), timeout)
        if form == "":
            is_graph = ox.RdfFormat.from_media_type(answered) is not None
            form = "graph" if is_graph else "results"
        wanted = _base_media_type(graph_media_type if form == "graph" else media_type)
        return self._result(body, answered, wanted)

    # -- helpers -------------------------------------------------------------------------

    def _capped(
        self, params: list[tuple[str, str]], wanted: str, timeout: float, limit: int
    ) -> QueryResult:
        """A SELECT/ASK answer read as it streams in, stopped one row past the row cap (the
        connection is then dropped, which stops a store that streams its evaluation)."""
        wanted_format = ox.QueryResultsFormat.from_media_type(wanted)
        if wanted_format is None:
            raise NotAcceptable(f"no SPARQL results format is written as {wanted}")
        # Asked in a format pyoxigraph parses as it arrives (CSV cannot be read back; Virtuoso
        # 7.2.5 writes TSV's header as `"n"`, not `?n`, which no TSV reader takes).
        tables = (ox.QueryResultsFormat.CSV, ox.QueryResultsFormat.TSV)
        asked = wanted if wanted_format not in tables else SELECT_JSON
        deadline = time.monotonic() + timeout
        response = self._open(params, asked, timeout)
        with response:
            if response.status_code >= 400:
                response.raw.decode_content = True
                self._raise_for_status(response.status_code, error_excerpt(response.raw, deadline))
            raise_if_interrupted(response.headers, timeout)  # store_answers.py
            answered = _base_media_type(response.headers.get("Content-Type")) or asked
            answered_format = ox.QueryResultsFormat.from_media_type(answered)
            if answered_format is None or answered_format == ox.QueryResultsFormat.CSV:
                raise StoreUnavailable(f"the remote store answered {answered}, not {asked}")
            response.raw.decode_content = True
            kept = TailKeeper(DeadlineReader(response.raw, deadline))
            reader = io.BufferedReader(kept, _CHUNK)
            try:
                body, count, truncated = capped_stream(
                    reader, answered_format, wanted_format, limit
                )
            except TimeoutError as error:
                raise QueryTimeout(f"query ran past {timeout:g} s on the remote store") from error
            except OSError as error:
                raise StoreUnavailable(str(error)) from None
            except (SyntaxError, ValueError):
                # A store that ran out of time says so at the end of a 200 (store_answers.py).
                raise broken_answer(kept.tail, timeout, answered) from None
        return QueryResult(body, wanted, count=count, truncated=truncated)

    def graphs(self) -> tuple[str, ...]:
        """The dataset's named graphs as the store holds them (discovered once)."""
        if self._graphs is None:
            with self._lock:
                if self._graphs is None:
                    self._graphs = self._discover_graphs()
        return self._graphs

    def _discover_graphs(self) -> tuple[str, ...]:
        body, _ = self._post([("query", _LISTING_QUERY)], SELECT_JSON, 30.0)
        rows = json.loads(body)["results"]["bindings"]
        found = sorted({row["g"]["value"] for row in rows})
        return tuple(g for g in found if g.startswith(str(GRAPH)))

    def _fingerprint(self) -> str:
        # The content itself, not only its size: server/stores/content_fingerprint.py.
        return content_fingerprint(
            self.graphs(), lambda text, accept, limit: self._post([("query", text)], accept, limit)
        )

    def _form(self, text: str, base_iri: str | None = None) -> str:
        """ "results" (SELECT/ASK), "graph" (CONSTRUCT/DESCRIBE) or "" when unknown.

        Evaluating on an empty in-memory store parses the query locally, so syntax errors read
        the same whatever the remote store's own wording; the lazy answer is never iterated.
        """
        if plan_query(text).is_update:
            raise UpdateRefused(UPDATE_REFUSED)
        try:
            answer = self._parser.query(text, base_iri=base_iri, prefixes=QUERY_PREFIXES)
        except SyntaxError as error:
            raise QuerySyntaxError(syntax_message(str(error), text)) from None
        except (ValueError, RuntimeError, OSError):
            # Evaluation problems on an empty store (e.g. SERVICE) are for the remote one.
            return ""
        return "graph" if isinstance(answer, ox.QueryTriples) else "results"

    def _dataset_params(self, text: str, dataset: DatasetSpec) -> tuple[str, list[tuple[str, str]]]:
        """The query text to send and its dataset parameters: only the project's graphs are
        ever named, a query's own FROM / FROM NAMED included (server/stores/sealing.py)."""
        sealed = sealed_query(text)
        if not dataset.is_default:  # the protocol's dataset overrides the query's
            return sealed.text, dataset_parameters(within_project(dataset))
        if sealed.dataset is not None:
            return sealed.text, dataset_parameters(sealed.dataset)
        if self.union == "native":
            return text, []
        if self.union == "oxigraph":
            return text, [("union-default-graph", "")]
        graphs = self.graphs()  # none yet: an empty dataset, never the store's own default
        return text, dataset_parameters(DatasetSpec(graphs, graphs))

    def _post(
        self, params: list[tuple[str, str]], media_type: str, timeout: float
    ) -> tuple[bytes, str]:
        """Sends one protocol POST and reads the answer within `timeout` seconds in all."""
        deadline = time.monotonic() + timeout
        response = self._open(params, media_type, timeout)
        with response:
            raise_if_interrupted(response.headers, timeout)  # store_answers.py
            chunks: list[bytes] = []
            try:
                for chunk in response.iter_content(_CHUNK):
                    # requests' read timeout is per read; the request's limit is overall.
                    if time.monotonic() > deadline:
                        raise QueryTimeout(f"query ran past {timeout:g} s on the remote store")
                    chunks.append(chunk)
            except requests.Timeout as error:
                raise QueryTimeout(f"query ran past {timeout:g} s on the remote store") from error
            except requests.RequestException as error:
                raise StoreUnavailable(f"remote store {self.endpoint_url} broke off") from error
            body = b"".join(chunks)
            self._raise_for_status(response.status_code, _head_and_tail(body))
            answered = _base_media_type(response.headers.get("Content-Type"))
            check_complete(body, answered, timeout)  # a 200 may end in an error: store_answers.py
            return body, answered

    def _open(
        self, params: list[tuple[str, str]], media_type: str, timeout: float
    ) -> requests.Response:
        """Sends one protocol POST; the answer's body is still to be read."""
        try:
            return self._session.post(
                self.endpoint_url,
                data=params,
                headers={"Accept": media_type},
                timeout=(min(_CONNECT_TIMEOUT, timeout), timeout),
                stream=True,
            )
        except requests.ConnectTimeout as error:
            raise StoreUnavailable(f"remote store {self.endpoint_url} did not answer") from error
        except requests.Timeout as error:
            raise QueryTimeout(f"query ran past {timeout:g} s on the remote store") from error
        except requests.RequestException as error:
            raise StoreUnavailable(f"remote store {self.endpoint_url} unreachable") from error

    def _raise_for_status(self, status: int, body: bytes) -> None:
        if status < 400:
            return
        # Callers pass the beginning and the end of a long body (`_head_and_tail`).
        message = body[: 2 * _ERROR_EXCERPT].decode("utf-8", "replace").strip()
        if status in (408, 504) or (status >= 500 and _TIMEOUT_WORDS.search(message)):
            raise QueryTimeout(f"the remote store stopped the query: {message}")
        if status == 400:
            raise QuerySyntaxError(f"the remote store rejected the query: {message}")
        if status == 406:
            raise NotAcceptable(f"the remote store cannot write this answer as asked: {message}")
        if status in (403, 405, 413, 414):
            raise QueryRefused(f"the remote store refused the query ({status}): {message}")
        raise StoreFailed(f"the remote store answered {status}: {message}")

    def _result(self, body: bytes, answered: str, wanted: str) -> QueryResult:
        if answered and answered != wanted:
            body = _convert(body, answered, wanted)
        if wanted == SELECT_JSON:
            return self._json_result(body)
        return QueryResult(body=body, media_type=wanted, count=_count(body, wanted))

    def _json_result(self, body: bytes) -> QueryResult:
        try:
            document = json.loads(body)
        except ValueError as error:
            raise StoreFailed("the remote store sent invalid JSON results") from error
        if "boolean" in document:
            return QueryResult(body=body, media_type=SELECT_JSON, count=1)
        rows = document.get("results", {}).get("bindings", [])
        if self.max_rows is not None and len(rows) > self.max_rows:
            document["results"]["bindings"] = rows[: self.max_rows]
            body = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
            return QueryResult(body, SELECT_JSON, count=self.max_rows, truncated=True)
        return QueryResult(body=body, media_type=SELECT_JSON, count=len(rows))


def _head_and_tail(body: bytes) -> bytes:
    # Virtuoso writes its error after the rows it streamed (server/stores/store_answers.py).
    half = _ERROR_EXCERPT // 2
    return body if len(body) <= _ERROR_EXCERPT else body[:half] + b" ... " + body[-half:]


def _convert(body: bytes, answered: str, wanted: str) -> bytes:
    """Re-serializes a store's answer when it chose another format than the one asked for."""
    results_in = ox.QueryResultsFormat.from_media_type(answered)
    results_out = ox.QueryResultsFormat.from_media_type(wanted)
    try:
        if results_in is not None and results_out is not None:
            parsed = ox.parse_query_results(body, results_in)
            return bytes(parsed.serialize(format=results_out) or b"")
        rdf_in = ox.RdfFormat.from_media_type(answered)
        rdf_out = ox.RdfFormat.from_media_type(wanted)
        if rdf_in is not None and rdf_out is not None:
            triples = [quad.triple for quad in ox.parse(body, rdf_in)]
            return bytes(ox.serialize(triples, format=rdf_out) or b"")
    except (SyntaxError, ValueError) as error:
        raise StoreFailed(f"the remote store sent unreadable {answered}: {error}") from None
    raise NotAcceptable(f"the remote store answers {answered}, which cannot become {wanted}")


def _count(body: bytes, media_type: str) -> int:
    """Rows (results) or triples (graphs) in an answer, for logs and headers."""
    if media_type in ("text/csv", "text/tab-separated-values"):
        return max(body.count(b"\n") - 1, 0)
    if media_type == "application/sparql-results+xml":
        return body.count(b"<result>") or (1 if b"<boolean>" in body else 0)
    if media_type in ("application/n-triples", "application/n-quads"):
        return sum(1 for line in body.splitlines() if line.strip() and not line.startswith(b"#"))
    rdf_format = ox.RdfFormat.from_media_type(media_type)
    if rdf_format is None:
        return 0
    try:
        return sum(1 for _ in ox.parse(body, rdf_format))
    except (SyntaxError, ValueError):
        return 0
