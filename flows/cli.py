"""The `newsclean` command line."""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any, NoReturn

from flows import prefect_env, quickexit, tempserver
from flows.config import RunConfig

EPILOG = """\
examples:
  newsclean run                      clean raw/ into output/ through the Prefect flow
  newsclean run scraped/ clean/      any input and output folder
  newsclean run --no-prefect         the same pipeline as plain Python (no Prefect server, faster start)

Output tables (Parquet, one new file per run): articles/, duplicates/, removals/, rejects/;
run manifests in runs/<run_id>.json; state for later runs in state/. Inputs already processed by
an earlier run into the same output folder are skipped (see --reprocess).
"""


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="newsclean", description="Clean and deduplicate scraped news articles into Parquet.",
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=EPILOG)
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    r = sub.add_parser("run", help="run the clean-news flow over a folder of scraped files",
                       description="Run the clean-news Prefect flow: ingest every file under RAW_DIR "
                                   "(.txt, .html/.htm, .json, .jsonl/.ndjson, and their .gz), strip debris, "
                                   "collapse duplicates and write Parquet tables under OUT_DIR.",
                       formatter_class=argparse.RawDescriptionHelpFormatter, epilog=EPILOG)
    r.add_argument("raw_dir", nargs="?", default="raw", metavar="RAW_DIR",
                   help="folder of scraped input, walked recursively (default: raw)")
    r.add_argument("out_dir", nargs="?", default="output", metavar="OUT_DIR",
                   help="output folder for the Parquet tables, manifests and state (default: output)")
    r.add_argument("--batch-files", type=int, default=RunConfig.batch_files, metavar="N",
                   help="at most N input files per batch task (default: %(default)s)")
    r.add_argument("--batch-mb", type=int, default=RunConfig.batch_bytes // (1024 * 1024), metavar="MB",
                   help="at most MB megabytes of raw input per batch task (default: %(default)s)")
    r.add_argument("--workers", type=int, default=1, metavar="N",
                   help="worker processes for reading and cleaning batches (default: %(default)s; "
                        "use the number of cores for large runs)")
    r.add_argument("--dask-address", metavar="tcp://HOST:PORT",
                   help="run the batch tasks on an existing Dask cluster (prefect-dask's DaskTaskRunner); "
                        "--workers then says how many batches are in flight")
    r.add_argument("--limit", action="append", default=[], metavar="NAME=VALUE",
                   help="change a limit on hostile input, e.g. --limit max_file_bytes=1e9 (repeatable; names: "
                        + ", ".join(RunConfig.LIMITS) + ")")
    r.add_argument("--max-reject-share", type=float, default=None, metavar="SHARE",
                   help="exit with status 4 when more than SHARE (0-1) of the input records were rejected "
                        "(everything is still written); by default rejects never fail a run")
    r.add_argument("--warn-reject-share", type=float, default=RunConfig.warn_reject_share, metavar="SHARE",
                   help="warn (summary, manifest, run logs) when more than SHARE of the records were rejected "
                        "(default: %(default)s)")
    r.add_argument("--reprocess", action="store_true",
                   help="process every input again, even files the ledger in OUT_DIR/state says are unchanged")
    r.add_argument("--rules", action="append", default=[], metavar="FILE",
                   help="extra debris rules (TOML, the format of cleaners/catalogue.toml, with optional "
                        "per-site sections); repeatable")
    r.add_argument("--no-prefect", action="store_true",
                   help="run the same pipeline as plain Python, without Prefect (no flow-run history or artifact)")
    r.add_argument("--json", action="store_true", help="print the run manifest as JSON instead of the summary")
    r.add_argument("-q", "--quiet", action="store_true", help="no progress bar and no summary")
    sv = sub.add_parser("serve", help="run the flow on a schedule (cron) through Prefect's scheduler",
                        description="Serve the clean-news flow with a cron schedule. Without PREFECT_API_URL a "
                                    "local Prefect server is started (PREFECT_HOME in OUT_DIR/.prefect) and stopped "
                                    "on exit. Each run processes only new or changed inputs.")
    sv.add_argument("raw_dir", nargs="?", default="raw", metavar="RAW_DIR")
    sv.add_argument("out_dir", nargs="?", default="output", metavar="OUT_DIR")
    sv.add_argument("--cron", required=True, metavar="EXPR", help='cron schedule, e.g. "0 * * * *" (hourly)')
    sv.add_argument("--name", default="scheduled", help="deployment name (default: %(default)s)")
    sv.add_argument("--port", type=int, default=None, help="port of the local server (default: a free one)")
    sv.add_argument("--workers", type=int, default=1, metavar="N", help="worker processes per run")
    rp = sub.add_parser("report", help="print what a run did (or write it as an HTML page)",
                        description="What a run did: inputs seen, new, skipped; articles kept, duplicates, rejects by "
                                    "reason; removals by rule; the largest duplicate clusters; seconds per stage.")
    rp.add_argument("out_dir", nargs="?", default="output", metavar="OUT_DIR")
    rp.add_argument("--run", metavar="RUN_ID", help="a run id from OUT_DIR/runs (default: the latest finished run)")
    rp.add_argument("--html", metavar="FILE", help="write a self-contained HTML page with charts to FILE")
    ex = sub.add_parser("explain", help="show one article's journey: removals, duplicates, matches",
                        description="Show one article's source, every line removed with its rule, and the "
                                    "duplicates it absorbed or the survivor it matched.")
    ex.add_argument("out_dir", metavar="OUT_DIR")
    ex.add_argument("article_id", metavar="ARTICLE_ID")
    return p


