"""`dcdr`: build, validate, stats, query, extract, serve, publish.

Every failure is one line on stderr (or one line per problem) and an exit code: 2 for bad
usage, 1 for everything else; never a traceback. `DCDR_ROOT` / `DCDR_DIST` choose the project
and the dist folder.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import unicodedata
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from graph.paths import Project

EXIT_FAILURE = 1
EXIT_USAGE = 2
RESULT_FORMATS = ("table", "csv", "tsv", "json")


class CliError(Exception):
    """A failure to report as one line, with its exit code."""

    def __init__(self, message: str, code: int = EXIT_FAILURE) -> None:
        super().__init__(message)
        self.code = code


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (argparse prints the usage block too)."""

    def error(self, message: str) -> NoReturn:
        raise CliError(f"{message} (see `{self.prog} --help`)", EXIT_USAGE)


def _err(message: str) -> None:
    print(f"dcdr: {message}", file=sys.stderr)


def _out(line: str) -> None:
    print(line, flush=True)


# --- build / validate ----------------------------------------------------------------------


def cmd_build(args: argparse.Namespace, project: Project) -> int:
    from graph.build import build

    build(project, public_base=args.public_base, log=_out)
    return 0


def cmd_validate(args: argparse.Namespace, project: Project) -> int:
    from graph.build import validate

    problems = validate(project, log=_out)
    for problem in problems:
        _out(str(problem))
    if problems:
        _err(f"validation found {len(problems)} problem(s)")
        return EXIT_FAILURE
    _out("no problems")
    return 0


# --- the built dist ------------------------------------------------------------------------


def open_store(project: Project) -> Any:
    """The dist's Oxigraph store, read-only; a missing build is a one-line error."""
    store_path = project.dist / "store"
    if not store_path.is_dir():
        raise CliError(f"no build at {project.dist}; run `dcdr build` first")
    import pyoxigraph

    try:
        return pyoxigraph.Store.read_only(str(store_path))
    except OSError as error:
        raise CliError(f"cannot open the store in {project.dist}: {error}") from None


def _prefixes() -> dict[str, str]:
    from graph.namespaces import PREFIXES

    return {prefix: str(namespace) for prefix, namespace in PREFIXES.items()}


def _show(term: Any, prefixes: dict[str, str]) -> str:
    """A term for a table cell: compact IRIs, plain literal values (with @lang)."""
    import pyoxigraph

    if term is None:
        return ""
    if isinstance(term, pyoxigraph.NamedNode):
        iri = term.value
        for prefix, namespace in sorted(prefixes.items(), key=lambda item: -len(item[1])):
            local = iri[len(namespace) :]
            if iri.startswith(namespace) and local and "/" not in local and "#" not in local:
                return f"{prefix}:{local}"
        return f"<{iri}>"
    if isinstance(term, pyoxigraph.Literal):
        value = " ".join(term.value.split())
        return f"{value}@{term.language}" if term.language else value
    return str(term)


