"""Run configuration: every knob of a run, with documented defaults.

A `RunConfig` is plain data; the CLI and the Prefect flow build one from their options and it
is recorded in each run's manifest.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar

from dedupe.corpus import CorpusParams

MB = 1024 * 1024


@dataclass(frozen=True)
class RunConfig:
    # Batching: one Prefect task per batch of input files. A batch closes when it holds this many
    # bytes of raw input or this many files, whichever comes first; large enough that Prefect's
    # per-task cost (milliseconds) is noise, small enough that a batch fits in memory.
    batch_bytes: int = 8 * MB
    batch_files: int = 2000
    # Worker processes for the per-batch steps (ingest, clean); 1 = in the flow's own process.
    workers: int = 1

    # Limits on hostile input (exceeding one is a reject that names the limit, never a crash).
    max_file_bytes: int = 512 * MB
    max_decompressed_bytes: int = 1024 * MB
    max_gzip_ratio: float = 200.0  # decompressed / compressed; a gzip bomb is far above this
    max_line_bytes: int = 64 * MB  # one JSONL line
    max_html_bytes: int = 16 * MB  # HTML handed to trafilatura
    max_article_chars: int = 2_000_000
    max_article_blocks: int = 20_000
    max_reject_raw_chars: int = 20_000  # raw text kept with a reject row
    # A run whose rejects exceed this share of its input records fails (exit code 4) after writing
    # everything; None: rejects never fail a run (they are data), the summary only warns.
    max_reject_share: float | None = None
    # Above this share of rejects a run warns loudly (summary, manifest, WARNING in the run logs).
    warn_reject_share: float = 0.2

    # Reprocess inputs already in the ledger (state/ledger) instead of skipping them.
    reprocess: bool = False

    # Cleaning: extra pattern files (same format as cleaners/catalogue.toml), in order.
    rules_files: tuple[str, ...] = ()
    # Recurring-line learning (cleaners/recurring.py): a line is boilerplate when it recurs in at
    # least this many distinct articles of one site / of the whole corpus, and read as body text
    # in at most max_body_share of them. 0 switches learning off.
    recurring_site_min: int = 3
    recurring_global_min: int = 4
    recurring_max_body_share: float = 0.5

    # Near-duplicate articles (dedupe/corpus.py documents each and how the defaults were tuned).
    # num_perm, seed and shingle_words shape the signatures kept in state/: changing them needs a
    # fresh OUT_DIR (a run refuses to mix signatures of two settings).
    dedup_num_perm: int = 128
    dedup_seed: int = 1
    shingle_words: int = 3
    dedup_bands: int = 32
    dedup_rows: int = 4
    dedup_jaccard: float = 0.5
    dedup_containment: float = 0.7
    dedup_window_days: float = 0.0  # match only articles published within N days of each other (0 = off)
    near_duplicates: bool = True  # False: only exact duplicates (same text, same URL)
    # False: a run never changes earlier runs' rows, even when its articles join two earlier clusters
    merge_earlier_clusters: bool = True
    # a run rewrites at most this many times its own input bytes of earlier files to merge clusters
    # (flows/history.py); merges that need more are left apart and the manifest says so
    merge_rewrite_ratio: float = 10.0

    def corpus_params(self) -> CorpusParams:
        return CorpusParams(num_perm=self.dedup_num_perm, seed=self.dedup_seed, shingle_words=self.shingle_words,
                            bands=self.dedup_bands, rows=self.dedup_rows, jaccard=self.dedup_jaccard,
                            containment=self.dedup_containment, window_days=self.dedup_window_days,
                            near_duplicates=self.near_duplicates,
                            merge_earlier_clusters=self.merge_earlier_clusters)

    LIMITS: ClassVar[tuple[str, ...]] = ("max_file_bytes", "max_decompressed_bytes", "max_gzip_ratio", "max_line_bytes", "max_html_bytes",
              "max_article_chars", "max_article_blocks", "max_reject_raw_chars")

    def with_limits(self, limits: dict[str, float]) -> RunConfig:
        """A copy with some limits changed; an unknown name is a ValueError that lists the known ones."""
        bad = sorted(set(limits) - set(self.LIMITS))
        if bad:
            raise ValueError(f"unknown limit(s) {', '.join(bad)}; known limits: {', '.join(self.LIMITS)}")
        changes: dict[str, Any] = {k: (float(v) if k == "max_gzip_ratio" else int(v)) for k, v in limits.items()}
        if any(v <= 0 for v in changes.values()):
            raise ValueError("limits must be positive")
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)
