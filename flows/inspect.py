"""`newsclean report` and `newsclean explain`: what a run did, and one article's journey."""

from __future__ import annotations

import html
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow.compute as pc
import pyarrow.dataset as ds

from flows.report import summary_lines


def _table(out: Path, name: str, columns: list[str] | None = None, run_id: str | None = None) -> list[dict[str, Any]]:
    d = out / name
    files = sorted(p for p in d.glob("*.parquet") if not p.name.startswith((".", "_"))) if d.is_dir() else []
    if not files:
        return []
    dataset = ds.dataset([str(f) for f in files], format="parquet")
    cols = [c for c in (columns or dataset.schema.names) if c in dataset.schema.names]
    flt = (pc.field("run_id") == run_id) if run_id and "run_id" in dataset.schema.names else None
    return dataset.to_table(columns=cols, filter=flt).to_pylist()


def load_manifest(out: Path, run_id: str | None = None) -> dict[str, Any]:
    """The manifest of `run_id`, or of the latest finished run."""
    runs = sorted((out / "runs").glob("*.json"))
    if run_id:
        path = out / "runs" / f"{run_id}.json"
        if not path.exists():
            raise FileNotFoundError(f"no run {run_id} in {out}/runs (runs: {', '.join(p.stem for p in runs[-5:])})")
        return dict(json.loads(path.read_text(encoding="utf-8")))
    for p in reversed(runs):
        m = json.loads(p.read_text(encoding="utf-8"))
        if m.get("status") == "finished":
            return dict(m)
    raise FileNotFoundError(f"no finished run in {out}/runs")


def report_data(out: Path, run_id: str | None = None) -> dict[str, Any]:
    m = load_manifest(out, run_id)
    dups = _table(out, "duplicates", ["duplicate_of", "article_id", "title"], m["run_id"])
    sizes = Counter(d["duplicate_of"] for d in dups)
    survivors = {r["article_id"]: r for r in _table(out, "articles", ["article_id", "title", "source_file"])}
    clusters = []
    for sid, n in sorted(sizes.items(), key=lambda kv: (-kv[1], kv[0]))[:10]:
        s = survivors.get(sid, {})
        clusters.append({"survivor": sid, "size": n + 1, "title": s.get("title", "(kept by an earlier run)"),
                         "source_file": s.get("source_file")})
    return {"manifest": m, "clusters": clusters, "cluster_sizes": dict(Counter(v + 1 for v in sizes.values()))}


def report_text(out: Path, run_id: str | None = None) -> str:
    data = report_data(out, run_id)
    m = data["manifest"]
    lines = summary_lines(m)
    rem = m.get("removals_by_reason") or {}
    if rem:
        lines.append("  removals by rule (top 20):")
        lines += [f"    {v:>8}  {k}" for k, v in sorted(rem.items(), key=lambda kv: (-kv[1], kv[0]))[:20]]
    rej = m.get("rejects_by_reason") or {}
    if rej:
        lines.append("  rejects by reason:")
        lines += [f"    {v:>8}  {k}" for k, v in sorted(rej.items(), key=lambda kv: (-kv[1], kv[0]))]
    if data["clusters"]:
        lines.append("  largest duplicate clusters (survivor):")
        lines += [f"    {c['size']:>8}  {c['survivor']}  {c['title'][:70]}" for c in data["clusters"]]
    secs = m.get("seconds") or {}
    if secs:
        lines.append("  seconds per stage: " + ", ".join(f"{k} {v:.2f}" for k, v in secs.items()))
    return "\n".join(lines)