class _DelayedBar:
    """A progress bar on stderr that appears only once a run has lasted a few seconds."""

    def __init__(self, delay: float = 2.0, enabled: bool = True) -> None:
        self.t0 = time.monotonic()
        self.delay = delay
        self.enabled = enabled and sys.stderr.isatty()
        self.progress: Any = None
        self.tasks: dict[str, Any] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self.enabled:
            return
        if self.progress is None:
            if time.monotonic() - self.t0 < self.delay:
                return
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self.progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                     TimeElapsedColumn(), console=Console(stderr=True), transient=True)
            self.progress.start()
        if stage not in self.tasks:
            label = {"ingest": "reading input", "clean": "cleaning", "write": "writing tables"}.get(stage, stage)
            self.tasks[stage] = self.progress.add_task(label, total=total)
        self.progress.update(self.tasks[stage], completed=done, total=total)

    def close(self) -> None:
        if self.progress is not None:
            self.progress.stop()


def _run(args: argparse.Namespace) -> int:
    from flows.pipeline import TooManyRejects, UsageError, check_dirs
    from flows.state import OutputLocked

    try:
        limits = {k.strip(): float(v) for k, _, v in (item.partition("=") for item in args.limit)}
        RunConfig().with_limits(limits)
    except ValueError as exc:
        print(f"newsclean: error: --limit: {exc} (use NAME=NUMBER)", file=sys.stderr)
        return 2
    if args.max_reject_share is not None and not 0 <= args.max_reject_share <= 1:
        print("newsclean: error: --max-reject-share must be between 0 and 1", file=sys.stderr)
        return 2
    if args.batch_files < 1 or args.batch_mb < 1 or args.workers < 1:
        print("newsclean: error: --batch-files, --batch-mb and --workers must be at least 1", file=sys.stderr)
        return 2
    server = None
    if not args.no_prefect and not args.dask_address:
        server = tempserver.start()  # Prefect's temporary server starts while the rest is imported
    try:
        check_dirs(args.raw_dir, args.out_dir)
        from cleaners.patterns import CatalogueError, catalogue_with

        try:
            catalogue_with(tuple(args.rules))
        except CatalogueError as exc:
            raise UsageError(str(exc)) from None
    except UsageError as exc:
        print(f"newsclean: error: {exc}", file=sys.stderr)
        return 2
    bar = _DelayedBar(enabled=not args.quiet and not args.json)
    try:
        if args.no_prefect and args.dask_address:
            raise UsageError("--dask-address needs the Prefect flow; drop --no-prefect")
        if args.no_prefect:
            from flows.pipeline import run_pipeline

            config = RunConfig(batch_files=args.batch_files, batch_bytes=args.batch_mb * 1024 * 1024,
                               reprocess=args.reprocess, rules_files=tuple(args.rules), workers=args.workers,
                               max_reject_share=args.max_reject_share,
                               warn_reject_share=args.warn_reject_share).with_limits(limits)
            manifest = run_pipeline(args.raw_dir, args.out_dir, config, progress=bar)
        else:
            manifest = _run_flow(args, bar, limits, server)
    except OutputLocked as exc:
        print(f"newsclean: error: {exc}", file=sys.stderr)
        return 3
    except TooManyRejects as exc:
        _print_result(args, exc.manifest)
        print(f"newsclean: error: {exc}", file=sys.stderr)
        return 4
    except UsageError as exc:
        print(f"newsclean: error: {exc}", file=sys.stderr)
        return 2
    finally:
        bar.close()
    _print_result(args, manifest)
    return 0


