"""Where the project's sources and build output live.

The project reads only its own files (never ../shared). A `Project` names one project root and
one dist folder, so a build can be pointed at a fixture project; `DCDR_ROOT` and `DCDR_DIST`
do the same for subprocesses. The module-level constants describe this checkout and are kept
for readers that only ever look at the real project.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_ROOT = Path(__file__).resolve().parents[1]
SOURCE_NAME = "dcdr-2020-release.txt"

PROJECT_ROOT = Path(os.environ.get("DCDR_ROOT", DEFAULT_ROOT))
SOURCE_DIR = PROJECT_ROOT / "graph" / "source"
SOURCE_FILE = SOURCE_DIR / SOURCE_NAME
FACTS_DIR = PROJECT_ROOT / "graph" / "facts"
LINKS_DIR = FACTS_DIR / "links"
BACKGROUND_DIR = FACTS_DIR / "background"
ONTOLOGY_DIR = PROJECT_ROOT / "ontology"
ONTOLOGY_FILE = ONTOLOGY_DIR / "dcdr.ttl"
SHAPES_FILE = ONTOLOGY_DIR / "shapes.ttl"
QUERIES_DIR = PROJECT_ROOT / "queries"
EXAMPLES_DIR = QUERIES_DIR / "examples"
CHECKS_DIR = QUERIES_DIR / "checks"


def dist_dir() -> Path:
    """The build output folder (read at call time so tests can redirect it)."""
    return Path(os.environ.get("DCDR_DIST", PROJECT_ROOT / "dist"))


@dataclass(frozen=True)
class Project:
    """One project root (sources) and the dist link its builds are published to."""

    root: Path
    dist: Path

    @classmethod
    def from_env(cls, root: Path | str | None = None, dist: Path | str | None = None) -> Project:
        """Explicit arguments win over `DCDR_ROOT` / `DCDR_DIST`, which win over this checkout.

        The environment is read at call time (not import time) so that tests and the CLI can
        redirect a build after `graph` has been imported.
        """
        chosen_root = Path(root or os.environ.get("DCDR_ROOT") or DEFAULT_ROOT).resolve()
        chosen_dist = Path(dist or os.environ.get("DCDR_DIST") or chosen_root / "dist")
        # Not resolved: `dist` is a symlink and must stay one.
        return cls(root=chosen_root, dist=chosen_dist.absolute())

    @property
    def source_file(self) -> Path:
        return self.root / "graph" / "source" / SOURCE_NAME

    @property
    def facts_dir(self) -> Path:
        return self.root / "graph" / "facts"

    @property
    def links_dir(self) -> Path:
        return self.facts_dir / "links"

    @property
    def background_dir(self) -> Path:
        return self.facts_dir / "background"

    @property
    def ontology_file(self) -> Path:
        return self.root / "ontology" / "dcdr.ttl"

    @property
    def shapes_file(self) -> Path:
        return self.root / "ontology" / "shapes.ttl"

    @property
    def checks_dir(self) -> Path:
        return self.root / "queries" / "checks"

    @property
    def pyproject(self) -> Path:
        return self.root / "pyproject.toml"

    @property
    def builds_dir(self) -> Path:
        """Where complete builds live; `dist` points at one of them.

        A sibling of `dist`, so that swapping the link never crosses a file system and the
        link can stay relative.
        """
        return self.dist.parent / ".dist-builds"

    def facts_files(self) -> list[Path]:
        return sorted(self.facts_dir.glob("*.ttl")) if self.facts_dir.is_dir() else []

    def links_files(self) -> list[Path]:
        return sorted(self.links_dir.glob("*.ttl")) if self.links_dir.is_dir() else []

    def background_files(self) -> list[Path]:
        return sorted(self.background_dir.glob("*.ttl")) if self.background_dir.is_dir() else []

    def check_files(self) -> list[Path]:
        return sorted(self.checks_dir.glob("*.rq")) if self.checks_dir.is_dir() else []