def _bars(title: str, items: list[tuple[str, int]]) -> str:
    """A horizontal bar chart as inline SVG (no scripts, no network)."""
    if not items:
        return f"<h2>{html.escape(title)}</h2><p>none</p>"
    top = max(v for _, v in items) or 1
    h = 22 * len(items) + 10
    rows = []
    for i, (k, v) in enumerate(items):
        w = 360 * v / top
        y = 22 * i + 5
        rows.append(f'<text x="0" y="{y + 14}" font-size="12">{html.escape(str(k))[:40]}</text>'
                    f'<rect x="260" y="{y}" width="{w:.1f}" height="16" fill="#4a7ab5"/>'
                    f'<text x="{265 + w:.1f}" y="{y + 13}" font-size="12">{v}</text>')
    return f'<h2>{html.escape(title)}</h2><svg width="700" height="{h}" role="img">{"".join(rows)}</svg>'


def report_html(out: Path, run_id: str | None = None) -> str:
    data = report_data(out, run_id)
    m = data["manifest"]
    body = [f"<h1>newsclean run {html.escape(m['run_id'])}</h1>",
            "<pre>" + html.escape("\n".join(summary_lines(m))) + "</pre>"]
    body.append(_bars("Removals by rule (top 20)", sorted((m.get("removals_by_reason") or {}).items(),
                                                          key=lambda kv: (-kv[1], kv[0]))[:20]))
    body.append(_bars("Rejects by reason", sorted((m.get("rejects_by_reason") or {}).items(), key=lambda kv: -kv[1])))
    body.append(_bars("Duplicate clusters by size (articles per cluster: clusters)",
                      [(f"{k} articles", v) for k, v in sorted(data["cluster_sizes"].items())]))
    if data["clusters"]:
        body.append("<h2>Largest clusters</h2><table><tr><th>size</th><th>survivor</th><th>title</th></tr>" + "".join(
            f"<tr><td>{c['size']}</td><td>{html.escape(c['survivor'])}</td><td>{html.escape(c['title'])}</td></tr>"
            for c in data["clusters"]) + "</table>")
    style = "body{font-family:sans-serif;max-width:60em;margin:2em auto}td,th{padding:2px 8px;text-align:left}"
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>newsclean {html.escape(m['run_id'])}</title>"
            f"<style>{style}</style></head><body>{''.join(body)}</body></html>\n")


def explain(out: Path, article_id: str) -> str:
    """One article's journey: its source, every removal with its rule, its cluster and matches."""
    row = None
    table = ""
    for name in ("articles", "duplicates"):
        hits = [r for r in _table(out, name) if r["article_id"] == article_id]
        if hits:
            row, table = hits[0], name
            break
    if row is None:
        raise KeyError(f"article {article_id} is not in {out}/articles or {out}/duplicates")
    where = row["source_file"] + (f" line {row['source_line']}" if row.get("source_line") else "")
    lines = [f"article {article_id}: {row['title']}",
             f"  source    {where} ({row.get('format')}), run {row['run_id']}",
             f"  site      {row.get('site') or '-'}   url {row.get('url') or '-'}",
             f"  published {row.get('published_at') or '-'}   author {row.get('author') or '-'}",
             f"  kept text {row['word_count']} words; {len(row.get('captions') or [])} captions/credits moved out"]
    if table == "duplicates":
        lines.append(f"  DUPLICATE of {row['duplicate_of']} ({row['duplicate_reason']}; matched "
                     f"{row.get('matched_article_id')} with similarity {row.get('similarity')})")
    else:
        absorbed = [d for d in _table(out, "duplicates") if d["duplicate_of"] == article_id]
        lines.append(f"  KEPT (cluster {row['cluster_id']}); absorbed {len(absorbed)} duplicate(s)")
        lines += [f"    {d['article_id']}  {d['duplicate_reason']} {d['similarity']}  {d['source_file']}  {d['title'][:50]}"
                  for d in absorbed]
    rem = sorted((r for r in _table(out, "removals") if r["article_id"] == article_id),
                 key=lambda r: (r["position"], r["line"] if r["line"] is not None else -1))
    lines.append(f"  removed lines ({len(rem)}):")
    for r in rem:
        pos = f"{r['position']}" + (f".{r['line']}" if r["line"] is not None else "")
        lines.append(f"    [{pos:>6}] {r['reason']:<20} {r['text'][:80]!r}")
    return "\n".join(lines)
