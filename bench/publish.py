"""Publish benchmark: time and peak memory of `dcdr publish` into an Oxigraph server and a
Virtuoso, at graphs of the real one's shape (bench/scale.py's synthetic reports).

    python bench/publish.py --dist dist [--sizes 90000,900000] [--stores oxigraph,virtuoso]
                            [--old-publisher REV]

For each size a dist holding only `dcdr.nq` is written; for each store a fresh server is
started and the publisher runs in a subprocess of its own, which prints its wall time and its
peak resident memory (VmHWM, the whole process: interpreter and libraries included; not
`ru_maxrss`, which a child inherits from the forked bench process across exec). The
blue/green streaming publisher (graph/publish_blue_green.py) publishes twice (a second build
beside the first, as at every deploy). With `--old-publisher REV` the publisher of git revision
REV (its `publish()`, which read the whole dataset into memory) is run too, into a fresh store.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pyoxigraph as ox

BENCH = Path(__file__).resolve().parent
PROJECT = BENCH.parent
sys.path[:0] = [str(BENCH), str(PROJECT)]

import peers  # noqa: E402
from compare import machine  # noqa: E402
from scale import PER_UNIT, base_quads, synthetic_quads  # noqa: E402

VIRTUOSO_AUTH = "dba:dba"

# Runs in the measured process: only the publisher's own imports and work.
# ru_maxrss survives exec: a child forked from this (large) bench process would report the
# bench's size. VmHWM is the peak of the process's own memory since its exec; ru_maxrss is kept
# as a cross-check when it is larger than the fork's parent.
PEAK = """
import resource
def peak_kb():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
"""
NEW = (
    PEAK
    + """
import resource, sys, time, json
from pathlib import Path
started = time.perf_counter()
from graph.publish_blue_green import publish_blue_green
auth = tuple(sys.argv[3].split(":", 1)) if sys.argv[3] else None
done = publish_blue_green(Path(sys.argv[1]), sys.argv[2], auth)
assert done.switched and all(c.ok for c in done.counts), done
print(json.dumps({"seconds": time.perf_counter() - started,
                  "maxrss_kb": peak_kb(),
                  "triples": sum(c.expected for c in done.counts)}))
"""
)
OLD = (
    PEAK
    + """
import resource, sys, time, json
from pathlib import Path
sys.path.insert(0, sys.argv[4])
started = time.perf_counter()
from old_publish import publish
auth = tuple(sys.argv[3].split(":", 1)) if sys.argv[3] else None
counts = publish(Path(sys.argv[1]), sys.argv[2], auth)
assert all(c.ok for c in counts), counts
print(json.dumps({"seconds": time.perf_counter() - started,
                  "maxrss_kb": peak_kb(),
                  "triples": sum(c.expected for c in counts)}))
"""
)


def write_size(target: int, base: list[ox.Quad], folder: Path, variant: int) -> int:
    """A dist of about `target` quads (`variant` changes one literal: another build)."""
    units = max(0, int((target - len(base)) / PER_UNIT))
    store = ox.Store()
    store.extend(base)
    store.extend(synthetic_quads(units))
    facts = ox.NamedNode("https://w3id.org/dcdr/graph/facts")
    marker = ox.NamedNode("https://w3id.org/dcdr/id/build-marker")
    label = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
    store.add(ox.Quad(marker, label, ox.Literal(f"build {variant}"), facts))
    folder.mkdir(parents=True)
    store.dump(output=str(folder / "dcdr.nq"), format=ox.RdfFormat.N_QUADS)
    return len(store)


def run_publisher(script: str, dist: Path, to: str, auth: str, extra: list[str]) -> dict[str, Any]:
    command = [sys.executable, "-c", script, str(dist), to, auth, *extra]
    env = {**os.environ, "PYTHONPATH": str(PROJECT)}
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=PROJECT)
    if done.returncode != 0:
        # Reported, not fatal: a publisher that fails at a size is a figure too.
        lines = done.stderr.strip().splitlines() or ["(no message)"]
        return {"failed": lines[-1][:300], "seconds": time.perf_counter() - started}
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def stores(
    names: list[str],
) -> Iterator[tuple[str, Callable[[Path], AbstractContextManager[peers.Peer]], str]]:
    for name in names:
        if name == "oxigraph":
            yield name, peers.oxigraph_writable, ""
        elif name == "virtuoso":
            yield name, peers.virtuoso, VIRTUOSO_AUTH
        else:
            raise SystemExit(f"unknown store {name!r}")


def old_publisher(rev: str, folder: Path) -> Path:
    source = subprocess.run(
        ["git", "show", f"{rev}:graph/publish.py"],
        capture_output=True,
        text=True,
        check=True,
        cwd=PROJECT,
    ).stdout
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "old_publish.py").write_text(source)
    return folder


def report(label: str, figures: dict[str, Any]) -> None:
    if "failed" in figures:
        print(f"  {label:<28} FAILED after {figures['seconds']:.1f} s: {figures['failed']}")
        return
    rate = figures["triples"] / figures["seconds"]
    print(
        f"  {label:<28} {figures['seconds']:8.1f} s  {figures['maxrss_kb'] / 1024:7.0f} MB peak"
        f"  ({int(figures['triples']):,} triples, {rate:,.0f}/s)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dist", type=Path, required=True, help="a built dist (its dcdr.nq)")
    parser.add_argument("--sizes", default="90000,900000")
    parser.add_argument("--stores", default="oxigraph,virtuoso")
    parser.add_argument("--old-publisher", metavar="REV", help="also run REV's publisher")
    args = parser.parse_args(argv)
    print(f"machine: {machine()}; load average {os.getloadavg()[0]:.1f} at start")
    print(time.strftime("date: %Y-%m-%d %H:%M UTC", time.gmtime()))
    base = base_quads(args.dist)
    with tempfile.TemporaryDirectory(prefix="dcdr-publish-bench-") as tmp:
        work = Path(tmp)
        old = old_publisher(args.old_publisher, work / "old") if args.old_publisher else None
        for size in (int(s) for s in args.sizes.split(",")):
            blue, green = work / f"{size}-blue", work / f"{size}-green"
            quads = write_size(size, base, blue, 1)
            write_size(size, base, green, 2)
            print(
                f"\n== {quads:,} quads ({(blue / 'dcdr.nq').stat().st_size / 1e6:.0f} MB N-Quads)"
            )
            for name, start, auth in stores(args.stores.split(",")):
                place = work / f"{size}-{name}"
                place.mkdir()
                with start(place) as peer:
                    assert peer.store_url is not None
                    first = run_publisher(NEW, blue, peer.store_url, auth, [])
                    report(f"{name}: streaming, 1st build", first)
                    second = run_publisher(NEW, green, peer.store_url, auth, [])
                    report(f"{name}: streaming, 2nd build", second)
                if old is not None:
                    place = work / f"{size}-{name}-old"
                    place.mkdir()
                    with start(place) as peer:
                        assert peer.store_url is not None
                        figures = run_publisher(OLD, blue, peer.store_url, auth, [str(old)])
                        report(f"{name}: old ({args.old_publisher})", figures)
                print(f"  load average now {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
