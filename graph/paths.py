"""Where the project's sources and build output live.

The project reads only its own files (never ../shared); `DCDR_ROOT` and `DCDR_DIST` let tests
and deployments point elsewhere.
"""

import os
from pathlib import Path

PROJECT_ROOT = Path(os.environ.get("DCDR_ROOT", Path(__file__).resolve().parents[1]))
SOURCE_DIR = PROJECT_ROOT / "graph" / "source"
SOURCE_FILE = SOURCE_DIR / "dcdr-2020-release.txt"
FACTS_DIR = PROJECT_ROOT / "graph" / "facts"
ONTOLOGY_DIR = PROJECT_ROOT / "ontology"
ONTOLOGY_FILE = ONTOLOGY_DIR / "dcdr.ttl"
SHAPES_FILE = ONTOLOGY_DIR / "shapes.ttl"
QUERIES_DIR = PROJECT_ROOT / "queries"
EXAMPLES_DIR = QUERIES_DIR / "examples"
CHECKS_DIR = QUERIES_DIR / "checks"


def dist_dir() -> Path:
    """The build output folder (read at call time so tests can redirect it)."""
    return Path(os.environ.get("DCDR_DIST", PROJECT_ROOT / "dist"))
