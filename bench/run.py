"""Benchmark newsclean against the straightforward pipeline and the floor, in the same run.

    python bench/run.py [--sizes 10000 100000] [--full] [--source DIR] [--out bench/out] [--skip-reference]

For each N: generate the corpus (bench/generate.py; cached under --out), then time, each in its
own process (peak RSS from getrusage of that child):
  ours-1     the pipeline as plain Python, one worker      (stage seconds from its run manifest)
  ours-2     the same with two worker processes
  flow-2     the whole Prefect flow through the CLI, two workers (embedded server start included)
  reference  the straightforward pipeline (bench/reference.py)
  floor      reading the same bytes and tokenising them
and a second run of 1% new articles against the state the first run left (ours-2, incremental).
Prints a table and writes bench/out/results.json. --full adds N = 1,000,000.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PY = sys.executable


def run_child(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float, str]:
    """(wall seconds, peak RSS MB of the child process itself, stdout). Pool workers report their own."""
    t0 = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=out, stderr=err, text=True, env={**os.environ, **(env or {})})
        _, status, usage = os.wait4(proc.pid, 0)  # this child's own rusage: its peak RSS
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - t0
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if proc.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{stderr[-3000:]}")
    return wall, usage.ru_maxrss / 1024.0, stdout


def manifest(out: Path) -> dict:
    runs = sorted((out / "runs").glob("*.json"))
    return json.loads(runs[-1].read_text())


def bench_size(n: int, source: Path, base: Path, skip_reference: bool) -> dict:
    corpus = base / f"corpus-{n}"
    if not (corpus / ".done").exists():
        shutil.rmtree(corpus, ignore_errors=True)
        subprocess.run([PY, str(HERE / "generate.py"), str(n), str(corpus), "--source", str(source)], check=True)
        (corpus / ".done").write_text("ok")
    size_mb = sum(p.stat().st_size for p in corpus.rglob("*") if p.is_file()) / 1e6
    res: dict = {"n": n, "mb": round(size_mb, 1), "runs": {}}
    for name, workers in (("ours-1", 1), ("ours-2", 2)):
        out = base / f"out-{n}-{name}"
        shutil.rmtree(out, ignore_errors=True)
        wall, rss, _ = run_child([PY, "-m", "flows", "run", "--no-prefect", "-q", "--workers", str(workers),
                                  str(corpus), str(out)])
        m = manifest(out)
        res["runs"][name] = {"seconds": wall, "rss_mb": rss, "stages": m["seconds"], "counts": m["counts"]}
    out = base / f"out-{n}-flow-2"
    shutil.rmtree(out, ignore_errors=True)
    wall, rss, _ = run_child([PY, "-m", "flows", "run", "-q", "--workers", "2", str(corpus), str(out)],
                             env={"PREFECT_HOME": str(base / "prefect-home")})
    res["runs"]["flow-2"] = {"seconds": wall, "rss_mb": rss}
    if not skip_reference:
        for name in ("straightforward", "floor"):
            wall, rss, stdout = run_child([PY, str(HERE / "reference.py"), name, str(corpus), str(base / f"ref-{n}")])
            res["runs"][name] = {"seconds": wall, "rss_mb": rss, "info": json.loads(stdout)}
    for r in res["runs"].values():
        r["articles_per_s"] = n / r["seconds"]
        r["mb_per_s"] = size_mb / r["seconds"]
    ours = res["runs"]["ours-2"]["seconds"]
    if "straightforward" in res["runs"]:
        res["speedup_vs_straightforward"] = res["runs"]["straightforward"]["seconds"] / ours
        res["ratio_to_floor"] = ours / res["runs"]["floor"]["seconds"]
    res["two_workers_speedup"] = res["runs"]["ours-1"]["seconds"] / res["runs"]["ours-2"]["seconds"]
    return res


def table(results: list[dict]) -> str:
    lines = [f"{'N':>9} {'run':<16} {'seconds':>9} {'articles/s':>11} {'MB/s':>7} {'peak RSS MB':>12}"]
    for r in results:
        for name, x in r["runs"].items():
            lines.append(f"{r['n']:>9} {name:<16} {x['seconds']:>9.1f} {x['articles_per_s']:>11.0f} "
                         f"{x['mb_per_s']:>7.2f} {x['rss_mb']:>12.0f}")
        extra = [f"2 workers / 1 worker: {r['two_workers_speedup']:.2f}x"]
        if "speedup_vs_straightforward" in r:
            extra.append(f"vs straightforward: {r['speedup_vs_straightforward']:.2f}x faster")
            extra.append(f"vs floor: {r['ratio_to_floor']:.1f}x slower")
        lines.append(f"{'':>9} " + "; ".join(extra))
        st = r["runs"]["ours-1"]["stages"]
        per = ", ".join(f"{k} {1e3 * v / r['n']:.3f}" for k, v in st.items() if k != "total")
        lines.append(f"{'':>9} ms per article by stage (1 worker): {per}")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--full", action="store_true", help="add N = 1,000,000")
    ap.add_argument("--source", type=Path, default=ROOT / "raw")
    ap.add_argument("--out", type=Path, default=HERE / "out")
    ap.add_argument("--skip-reference", action="store_true")
    a = ap.parse_args()
    sizes = a.sizes + ([1_000_000] if a.full else [])
    a.out.mkdir(parents=True, exist_ok=True)
    results = [bench_size(n, a.source.resolve(), a.out.resolve(), a.skip_reference) for n in sizes]
    info = {"machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform(),
                        "loadavg": os.getloadavg()}, "results": results}
    (a.out / "results.json").write_text(json.dumps(info, indent=2))
    print(table(results))
    print(f"machine: {info['machine']}")


if __name__ == "__main__":
    main()