def _width(text: str) -> int:
    """Display width: CJK characters take two terminal columns."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max([_width(h)] + [_width(row[i]) for row in rows]) for i, h in enumerate(header)]
    lines = [
        "  ".join(_pad(cell, widths[i]) for i, cell in enumerate(line)).rstrip()
        for line in [list(header), ["-" * w for w in widths], *rows]
    ]
    return "\n".join(lines)


def run_query(store: Any, text: str) -> Any:
    try:
        return store.query(text, use_default_graph_as_union=True, prefixes=_prefixes())
    except SyntaxError as error:
        raise CliError(f"query syntax error: {' '.join(str(error).split())}") from None
    except (OSError, ValueError) as error:
        raise CliError(f"query failed: {' '.join(str(error).split())}") from None


def _select_rows(solutions: Any) -> tuple[list[str], list[list[str]]]:
    prefixes = _prefixes()
    header = [variable.value for variable in solutions.variables]
    rows = [[_show(solution[name], prefixes) for name in header] for solution in solutions]
    return header, rows


def _query_text(argument: str) -> str:
    path = Path(argument)
    looks_like_file = argument.endswith(".rq") or (
        "\n" not in argument and len(argument) < 4096 and path.is_file()
    )
    if not looks_like_file:
        return argument
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CliError(f"no such query file: {argument}") from None
    except (OSError, UnicodeDecodeError) as error:
        raise CliError(f"cannot read {argument}: {error}") from None


def cmd_query(args: argparse.Namespace, project: Project) -> int:
    text = _query_text(args.query)
    result = run_query(open_store(project), text)
    try:
        _print_result(result, args.format)
    except (OSError, ValueError) as error:
        # Oxigraph evaluates lazily: errors (e.g. a refused SERVICE call) surface while reading.
        raise CliError(f"query failed: {' '.join(str(error).split())}") from None
    return 0


def _print_result(result: Any, result_format: str) -> None:
    import pyoxigraph

    if isinstance(result, bool | pyoxigraph.QueryBoolean):
        _out("true" if bool(result) else "false")
    elif isinstance(result, pyoxigraph.QuerySolutions):
        if result_format == "table":
            header, rows = _select_rows(result)
            _out(table(header, rows))
            _out(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
        else:
            formats = pyoxigraph.QueryResultsFormat
            chosen = {"csv": formats.CSV, "tsv": formats.TSV, "json": formats.JSON}[result_format]
            sys.stdout.write((result.serialize(format=chosen) or b"").decode("utf-8"))
    else:
        from rdflib import Graph

        from graph.dumps import prefixed_graph

        graph: Graph = prefixed_graph()
        data = result.serialize(format=pyoxigraph.RdfFormat.N_TRIPLES) or b""
        graph.parse(data=data.decode("utf-8"), format="nt")
        sys.stdout.write(graph.serialize(format="turtle"))


STATS_QUERIES = {
    "triples per graph": """
        SELECT ?graph (COUNT(*) AS ?triples) WHERE {
          GRAPH ?iri { ?s ?p ?o }
          BIND(STRAFTER(STR(?iri), "https://w3id.org/dcdr/graph/") AS ?graph)
        } GROUP BY ?graph ORDER BY ?graph""",
    "instances per class (asserted)": """
        SELECT ?class (COUNT(DISTINCT ?s) AS ?instances) WHERE {
          VALUES ?graph { <https://w3id.org/dcdr/graph/text> <https://w3id.org/dcdr/graph/facts>
                          <https://w3id.org/dcdr/graph/links>
                          <https://w3id.org/dcdr/graph/background> }
          GRAPH ?graph { ?s a ?class }
        } GROUP BY ?class ORDER BY DESC(?instances) ?class""",
    "observations per metric": """
        SELECT ?metric (SAMPLE(?name) AS ?label) (COUNT(DISTINCT ?o) AS ?observations) WHERE {
          ?o a dcdr:Observation ; dcdr:metric ?metric .
          OPTIONAL { ?metric rdfs:label ?name FILTER(LANG(?name) = "en") }
        } GROUP BY ?metric ORDER BY DESC(?observations) ?metric""",
}


def cmd_stats(args: argparse.Namespace, project: Project) -> int:
    store = open_store(project)
    for title, query in STATS_QUERIES.items():
        try:
            header, rows = _select_rows(run_query(store, query))
        except OSError as error:
            raise CliError(f"cannot read the store: {error}") from None
        _out(f"{title}:")
        _out(table(header, rows) if rows else "(none)")
        _out("")
    return 0


# --- delegated commands --------------------------------------------------------------------


def _lazy(module: str, function: str, what: str) -> Callable[..., int]:
    try:
        found: Callable[..., int] = getattr(importlib.import_module(module), function)
    except ModuleNotFoundError as error:
        if error.name not in (module, module.split(".")[0]):
            raise
        raise CliError(f"{what} is not available ({module} is missing)") from None
    except AttributeError:
        raise CliError(f"{what} is not available ({module}.{function} is missing)") from None
    return found


def cmd_extract(args: argparse.Namespace, project: Project) -> int:
    if not Path(args.file).is_file():
        raise CliError(f"no such file: {args.file}")
    return _lazy("graph.figures", "main", "the figure extractor")(args.file)


def cmd_serve(args: argparse.Namespace, project: Project) -> int:
    serve = _lazy("server.front.serving", "serve", "the server")
    return serve(
        host=args.host, port=args.port, workers=args.workers, threads=args.threads, dev=args.dev
    )


def cmd_publish(args: argparse.Namespace, project: Project) -> int:
    publish = _lazy("graph.publish", "main", "publishing")
    return publish(
        to=args.to,
        auth=args.auth,
        dist=args.dist or project.dist,
        query_url=args.query_url,
        rollback=args.rollback,
    )


# --- wiring --------------------------------------------------------------------------------


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {value}")
    return value


def _port(text: str) -> int:
    value = _positive(text)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"not a port: {value}")
    return value


def parser() -> argparse.ArgumentParser:
    top = _Parser(prog="dcdr", description="The dcdr-kg knowledge graph: build, check, query.")
    commands = top.add_subparsers(dest="command", metavar="COMMAND", required=True)
    build = commands.add_parser("build", help="sources → dist/ (validated, atomic)")
    build.add_argument(
        "--public-base", help="server root the VoID links point at (env DCDR_PUBLIC_BASE)"
    )
    build.set_defaults(run=cmd_build)
    commands.add_parser("validate", help="check the sources; writes nothing").set_defaults(
        run=cmd_validate
    )
    commands.add_parser("stats", help="counts per graph, class and metric").set_defaults(
        run=cmd_stats
    )
    query = commands.add_parser("query", help="run a SPARQL query (text or .rq file) on dist/")
    query.add_argument("query", help="the query text, or a path to a .rq file")
    query.add_argument("--format", choices=RESULT_FORMATS, default="table")
    query.set_defaults(run=cmd_query)
    extract = commands.add_parser("extract", help="candidate observations of a text file")
    extract.add_argument("file")
    extract.set_defaults(run=cmd_extract)
    serve = commands.add_parser("serve", help="the SPARQL endpoint and pages")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=_port, default=8000)
    serve.add_argument("--workers", type=_positive)
    serve.add_argument("--threads", type=_positive)
    serve.add_argument("--dev", action="store_true", help="Flask's development server")
    serve.set_defaults(run=cmd_serve)
    publish = commands.add_parser("publish", help="load dist/ into a SPARQL store (GSP)")
    publish.add_argument("--to", required=True, help="Graph Store Protocol endpoint URL")
    publish.add_argument("--auth", help="user:password for the store")
    publish.add_argument("--dist", help="built dist folder (default: dist/)")
    publish.add_argument("--query-url", help="SPARQL query endpoint (default: derived)")
    publish.add_argument(
        "--rollback", action="store_true", help="make the previous build live again"
    )
    publish.set_defaults(run=cmd_publish)
    return top


def _failure_lines(error: BaseException) -> tuple[list[str], int] | None:
    """The lines and exit code of a failure the user caused or can fix, else None."""
    from graph.build import SourceError
    from graph.dumps import PublishError
    from graph.problems import BuildFailed
    from graph.text import TextError

    if isinstance(error, BuildFailed):
        return error.report().splitlines(), EXIT_FAILURE
    if isinstance(error, CliError):
        return [str(error)], error.code
    if isinstance(error, SourceError | TextError | PublishError):
        return [" ".join(str(error).split())], EXIT_FAILURE
    return None


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = parser().parse_args(argv)
        run: Callable[[argparse.Namespace, Project], int] = args.run
        return run(args, Project.from_env())
    except KeyboardInterrupt:
        _err("interrupted")
        return 130
    except BrokenPipeError:
        return EXIT_FAILURE
    except Exception as error:  # the last line of defence: one line, never a traceback
        known = _failure_lines(error)
        if known is None:
            _err(f"internal error: {type(error).__name__}: {' '.join(str(error).split())}")
            return EXIT_FAILURE
        lines, code = known
        for line in lines:
            # A problem report is already prefixed line by line; a single error gets `dcdr:`.
            print(line if len(lines) > 1 else f"dcdr: {line}", file=sys.stderr)
        return code


if __name__ == "__main__":
    sys.exit(main())
