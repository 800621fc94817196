"""Times the real build: each stage and the total, in-process and as a fresh `dcdr build`.

    .venv/bin/python bench/build.py [--runs N]

Builds go to a temporary dist folder, so the project's own `dist/` is not touched. The
in-process runs show where the time goes (stage by stage, CPU and wall); the subprocess runs
add what a user waits for on top: interpreter start and imports. The figures are printed, not
asserted (the target is under 10 s on a 2-core machine).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from graph.build import build  # noqa: E402
from graph.paths import Project  # noqa: E402
from graph.problems import BuildFailed  # noqa: E402


def in_process(runs: int, dist: Path) -> None:
    project = Project(root=ROOT, dist=dist)
    per_stage: dict[str, list[float]] = {}
    totals: list[float] = []
    cpu: list[float] = []
    for _ in range(runs):
        start = time.process_time()
        result = build(project)
        cpu.append(time.process_time() - start)
        totals.append(result.stages.total)
        for stage, seconds in result.stages.times:
            per_stage.setdefault(stage, []).append(seconds)
    print(f"in-process builds ({runs}), wall seconds: median (min-max)")
    for stage, times in per_stage.items():
        print(f"  {stage:9s} {statistics.median(times):6.2f} ({min(times):.2f}-{max(times):.2f})")
    print(f"  {'total':9s} {statistics.median(totals):6.2f} ({min(totals):.2f}-{max(totals):.2f})")
    print(f"  {'cpu':9s} {statistics.median(cpu):6.2f} ({min(cpu):.2f}-{max(cpu):.2f})")


def subprocess_runs(runs: int, dist: Path) -> None:
    env = dict(os.environ, DCDR_ROOT=str(ROOT), DCDR_DIST=str(dist), PYTHONPATH=str(ROOT))
    walls = []
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "graph.cli", "build"],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        walls.append(time.perf_counter() - start)
        if done.returncode != 0:
            print(done.stderr, file=sys.stderr)
            raise SystemExit(f"`dcdr build` failed with exit code {done.returncode}")
    print(f"`dcdr build` in a fresh process ({runs}), wall seconds:")
    print(f"  median {statistics.median(walls):.2f}, min {min(walls):.2f}, max {max(walls):.2f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="builds per method (default 3)")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory(prefix="dcdr-bench-") as folder:
        try:
            in_process(args.runs, Path(folder) / "dist")
        except BuildFailed as failure:
            print(failure.report(), file=sys.stderr)
            return 1
        subprocess_runs(args.runs, Path(folder) / "dist")
    return 0


if __name__ == "__main__":
    sys.exit(main())
