"""The pipeline: sources → named graphs → OWL-RL closure → validation → `dist/`.

`build(project)` and `validate(project)` take a `Project` (root + dist), so tests and the
bench can build fixture projects into their own folders; `DCDR_ROOT`, `DCDR_DIST` and
`DCDR_PUBLIC_BASE` (the server root the VoID links point at) do the same for subprocesses.
Nothing is written unless every check passes, and `dist` changes in one `os.replace`.
"""

from __future__ import annotations

import os
import time
import tomllib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from rdflib import Graph

from graph import dumps, figures_table
from graph.cube import with_cube_links
from graph.namespaces import graph_iri
from graph.paths import Project
from graph.problems import BuildFailed, Problem
from graph.text import load_text_graph
from graph.void import DEFAULT_PUBLIC_BASE, Description, meta_graph, void_document

Log = Callable[[str], None]
CONTENT_GRAPHS = ("ontology", "shapes", "text", "facts", "links", "inferred")
ASSERTED = ("ontology", "text", "facts", "links")
DATA = ("text", "facts", "links")


class SourceError(Exception):
    """A source file is missing or does not parse; the message names the file."""


@dataclass
class Stages:
    """Wall time per stage, in the order they ran."""

    times: list[tuple[str, float]] = field(default_factory=list)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.times.append((name, time.perf_counter() - start))

    @property
    def total(self) -> float:
        return sum(seconds for _, seconds in self.times)


@dataclass
class BuildResult:
    path: Path
    counts: dict[str, int]
    content_hash: str
    sizes: dict[str, int]
    stages: Stages


def _quiet(_: str) -> None:
    """The default log: builds called from code print nothing."""


def _one_line(error: Exception) -> str:
    return " ".join(str(error).split()) or type(error).__name__


def _syntax_error(error: Exception) -> str:
    """rdflib's Turtle errors print a bytes repr over several lines; say it in one."""
    why, text, at = (getattr(error, name, None) for name in ("_why", "_str", "_i"))
    line = getattr(error, "lines", None)
    if not (isinstance(why, str) and isinstance(text, bytes) and isinstance(at, int)):
        return _one_line(error)
    near = text[at : at + 40].decode("utf-8", errors="replace")
    where = f"line {line + 1}: " if isinstance(line, int) else ""
    return f"{where}{why}, near {' '.join(near.split())!r}"


def parse_turtle(paths: Sequence[Path], name: str, root: Path) -> Graph:
    """The named graph `name` from Turtle files, with blank nodes labelled canonically."""
    graph = dumps.prefixed_graph(graph_iri(name))
    for path in paths:
        try:
            graph.parse(path, format="turtle")
        except FileNotFoundError:
            raise SourceError(f"{path} not found") from None
        except Exception as error:  # rdflib raises several types; all mean "does not parse"
            shown = path.relative_to(root) if path.is_relative_to(root) else path
            raise SourceError(f"{shown}: {_syntax_error(error)}") from None
    return dumps.canonical(graph)


def load_sources(project: Project) -> dict[str, Graph]:
    """The five asserted named graphs of a project, keyed by contract name."""
    for required in (project.ontology_file, project.shapes_file, project.source_file):
        if not required.is_file():
            raise SourceError(f"{required} not found (is {project.root} a dcdr-kg project?)")
    text = dumps.prefixed_graph(graph_iri("text"))
    text += load_text_graph(project.source_file)
    return {
        "ontology": parse_turtle([project.ontology_file], "ontology", project.root),
        "shapes": parse_turtle([project.shapes_file], "shapes", project.root),
        "text": text,
        "facts": with_cube_links(parse_turtle(project.facts_files(), "facts", project.root)),
        "links": parse_turtle(project.links_files(), "links", project.root),
    }


def merged(graphs: dict[str, Graph], names: Sequence[str]) -> Graph:
    return dumps.union(graphs[name] for name in names)


