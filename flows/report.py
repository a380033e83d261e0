"""Human-readable summaries of a run manifest (terminal text and Markdown for Prefect artifacts)."""

from __future__ import annotations

from typing import Any


def summary_lines(m: dict[str, Any]) -> list[str]:
    """A short plain-text summary of a finished run."""
    c = m.get("counts", {})
    inp = m.get("inputs", {})
    lines = [
        f"newsclean run {m['run_id']}: {m.get('status')}",
        f"  inputs    {inp.get('files_seen', 0)} files seen, {inp.get('files_new_or_changed', 0)} new or changed, "
        f"{inp.get('files_unchanged_skipped', 0)} unchanged (skipped)",
        f"  records   {c.get('input_records', 0)}",
        f"  articles  {c.get('articles', 0)} kept",
        f"  duplicates {c.get('duplicates', 0)}" + _reasons(m.get("duplicates_by_reason")),
        f"  rejects   {c.get('rejects', 0)}" + _reasons(m.get("rejects_by_reason")),
        f"  removals  {c.get('removals', 0)} paragraphs or lines" + _reasons(m.get("removals_by_reason"), 6),
    ]
    if c.get("records_already_processed"):
        lines.append(f"  already processed by an earlier run: {c['records_already_processed']} records")
    for w in m.get("warnings", []):
        lines.append(f"  WARNING   {w}")
    lines.append(f"  output    {m.get('out_dir')}  (manifest: runs/{m['run_id']}.json)")
    lines.append(f"  time      {m.get('seconds', {}).get('total', 0):.1f} s")
    return lines


def _reasons(d: dict[str, int] | None, top: int = 5) -> str:
    if not d:
        return ""
    items = sorted(d.items(), key=lambda kv: (-kv[1], kv[0]))
    shown = ", ".join(f"{k} {v}" for k, v in items[:top])
    more = f", +{len(items) - top} more" if len(items) > top else ""
    return f"  ({shown}{more})"


def summary_markdown(m: dict[str, Any]) -> str:
    """The run summary as Markdown tables (rendered by the Prefect UI's artifact view)."""
    c = m.get("counts", {})
    inp = m.get("inputs", {})
    out = [f"# newsclean run `{m['run_id']}`", "", f"Output folder: `{m.get('out_dir')}`", "",
           "| what | count |", "|---|---:|"]
    rows = [("files seen", inp.get("files_seen", 0)), ("files new or changed", inp.get("files_new_or_changed", 0)),
            ("files unchanged (skipped)", inp.get("files_unchanged_skipped", 0)),
            ("input records", c.get("input_records", 0)), ("articles kept", c.get("articles", 0)),
            ("duplicates", c.get("duplicates", 0)), ("rejects", c.get("rejects", 0)),
            ("removals", c.get("removals", 0))]
    out += [f"| {k} | {v} |" for k, v in rows]
    for title, key in (("Rejects by reason", "rejects_by_reason"), ("Removals by rule", "removals_by_reason"),
                       ("Duplicates by reason", "duplicates_by_reason")):
        d = m.get(key) or {}
        if d:
            out += ["", f"## {title}", "", "| reason | count |", "|---|---:|"]
            out += [f"| {k} | {v} |" for k, v in sorted(d.items(), key=lambda kv: (-kv[1], kv[0]))[:20]]
    secs = m.get("seconds") or {}
    if secs:
        out += ["", "## Seconds per stage", "", "| stage | seconds |", "|---|---:|"]
        out += [f"| {k} | {v:.3f} |" for k, v in secs.items()]
    return "\n".join(out) + "\n"