def _print_result(args: argparse.Namespace, manifest: dict[str, Any]) -> None:
    if args.json:
        print(json.dumps(manifest, indent=2, default=str))
        return
    if args.quiet:
        for w in manifest.get("warnings", []):
            print(f"newsclean: WARNING: {w}", file=sys.stderr)
    else:
        from flows.report import summary_lines

        print("\n".join(summary_lines(manifest)))


def _run_flow(args: argparse.Namespace, bar: _DelayedBar, limits: dict[str, float],
              server: tempserver.TemporaryServer | None = None) -> dict[str, Any]:
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    from flows import flow as flow_module

    flow_module.progress_hook = bar
    clean_news = flow_module.clean_news
    if args.dask_address:
        from prefect_dask import DaskTaskRunner

        clean_news = clean_news.with_options(task_runner=DaskTaskRunner(address=args.dask_address))  # type: ignore[arg-type]
    api = tempserver.adopt(server)  # the temporary server the command started first, once it answers
    # The heartbeat thread costs ~1 s per flow call at exit and is of no use to a one-shot run.
    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None, **api}):
        manifest: dict[str, Any] = clean_news(
            raw_dir=args.raw_dir, out_dir=args.out_dir, batch_files=args.batch_files, batch_mb=args.batch_mb,
            reprocess=args.reprocess, rules=list(args.rules), workers=args.workers,
            max_reject_share=args.max_reject_share, warn_reject_share=args.warn_reject_share,
            dask_address=args.dask_address, limits=limits)
    return manifest


def main(argv: list[str] | None = None) -> int:
    prefect_env.configure()
    args = build_parser().parse_args(argv)
    if args.command == "run":
        return _run(args)
    if args.command == "serve":
        from flows.pipeline import UsageError, check_dirs
        from flows.serve import serve

        try:
            check_dirs(args.raw_dir, args.out_dir)
        except UsageError as exc:
            print(f"newsclean: error: {exc}", file=sys.stderr)
            return 2
        return serve(args.raw_dir, args.out_dir, args.cron, args.name, args.port, {"workers": args.workers})
    from pathlib import Path

    from flows import inspect

    out = Path(args.out_dir)
    try:
        if args.command == "report":
            if args.html:
                Path(args.html).write_text(inspect.report_html(out, args.run), encoding="utf-8")
                print(f"wrote {args.html}")
            else:
                print(inspect.report_text(out, args.run))
            return 0
        print(inspect.explain(out, args.article_id))
        return 0
    except (FileNotFoundError, KeyError) as exc:
        print(f"newsclean: error: {exc.args[0] if exc.args else exc}", file=sys.stderr)
        return 2


def entry() -> NoReturn:
    """The `newsclean` command and `python -m flows`: main(), then an exit that skips tearing the
    interpreter down (flows/quickexit.py; 0.5-0.9 s after every run). Tests call main() itself."""
    quickexit.exit_now(main())


if __name__ == "__main__":
    entry()