def check_problems(project: Project, graphs: dict[str, Graph]) -> list[Problem]:
    from graph.validation import validation_problems

    problems = validation_problems(
        data=merged(graphs, DATA),
        asserted=merged(graphs, ASSERTED),
        shapes=graphs["shapes"],
        ontology=graphs["ontology"],
        checks=project.check_files(),
    )
    return problems + cube_problems(project, graphs)


def cube_problems(project: Project, graphs: dict[str, Graph]) -> list[Problem]:
    """The Data Cube integrity constraints, on the asserted union and its OWL-RL closure (the
    build's `inferred` graph, or computed here for `validate`)."""
    from graph.cube import check_files, integrity_problems
    from graph.reasoning import closure

    asserted = merged(graphs, ASSERTED)
    inferred = graphs["inferred"] if "inferred" in graphs else closure(asserted)[0]
    return integrity_problems([asserted, inferred], check_files(project.checks_dir))


def project_version(project: Project) -> str:
    """The version in the project's pyproject.toml, else that of the installed package."""
    try:
        with project.pyproject.open("rb") as handle:
            return str(tomllib.load(handle)["project"]["version"])
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        pass
    try:
        return metadata.version("dcdr-kg")
    except metadata.PackageNotFoundError:
        return "0+unknown"


def validate(project: Project, log: Log = _quiet) -> list[Problem]:
    """Every check on the current sources; writes nothing. Raises `SourceError`/`TextError`."""
    return check_problems(project, load_sources(project))


def _counts(graphs: dict[str, Graph]) -> str:
    return " · ".join(f"{name} {len(graph)}" for name, graph in graphs.items())


def build(project: Project, public_base: str | None = None, log: Log = _quiet) -> BuildResult:
    """Builds and publishes `project.dist`. Raises `BuildFailed` when a check fails (and then
    writes nothing), `SourceError`/`TextError` for unreadable sources."""
    from graph.reasoning import closure

    dumps.check_dist_replaceable(project.dist)
    stages = Stages()
    with stages.stage("load"):
        graphs = load_sources(project)
    log(f"load      {stages.times[-1][1]:6.2f} s  {_counts(graphs)}")
    with stages.stage("reason"):
        inferred, inconsistencies = closure(merged(graphs, ASSERTED))
        graphs["inferred"] = inferred
    log(f"reason    {stages.times[-1][1]:6.2f} s  inferred {len(inferred)}")
    with stages.stage("validate"):
        problems = inconsistencies + check_problems(project, graphs)
    if problems:
        raise BuildFailed("validation", problems)
    log(f"validate  {stages.times[-1][1]:6.2f} s  no problems")
    version = project_version(project)
    base = public_base or os.environ.get("DCDR_PUBLIC_BASE") or DEFAULT_PUBLIC_BASE
    with stages.stage("meta"):
        content = {graph_iri(name): graphs[name] for name in CONTENT_GRAPHS}
        digest = dumps.content_hash(content)
        meta = meta_graph(graphs, Description(version, digest, base))
        graphs["meta"] = meta
    log(f"meta      {stages.times[-1][1]:6.2f} s  meta {len(meta)} · sha256:{digest[:16]}…")
    name = f"{version}-{digest[:12]}-{time.time_ns()}"
    with stages.stage("write"):
        staged = dumps.staging_dir(project.builds_dir, name)
        named = {graph_iri(n): g for n, g in graphs.items()}
        tables = figures_table.dist_files(merged(graphs, ASSERTED))
        sizes = dumps.write_dumps(staged, named, void_document(meta, graphs["text"]), tables)
    written = ", ".join(f"{file} {size / 1024:.0f} KiB" for file, size in sizes.items())
    log(f"write     {stages.times[-1][1]:6.2f} s  {written}, store")
    with stages.stage("publish"):
        final = dumps.publish(staged, project.dist, name)
    log(f"publish   {stages.times[-1][1]:6.2f} s  {project.dist} -> {final.name}")
    log(f"total     {stages.total:6.2f} s  {sum(len(g) for g in graphs.values())} quads")
    return BuildResult(
        path=final,
        counts={name: len(graph) for name, graph in graphs.items()},
        content_hash=digest,
        sizes=sizes,
        stages=stages,
    )
