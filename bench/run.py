"""Benchmark newsclean against the straightforward pipeline and the floor, in the same run.

    python bench/run.py [--sizes [N ...]] [--full] [--source DIR] [--out bench/out] [--skip-reference]
                        [--delta 10000] [--html-source DIR [--html-pages 1000] [--html-repeat 3]]

For each N: generate the corpus (bench/generate.py; cached under --out), then time, each in its
own process (peak RSS: the sampled sum over the process and its workers, see run_child):
  ours-1     the pipeline as plain Python, one worker      (stage seconds from its run manifest)
  ours-2     the same with two worker processes
  flow-2     the whole Prefect flow through the CLI, two workers (embedded server start included)
  reference  the straightforward pipeline (bench/reference.py)
  floor      reading the same bytes and tokenising them
and a later run of --delta new articles (another batch of the same stream) against the state the
ours-2 run left, beside the same run into an empty folder. With --html-source: HTML pages through
trafilatura alone and through newsclean with one and two workers (our overhead on top of the
extraction: the median of --html-repeat interleaved pairs; inside each of our runs its wall time
against its own seconds in trafilatura's extraction; and that ratio against trafilatura alone's own,
which also starts a process, imports and reads the pages: the net overhead; and, from runs of each
on the first page alone, each process's fixed cost and the overhead a page without it). Prints tables and writes
bench/out/results.json. --full adds N = 1,000,000; `--sizes` with no N measures only the HTML pages.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PY = sys.executable


def run_child(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float, str]:
    """(wall seconds, peak RSS MB of the child's whole process tree, stdout).

    RSS is sampled every 50 ms over the child and all its descendants (pool workers included) and
    summed: the peak of that sum. A spike shorter than a sample can be missed; shared pages are
    counted once per process, so the figure errs high."""
    import threading

    import psutil

    t0 = time.perf_counter()
    peak = 0
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=out, stderr=err, text=True, env={**os.environ, **(env or {})})
        done = threading.Event()

        def sample() -> None:
            nonlocal peak
            try:
                root = psutil.Process(proc.pid)
            except psutil.Error:
                return
            while not done.is_set():
                total = 0
                try:
                    for p in [root, *root.children(recursive=True)]:
                        with contextlib.suppress(psutil.Error):
                            total += p.memory_info().rss
                except psutil.Error:
                    pass
                peak = max(peak, total)
                done.wait(0.05)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        proc.wait()
        done.set()
        sampler.join()
        wall = time.perf_counter() - t0
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if proc.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{stderr[-3000:]}")
    return wall, peak / 1e6, stdout


def manifest(out: Path) -> dict:
    runs = sorted((out / "runs").glob("*.json"))
    return json.loads(runs[-1].read_text())


def bench_size(n: int, source: Path, base: Path, skip_reference: bool, delta: int = 0) -> dict:
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
    if delta:
        res["incremental"] = incremental(n, delta, source, base)
    return res


def incremental(n: int, delta: int, source: Path, base: Path) -> dict:
    """A later run of `delta` new articles (another batch of the same stream) against the state the
    N-article run left (ours-2's output folder), and the same run into an empty folder."""
    corpus = base / f"delta-{delta}"
    if not (corpus / ".done").exists():
        shutil.rmtree(corpus, ignore_errors=True)
        subprocess.run([PY, str(HERE / "generate.py"), str(delta), str(corpus), "--source", str(source),
                        "--seed", "2", "--prefix", "later-"], check=True)
        (corpus / ".done").write_text("ok")
    cmd = [PY, "-m", "flows", "run", "--no-prefect", "-q", "--workers", "2", str(corpus)]
    empty = base / f"out-delta-{delta}-empty"
    shutil.rmtree(empty, ignore_errors=True)
    wall_empty, rss_empty, _ = run_child([*cmd, str(empty)])
    against = base / f"out-{n}-ours-2"
    wall_state, rss_state, _ = run_child([*cmd, str(against)])
    m = manifest(against)
    return {"new_articles": delta, "index_articles_before": m["dedupe"]["index_articles_before"],
            "seconds_empty_state": wall_empty, "seconds_with_state": wall_state,
            "ratio": wall_state / wall_empty, "rss_mb_empty_state": rss_empty, "rss_mb_with_state": rss_state,
            "dedupe_seconds_with_state": m["seconds"].get("dedupe")}


def bench_html(pages: int, source: Path, base: Path, repeat: int = 3) -> dict:
    """HTML input: trafilatura's own extraction alone (one process) vs newsclean with one and two
    workers on the same pages (the .html/.html.gz files under `source`, cycled up to `pages`).

    The overhead is a small difference between two long runs on a shared machine, so trafilatura
    alone and newsclean with one worker run `repeat` times, interleaved (each pair back to back, the
    order alternating from pair to pair, so that a machine speeding up or slowing down through the
    benchmark favours neither): the overhead reported is the median of the pairs' ratios; each
    run's seconds are its best."""
    corpus = base / f"html-{pages}"
    if not (corpus / ".done").exists():
        shutil.rmtree(corpus, ignore_errors=True)
        found = sorted(p for p in source.rglob("*") if p.name.endswith((".html", ".htm", ".html.gz", ".htm.gz")))
        if not found:
            raise SystemExit(f"no HTML pages under {source}")
        for i in range(pages):
            src = found[i % len(found)]
            d = corpus / f"{i // 1000:04d}"
            d.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, d / f"page-{i:06d}{''.join(src.suffixes[-2:]) if src.suffix == '.gz' else src.suffix}")
        (corpus / ".done").write_text("ok")
    one = base / f"{corpus.name}-first"  # its first page alone: what a run costs before its pages (process, imports)
    if not (one / ".done").exists():
        shutil.rmtree(one, ignore_errors=True)
        first = min(p for p in corpus.rglob("*") if p.is_file() and p.name.startswith("page-"))
        (one / "0000").mkdir(parents=True)
        shutil.copyfile(first, one / "0000" / first.name)
        (one / ".done").write_text("ok")
    res: dict = {"pages": pages, "runs": {}}

    def ours(name: str, workers: int, pages_dir: Path = corpus) -> dict:
        out = base / f"out-{pages_dir.name}-{name}"
        shutil.rmtree(out, ignore_errors=True)
        wall, rss, _ = run_child([PY, "-m", "flows", "run", "--no-prefect", "-q", "--workers", str(workers),
                                  str(pages_dir), str(out)])
        return {"seconds": wall, "rss_mb": rss, "stages": manifest(out)["seconds"]}

    def alone(pages_dir: Path) -> dict:
        wall, rss, stdout = run_child([PY, str(HERE / "reference.py"), "trafilatura", str(pages_dir), str(base / "ref-html")])
        return {"seconds": wall, "rss_mb": rss, "info": json.loads(stdout)}

    # Each process's fixed cost: its wall time on one page less that page's extraction (median of
    # `repeat` runs of each, interleaved).
    fixed = [(alone(one), ours("ours-1", 1, one)) for _ in range(max(1, repeat))]
    fixed_alone = statistics.median(a["seconds"] - a["info"]["extract_seconds"] for a, _ in fixed)
    fixed_ours = statistics.median(b["seconds"] - b["stages"]["html_extract"] for _, b in fixed)
    res["fixed_seconds"] = {"ours": fixed_ours, "trafilatura": fixed_alone}

    pairs = []
    for i in range(max(1, repeat)):
        if i % 2 == 0:
            a = alone(corpus)
            pairs.append((a, ours("ours-1", 1)))
        else:
            b = ours("ours-1", 1)
            pairs.append((alone(corpus), b))
    res["runs"]["trafilatura"] = min((a for a, _ in pairs), key=lambda r: r["seconds"])
    res["runs"]["ours-1"] = min((b for _, b in pairs), key=lambda r: r["seconds"])
    res["runs"]["ours-2"] = ours("ours-2", 2)
    for r in res["runs"].values():
        r["pages_per_s"] = pages / r["seconds"]
    ratios = [b["seconds"] / a["seconds"] - 1 for a, b in pairs]
    res["overhead_one_worker"] = statistics.median(ratios)
    res["overhead_pairs"] = ratios
    # the same overhead inside each of our runs: its whole wall time (process start included) against
    # the seconds it spent in trafilatura's extraction (the `html_extract` stage), so that a machine
    # that slows down between two runs of a pair does not move it
    inside = [b["seconds"] / b["stages"]["html_extract"] - 1 for _, b in pairs if b["stages"].get("html_extract")]
    if inside:
        res["overhead_in_run"] = statistics.median(inside)
        res["overhead_in_runs"] = inside
    # trafilatura alone also starts a process, imports, reads and gunzips the pages: its own wall
    # time against its seconds in the extraction. Our overhead on top of it, each run's wall time
    # taken per second of its own extraction (so neither run's machine speed counts):
    # (ours wall / ours extract) / (alone wall / alone extract) - 1, per pair, median.
    timed = [(a, b) for a, b in pairs if b["stages"].get("html_extract") and a["info"].get("extract_seconds")]
    net = [(b["seconds"] / b["stages"]["html_extract"]) / (a["seconds"] / a["info"]["extract_seconds"]) - 1
           for a, b in timed]
    if net:
        res["overhead_net"] = statistics.median(net)
        res["overhead_nets"] = net
        res["alone_own_share"] = statistics.median(a["seconds"] / a["info"]["extract_seconds"] - 1 for a, _ in timed)
        # the same with each process's fixed cost taken out: what every further page costs on top of
        # its extraction, and from it the page count above which the net overhead is under 10%
        per_page = [((b["seconds"] - fixed_ours) / b["stages"]["html_extract"])
                    / ((a["seconds"] - fixed_alone) / a["info"]["extract_seconds"]) - 1 for a, b in timed]
        res["overhead_per_page"] = statistics.median(per_page)
        res["overhead_per_pages"] = per_page
        extract = statistics.median(b["stages"]["html_extract"] for _, b in timed)
        extract_per_page = extract / pages
        # with few pages the fixed costs' run-to-run noise is as large as the pages' work
        res["per_page_reliable"] = extract >= 10 * (fixed_ours + fixed_alone)
        room = 0.10 - res["overhead_per_page"]
        res["pages_for_10_percent"] = (math.ceil((fixed_ours - fixed_alone) / (room * extract_per_page))
                                       if room > 0 else None)
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
        inc = r.get("incremental")
        if inc:
            lines.append(f"{'':>9} later run of {inc['new_articles']:,} new articles: {inc['seconds_empty_state']:.1f} s "
                         f"into an empty folder, {inc['seconds_with_state']:.1f} s against the state of "
                         f"{inc['index_articles_before']:,} articles ({inc['ratio']:.2f}x)")
    return "\n".join(lines)


def html_table(r: dict) -> str:
    lines = [f"{'pages':>9} {'run':<16} {'seconds':>9} {'pages/s':>11} {'peak RSS MB':>12}"]
    for name, x in r["runs"].items():
        lines.append(f"{r['pages']:>9} {name:<16} {x['seconds']:>9.1f} {x['pages_per_s']:>11.1f} {x['rss_mb']:>12.0f}")
    pairs = ", ".join(f"{100 * x:+.0f}%" for x in r.get("overhead_pairs", []))
    lines.append(f"{'':>9} overhead on top of trafilatura, one worker: {100 * r['overhead_one_worker']:+.0f}% "
                 f"(median of interleaved pairs: {pairs}; seconds above: each run's best); "
                 f"2 workers / 1 worker: {r['two_workers_speedup']:.2f}x")
    if "overhead_in_run" in r:
        runs = ", ".join(f"{100 * x:+.1f}%" for x in r["overhead_in_runs"])
        lines.append(f"{'':>9} overhead inside our one-worker runs (wall time against their own seconds in "
                     f"trafilatura's extraction): {100 * r['overhead_in_run']:+.1f}% (median of {runs})")
    if "overhead_net" in r:
        runs = ", ".join(f"{100 * x:+.1f}%" for x in r["overhead_nets"])
        lines.append(f"{'':>9} trafilatura alone, the same way: {100 * r['alone_own_share']:+.1f}% (process, imports, "
                     f"reading, gunzip); our overhead on top of it, each run per second of its own extraction: "
                     f"{100 * r['overhead_net']:+.1f}% (median of {runs})")
    if "overhead_per_page" in r:
        f = r["fixed_seconds"]
        if r.get("per_page_reliable", True):
            runs = ", ".join(f"{100 * x:+.1f}%" for x in r["overhead_per_pages"])
            under = (f"under 10% from {r['pages_for_10_percent']:,} pages a run" if r["pages_for_10_percent"]
                     else "over 10% at any page count")
            per_page = f"overhead a page without them: {100 * r['overhead_per_page']:+.1f}% (median of {runs}), so {under}"
        else:
            per_page = ("too few pages to tell the overhead a page from them (the pages' extraction should take "
                        "ten times both fixed costs)")
        lines.append(f"{'':>9} fixed cost a process (one page, less its extraction): ours {f['ours']:.2f} s, "
                     f"trafilatura alone {f['trafilatura']:.2f} s; {per_page}")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="*", default=[10_000, 100_000])
    ap.add_argument("--full", action="store_true", help="add N = 1,000,000")
    ap.add_argument("--source", type=Path, default=ROOT / "raw")
    ap.add_argument("--out", type=Path, default=HERE / "out")
    ap.add_argument("--skip-reference", action="store_true")
    ap.add_argument("--delta", type=int, default=10_000,
                    help="new articles of the later run measured against each N's state (0: skip)")
    ap.add_argument("--html-source", type=Path, help="a folder of HTML pages: also measure HTML input")
    ap.add_argument("--html-pages", type=int, default=1000)
    ap.add_argument("--html-repeat", type=int, default=3,
                    help="interleaved pairs of trafilatura alone and newsclean with one worker (median ratio)")
    a = ap.parse_args()
    sizes = a.sizes + ([1_000_000] if a.full else [])
    a.out.mkdir(parents=True, exist_ok=True)
    machine = {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform(),
               "loadavg_start": os.getloadavg()}
    results = [bench_size(n, a.source.resolve(), a.out.resolve(), a.skip_reference, a.delta) for n in sizes]
    html = bench_html(a.html_pages, a.html_source.resolve(), a.out.resolve(), a.html_repeat) if a.html_source else None
    machine["loadavg_end"] = os.getloadavg()
    info = {"machine": machine, "results": results, "html": html}
    (a.out / "results.json").write_text(json.dumps(info, indent=2))
    print(table(results))
    if html:
        print(html_table(html))
    print(f"machine: {machine}")


if __name__ == "__main__":
    main()
