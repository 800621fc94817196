"""`dcdr`: every command on the mini project, and bad input → one line, exit code, no traceback."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from rdflib import Dataset, Graph, URIRef

from graph.cli import main, table
from graph.namespaces import DCDR, RDF
from graph.paths import Project
from tests.conftest import run_dcdr

GRAPH_BASE = "https://w3id.org/dcdr/graph/"


def _use(monkeypatch: pytest.MonkeyPatch, project: Project) -> None:
    monkeypatch.setenv("DCDR_ROOT", str(project.root))
    monkeypatch.setenv("DCDR_DIST", str(project.dist))


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return code, captured.out, captured.err


def test_help_and_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    assert "build" in capsys.readouterr().out
    for bad in (
        [],
        ["frobnicate"],
        ["serve", "--port", "http"],
        ["query"],
        ["serve", "--port", "0"],
        ["publish"],
    ):
        code, _, err = _run(bad, capsys)
        assert code == 2, bad
        assert len(err.strip().splitlines()) == 1, err
        assert err.startswith("dcdr: ")


def test_query_without_a_build_says_to_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _use(monkeypatch, Project(root=tmp_path, dist=tmp_path / "dist"))
    for command in (["query", "ASK {}"], ["stats"]):
        code, out, err = _run(command, capsys)
        assert code == 1
        assert out == ""
        assert "dcdr build" in err and len(err.strip().splitlines()) == 1


def test_select_prints_an_aligned_table(
    built_mini: Project, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _use(monkeypatch, built_mini)
    code, out, _ = _run(
        [
            "query",
            "SELECT ?s ?label WHERE { ?s a dcdr:Platform ; rdfs:label ?label } ORDER BY ?label",
        ],
        capsys,
    )
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["s", "label"]
    assert set(lines[1].replace(" ", "")) == {"-"}
    assert "Demonstration platform@en" in out and "示范平台@zh" in out
    assert lines[-1] == "(2 rows)"


def test_ask_construct_and_formats(
    built_mini: Project, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _use(monkeypatch, built_mini)
    assert _run(["query", "ASK { ?o a dcdr:Observation }"], capsys)[1] == "true\n"
    assert _run(["query", "ASK { ?o a dcdr:Nothing }"], capsys)[1] == "false\n"
    code, out, _ = _run(
        ["query", "CONSTRUCT { ?o a dcdr:Observation } WHERE { ?o a dcdr:Observation }"], capsys
    )
    assert code == 0
    constructed = Graph().parse(data=out, format="turtle")
    trig = Dataset(default_union=True).parse(built_mini.dist / "dcdr.trig", format="trig")
    expected = set(trig.subjects(RDF.type, DCDR.Observation))
    assert set(constructed.subjects(RDF.type, DCDR.Observation)) == expected
    query = "SELECT ?o WHERE { ?o a dcdr:Observation }"
    code, out, _ = _run(["query", "--format", "csv", query], capsys)
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == ["o"] and {URIRef(r[0]) for r in rows[1:]} == expected
    code, out, _ = _run(["query", "--format", "json", query], capsys)
    bindings = json.loads(out)["results"]["bindings"]
    assert {URIRef(b["o"]["value"]) for b in bindings} == expected


def test_query_from_a_file_and_bad_queries(
    built_mini: Project,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _use(monkeypatch, built_mini)
    query_file = tmp_path / "count.rq"
    query_file.write_text("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }", "utf-8")
    code, out, _ = _run(["query", str(query_file)], capsys)
    assert code == 0
    lines = (built_mini.dist / "dcdr.nq").read_text(encoding="utf-8").splitlines()
    assert out.splitlines()[2].strip() == str(len(lines))
    for bad, expected in (
        (["query", str(tmp_path / "missing.rq")], "no such query file"),
        (["query", "SELEKT * WHERE {}"], "syntax error"),
    ):
        code, out, err = _run(bad, capsys)
        assert code == 1 and out == ""
        assert expected in err and len(err.strip().splitlines()) == 1


def test_stats_counts_match_the_dumps(
    built_mini: Project, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _use(monkeypatch, built_mini)
    code, out, _ = _run(["stats"], capsys)
    assert code == 0
    trig = Dataset().parse(built_mini.dist / "dcdr.trig", format="trig")
    for graph in trig.graphs():
        name = str(graph.identifier)
        if name.startswith(GRAPH_BASE):
            short = name[len(GRAPH_BASE) :]
            row = next(line for line in out.splitlines() if line.split()[:1] == [short])
            assert row.split()[-1] == str(len(graph))
    assert "observations per metric" in out
    assert any("items connected" in line and line.split()[-1] == "1" for line in out.splitlines())


def test_validate_reports_problems_without_writing(mini: Project) -> None:
    done = run_dcdr(["validate"], mini)
    assert done.returncode == 0, done.stderr
    assert "no problems" in done.stdout
    (mini.root / "graph" / "facts" / "broken.ttl").write_text(
        "<https://w3id.org/dcdr/id/observation/x> a "
        "<https://w3id.org/dcdr/ontology#Observation> .\n",
        encoding="utf-8",
    )
    done = run_dcdr(["validate"], mini)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    problems = [line for line in done.stdout.splitlines() if "observation/x" in line]
    # One line per missing property of the contract's observation rule.
    assert len(problems) == 6, done.stdout
    assert not mini.dist.exists() and not mini.builds_dir.exists()


def test_build_command_prints_stages_and_bad_sources_fail_cleanly(mini: Project) -> None:
    done = run_dcdr(["build"], mini)
    assert done.returncode == 0, done.stderr
    for stage in ("load", "reason", "validate", "write", "publish", "total"):
        assert any(line.startswith(stage) for line in done.stdout.splitlines()), stage
    (mini.root / "graph" / "facts" / "bad.ttl").write_text("this is not turtle", "utf-8")
    done = run_dcdr(["build"], mini)
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and "bad.ttl" in done.stderr
    assert "Traceback" not in done.stderr


def test_extract_and_serve_failures_are_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _run(["extract", str(tmp_path / "nothing.txt")], capsys)
    assert code == 1 and "no such file" in err and len(err.strip().splitlines()) == 1


def test_table_aligns_wide_characters() -> None:
    text = table(["a", "b"], [["数字", "x"], ["ab", "y"]])
    lines = text.splitlines()

    def columns(line: str, char: str) -> int:
        before = line[: line.index(char)]
        return len(before) + sum(1 for ch in before if "\u4e00" <= ch <= "\u9fff")

    # "数字" takes four terminal columns, so "x" and "y" line up on screen, not in characters.
    assert columns(lines[2], "x") == columns(lines[3], "y")
    assert lines[2].index("x") != lines[3].index("y")
