"""Near-duplicate articles across the corpus and across runs: sketches, LSH candidates, verification,
clusters and a traceable survivor.

Each article is summarised by a *sketch* of its clean body (after cleaning and paragraph collapse,
so a site's boilerplate does not make two stories look alike):
* a MinHash signature (datasketch-compatible, see dedupe/minhash.py) of its word shingles, which
  never cross a paragraph boundary, so reordering paragraphs changes nothing;
* the number of distinct shingles (needed to turn a Jaccard estimate into a containment one);
* one key per paragraph of at least `para_min_words` words: two min-hashes of that paragraph.
  A brief or an abridged copy shares whole paragraphs with the full story while sharing few of
  its shingles overall (Jaccard 0.1-0.3), so Jaccard-tuned LSH alone would miss it; a shared
  near-identical paragraph makes the pair a candidate.

Candidates come from LSH banding of the signatures (`bands` x `rows`; a pair with Jaccard J
becomes a candidate with probability 1 - (1 - J^rows)^bands) and from shared paragraph keys.
A bucket holding more than `max_bucket` articles is a template or boilerplate paragraph, not a
story: it proposes no pairs (counted in the stats).

Verification decides on two estimates from the signatures (never on a shared bucket alone):
the Jaccard estimate J (share of equal signature slots) for same-length copies, and the
containment of the smaller article in the larger, C = J (|A| + |B|) / ((1 + J) min(|A|, |B|)),
for a brief or an abridged copy. A pair is a duplicate when J >= `jaccard` or (C >= `containment`
and the smaller article has at least `min_shingles` shingles). Defaults were tuned on
eval/dedup and eval/dedup-hard: follow-up stories reusing one or two background paragraphs and
different stories sharing a site's template reach C <= 0.52 on cleaned text; briefs, abridged,
updated, reordered and rewrapped copies sit at C >= 0.6 (median 0.85-1.0).

Clusters are the connected components of verified pairs plus exact matches (same content hash,
same normalised URL). A new article that matches an earlier one joins its cluster, and the earlier
survivor stays the survivor. Otherwise the survivor is chosen by `dedupe.exact.survivor_rank`:
earliest published_at, then the longest text, then the smallest article_id. The result never
depends on input order.

Runs one after another give the partition of one run over everything: when new articles join two
or more earlier clusters (a full story arriving after two briefs of its halves), the clusters become
one, as they would in one run. The earlier cluster holding the best-ranked reachable article absorbs
the others; each absorbed cluster's survivor becomes a duplicate of the absorbing survivor (a
Decision with `merged_cluster` set, reason `clusters_merged`, matched to the new article that joined
them). The caller moves the absorbed clusters' rows (flows/finalize.py). With
`merge_earlier_clusters` False, earlier clusters are never merged (counted in the stats instead).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from dedupe.arrays import sorted_unique, unique_first
from dedupe.exact import Candidate, CandidateColumns, as_columns, same_key_pairs
from dedupe.minhash import EMPTY, MinHasher, flatten, shingle_sets_flat, text_token_hashes
from dedupe.unionfind import UnionFind


@dataclass(frozen=True)
class CorpusParams:
    """Parameters of corpus deduplication (flow parameters; defaults documented in the module docstring)."""

    num_perm: int = 128
    seed: int = 1
    shingle_words: int = 3
    bands: int = 32
    rows: int = 4
    jaccard: float = 0.5
    containment: float = 0.7
    min_shingles: int = 15
    para_min_words: int = 10
    max_bucket: int = 50
    # Two groups join only when their longest articles pass this looser test (no bridging, see `cluster`).
    bridge_jaccard: float = 0.3
    bridge_containment: float = 0.5
    # Optional time window: match only against articles published within this many days (0 = off).
    window_days: float = 0.0
    # False: only exact duplicates (same clean text, same normalised URL).
    near_duplicates: bool = True
    # False: earlier clusters that new articles join together stay apart (history is never changed).
    merge_earlier_clusters: bool = True

    def check(self) -> None:
        if self.bands * self.rows > self.num_perm:
            raise ValueError(f"bands x rows ({self.bands} x {self.rows}) exceeds num_perm ({self.num_perm})")
        if not (0 < self.jaccard <= 1 and 0 < self.containment <= 1):
            raise ValueError("jaccard and containment thresholds must be in (0, 1]")


@dataclass
class Sketch:
    """The sketch of one article (see the module docstring)."""

    signature: np.ndarray  # uint32[num_perm]
    n_shingles: int
    para_keys: np.ndarray  # uint64[k]


class Sketcher:
    """Builds article sketches from the token hashes of its paragraphs (hashed once, in dedupe/paragraphs.py)."""

    def __init__(self, params: CorpusParams = CorpusParams()) -> None:
        params.check()
        self.params = params
        self.hasher = MinHasher(params.num_perm, params.seed)

    def sketch_collapsed(self, col: Any) -> Sketch:
        """The sketch of a collapsed article (dedupe.paragraphs.Collapsed made with this sketcher's
        hasher and shingle size), from the paragraph signatures collapse already computed."""
        src = col.sources
        return self._from_paragraphs(col.signatures[src], [col.shingles[i] for i in src],
                                     [col.n_tokens[i] for i in src])

    def sketch(self, paragraph_token_hashes: Sequence[np.ndarray]) -> Sketch:
        """The sketch of an article from its paragraphs' token hashes, one array per paragraph."""
        return self.sketch_flat(*flatten(paragraph_token_hashes))

    def sketch_text(self, paragraphs: Sequence[str]) -> Sketch:
        """The sketch of an article from its clean paragraphs (rebuilding state from text; bench)."""
        return self.sketch_flat(*text_token_hashes(paragraphs))

    def sketch_flat(self, th: np.ndarray, counts: np.ndarray) -> Sketch:
        """The sketch from the paragraphs' token hashes given flat with a token count per paragraph."""
        flat, offsets = shingle_sets_flat(th, counts, self.params.shingle_words)
        if not len(flat):
            return self._empty()
        # one compiled pass gives every paragraph's signature; the article's is their minimum
        sigs = self.hasher.signatures(flat, offsets)
        return Sketch(sigs.min(axis=0), len(sorted_unique(flat)),
                      _para_keys(sigs[(counts >= self.params.para_min_words) & (offsets[1:] > offsets[:-1]), :2]))

    def _from_paragraphs(self, sigs: np.ndarray, shingles: Sequence[np.ndarray], n_tokens: Sequence[int]) -> Sketch:
        """The article's signature is the slot-wise minimum of its paragraphs' signatures; a long
        paragraph's key is its first two signature slots."""
        if not len(shingles):
            return self._empty()
        long_rows = [k for k, (t, s) in enumerate(zip(n_tokens, shingles, strict=True))
                     if t >= self.params.para_min_words and len(s)]
        return Sketch(sigs.min(axis=0), len(sorted_unique(np.concatenate(list(shingles)))),
                      _para_keys(sigs[long_rows, :2]))

    def _empty(self) -> Sketch:
        return Sketch(np.full(self.params.num_perm, EMPTY, dtype=np.uint32), 0, np.empty(0, dtype=np.uint64))


def _para_keys(first_two: np.ndarray) -> np.ndarray:
    """Paragraph keys (unique, sorted) from the first two signature slots of each long paragraph."""
    return sorted_unique((first_two[:, 0].astype(np.uint64) << np.uint64(32)) | first_two[:, 1].astype(np.uint64))


@dataclass(frozen=True)
class ParaKeys:
    """Every article's paragraph keys in one array: article k's are flat[offsets[k]: offsets[k + 1]]
    (a list of a million small arrays would cost ~100 bytes of object per article, and a copy to
    sort them)."""

    flat: np.ndarray  # uint64[total]
    offsets: np.ndarray  # int64[n + 1], from 0

    @classmethod
    def of(cls, per_article: Sequence[np.ndarray]) -> ParaKeys:
        lens = np.fromiter((len(k) for k in per_article), dtype=np.int64, count=len(per_article))
        flat = np.concatenate(per_article).astype(np.uint64) if len(per_article) else np.empty(0, np.uint64)
        return cls(flat, np.r_[np.int64(0), np.cumsum(lens)])

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __getitem__(self, k: int) -> np.ndarray:
        return self.flat[self.offsets[k]: self.offsets[k + 1]]

    def __iter__(self) -> Iterator[np.ndarray]:
        return (self[k] for k in range(len(self)))


@dataclass
class Corpus:
    """Struct-of-arrays view of a set of articles for clustering."""

    ids: Sequence[str]  # a list, or flows.ids.Ids for a large run
    signatures: np.ndarray  # uint32[n, num_perm]
    n_shingles: np.ndarray  # int64[n]
    para_keys: ParaKeys | Sequence[np.ndarray]  # a sequence of per-article arrays is made a ParaKeys
    candidates: list[Candidate] | CandidateColumns  # survivor-rule fields and exact keys, aligned with ids
    survivor_of: list[str | None] = field(default_factory=list)  # earlier articles: their cluster's survivor

    def __post_init__(self) -> None:
        if not isinstance(self.para_keys, ParaKeys):
            self.para_keys = ParaKeys.of(self.para_keys)


@dataclass(frozen=True, slots=True)
class Decision:
    """What happened to one new article."""

    article_id: str
    cluster_id: str
    duplicate_of: str | None  # None: it is the survivor of its cluster
    matched: str | None  # the article it was directly matched to (None for a survivor)
    reason: str | None  # same_text | same_url | near_duplicate | clusters_merged
    similarity: float | None
    # for an earlier cluster's survivor that this run demotes: the earlier cluster it absorbs
    merged_cluster: str | None = None


def singleton(article_id: str) -> Decision:
    """The Decision of a new article that no edge joined: the survivor of its own cluster."""
    return Decision(article_id, article_id, None, None, None, None)


def band_key(signatures: np.ndarray, b: int, rows: int) -> np.ndarray:
    """uint64[n]: the key of band b, combining its `rows` signature values (salted with the band index).

    With an even number of rows the values are read two at a time as one 64-bit word: half the
    arithmetic."""
    n = signatures.shape[0]
    sig = np.ascontiguousarray(signatures[:, b * rows: (b + 1) * rows], dtype=np.uint32)
    words = sig.view(np.uint64) if rows % 2 == 0 else sig.astype(np.uint64)
    with np.errstate(over="ignore"):
        key = np.full(n, np.uint64(b) * np.uint64(0x9E3779B97F4A7C15), dtype=np.uint64)
        for r in range(words.shape[1]):
            key = (key ^ words[:, r]) * np.uint64(0x100000001B3)
        return key ^ (key >> np.uint64(29))


def band_keys(signatures: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """uint64[n, bands]: every band's key (`band_key`)."""
    out = np.empty((signatures.shape[0], bands), dtype=np.uint64)
    for b in range(bands):  # filled in place: no list of per-band arrays beside the result
        out[:, b] = band_key(signatures, b, rows)
    return out


def _bucket_pairs(keys: np.ndarray, owners: np.ndarray, max_bucket: int, stats: dict[str, int]) -> list[np.ndarray]:
    """All pairs of owners that share a key, from buckets of at most max_bucket owners (an owner's own
    keys are distinct: one key per band, an article's paragraph keys are unique).

    Vectorised: one sort, then pairs are generated per bucket size (a handful of sizes), never per
    bucket in Python.
    """
    if len(keys) < 2:
        return []
    order = np.argsort(keys)  # the order inside a bucket does not matter: pairs are normalised later
    k, o = keys[order], owners[order]
    starts = np.flatnonzero(np.r_[True, k[1:] != k[:-1]])
    sizes = np.diff(np.r_[starts, len(k)])
    big = sizes > max_bucket
    if big.any():
        stats["skipped_buckets"] = stats.get("skipped_buckets", 0) + int(big.sum())
    out = []
    for m in sorted_unique(sizes[(sizes >= 2) & ~big]):
        s = starts[sizes == m]
        i, j = np.triu_indices(int(m), 1)
        out.append(np.stack([o[(s[:, None] + i[None, :]).ravel()], o[(s[:, None] + j[None, :]).ravel()]], axis=1))
    return out


VERIFY_CHUNK = 1 << 18  # candidate pairs unpacked and verified at a time (~60 bytes of temporaries each)
CANDIDATE_BATCH = 1 << 20  # distinct candidate pairs gathered before they are verified
PARA_KEY_PARTS = 8  # paragraph keys are grouped in this many parts (by their low bits): smaller sorts


def candidate_pairs(corpus: Corpus, is_new: np.ndarray, params: CorpusParams, stats: dict[str, int]) -> np.ndarray:
    """int64[m, 2] distinct candidate pairs (i < j) with at least one new article (`candidate_batches`)."""
    batches = list(candidate_batches(corpus, is_new, params, stats))
    codes = sorted_unique(np.concatenate(batches)) if batches else np.empty(0, dtype=np.int64)
    return unpack_pairs(codes, len(corpus.ids))


def unpack_pairs(codes: np.ndarray, n: int) -> np.ndarray:
    """int64[m, 2] pairs (i, j) from their codes i * n + j."""
    return np.stack([codes // n, codes % n], axis=1)


def candidate_batches(corpus: Corpus, is_new: np.ndarray, params: CorpusParams, stats: dict[str, int],
                      batch: int | None = None) -> Iterator[np.ndarray]:
    """The candidate pairs (i < j, at least one new article) from LSH bands and paragraph keys, as
    sorted int64 codes i * n + j, a batch of about `batch` distinct pairs at a time.

    Every candidate is in at least one batch; a pair proposed by bands that fall in different
    batches is in each of them. Verifying it twice is cheap (a few signature slots), while holding
    every distinct pair of a run to make them unique at once is not: at 1,000,000 articles there are
    16 million, and the sort that makes them unique needs several copies of them. A near-copy
    shares many bands, so the raw pairs are several times the distinct ones; a batch is made
    unique before it is handed on. `stats["candidate_pairs"]` counts the pairs handed on.
    `batch` defaults to CANDIDATE_BATCH.
    """
    n = len(corpus.ids)
    if n < 2:
        return
    batch = batch or CANDIDATE_BATCH
    pending: list[np.ndarray] = []
    pending_n = 0

    def take(chunks: list[np.ndarray]) -> None:
        nonlocal pending_n
        for c in chunks:
            i, j = np.minimum(c[:, 0], c[:, 1]), np.maximum(c[:, 0], c[:, 1])
            keep = (i != j) & (is_new[i] | is_new[j])
            pending.append(i[keep].astype(np.int64) * np.int64(n) + j[keep])
            pending_n += int(keep.sum())

    def flush() -> np.ndarray:
        nonlocal pending, pending_n
        codes = np.concatenate(pending)
        pending, pending_n = [], 0  # the parts go before the sort: the batch is held once, not three times
        codes = sorted_unique(codes, overwrite=True)
        stats["candidate_pairs"] = stats.get("candidate_pairs", 0) + len(codes)
        return codes

    owners = np.arange(n, dtype=np.int32 if n < 2**31 else np.int64)
    for b in range(params.bands):  # one band's keys at a time
        take(_bucket_pairs(band_key(corpus.signatures, b, params.rows), owners, params.max_bucket, stats))
        if pending_n >= batch:
            yield flush()
    keys = corpus.para_keys
    assert isinstance(keys, ParaKeys)  # made one in Corpus.__post_init__
    if len(keys.flat):
        pk = keys.flat
        part = (pk & np.uint64(PARA_KEY_PARTS - 1)).astype(np.uint8)  # a key's bucket lies in one part
        for p in range(PARA_KEY_PARTS):  # sort a part at a time
            at = np.flatnonzero(part == p)
            # each key's article from the offsets (no owner array as long as all the keys)
            owner = (np.searchsorted(keys.offsets, at, side="right") - 1).astype(owners.dtype)
            take(_bucket_pairs(pk[at], owner, params.max_bucket, stats))
            del at, owner
            if pending_n >= batch:
                yield flush()
        del part
    if pending_n:
        yield flush()


def estimates(corpus: Corpus, pairs: np.ndarray, chunk: int = 8192) -> tuple[np.ndarray, np.ndarray]:
    """(Jaccard estimate, containment estimate of the smaller in the larger) for each pair."""
    jac = np.empty(len(pairs), dtype=np.float64)
    for s in range(0, len(pairs), chunk):
        p = pairs[s: s + chunk]
        jac[s: s + chunk] = (corpus.signatures[p[:, 0]] == corpus.signatures[p[:, 1]]).mean(axis=1)
    na = corpus.n_shingles[pairs[:, 0]].astype(np.float64)
    nb = corpus.n_shingles[pairs[:, 1]].astype(np.float64)
    small = np.minimum(na, nb)
    with np.errstate(divide="ignore", invalid="ignore"):
        cont = np.where(small > 0, jac * (na + nb) / ((1.0 + jac) * small), 0.0)
    return jac, np.minimum(cont, 1.0)


def verify(corpus: Corpus, pairs: np.ndarray, params: CorpusParams, chunk: int = 1 << 20) -> tuple[np.ndarray, np.ndarray]:
    """Mask of verified duplicate pairs and their similarity (the estimate that decided), computed
    `chunk` pairs at a time (a run can have tens of millions of candidates)."""
    ok = np.zeros(len(pairs), dtype=bool)
    sim = np.zeros(len(pairs), dtype=np.float64)
    ts = None
    if params.window_days > 0:
        ts = as_columns(corpus.candidates).published_ts
    for s in range(0, len(pairs), chunk):
        p = pairs[s: s + chunk]
        jac, cont = estimates(corpus, p)
        small = np.minimum(corpus.n_shingles[p[:, 0]], corpus.n_shingles[p[:, 1]])
        good = (jac >= params.jaccard) | ((cont >= params.containment) & (small >= params.min_shingles))
        if ts is not None:
            good &= ~(np.abs(ts[p[:, 0]] - ts[p[:, 1]]) > params.window_days * 86400.0)  # unknown dates never excluded
        ok[s: s + chunk] = good
        sim[s: s + chunk] = np.round(np.where(jac >= params.jaccard, jac, np.maximum(jac, cont)), 4)
    return ok, sim


def _compatible(corpus: Corpus, i: int, j: int, params: CorpusParams) -> bool:
    """May the groups of i and j (their representatives) be one story? A looser test than `verify`."""
    pair = np.array([[i, j]], dtype=np.int64)
    jac, cont = estimates(corpus, pair)
    return bool(jac[0] >= params.bridge_jaccard or cont[0] >= params.bridge_containment)


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector: clustering makes many small objects and no reference cycles,
    and every collection would walk all live objects (a run's candidates and more), for nothing."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def cluster(corpus: Corpus, is_new: np.ndarray, params: CorpusParams,
            singletons: bool = True) -> tuple[list[Decision], dict[str, int]]:
    """Cluster the new articles of `corpus` among themselves and against the earlier ones (is_new False).

    See `_cluster`; the garbage collector is paused meanwhile (`_gc_paused`). With `singletons`
    False, a new article that no edge joined gets no Decision: the caller knows it is the survivor of
    its own cluster (most of a large run: a million Decisions cost ~0.1 GB).
    """
    with _gc_paused():
        return _cluster(corpus, is_new, params, singletons)


def _cluster(corpus: Corpus, is_new: np.ndarray, params: CorpusParams,
             singletons: bool = True) -> tuple[list[Decision], dict[str, int]]:
    """Cluster the new articles of `corpus` among themselves and against the earlier ones (is_new False).

    Edges (exact matches and verified near-duplicate pairs) are joined strongest first. Joining two
    groups also requires their representatives (each group's longest article) to pass verification:
    a short article contained in two different stories (a brief whose paragraphs a follow-up story
    reused as background) must not bridge them into one cluster.
    """
    stats: dict[str, int] = {}
    edges: list[tuple[float, int, int, str, float | None]] = []

    # exact keys: same clean text, same normalised URL (each later copy joined to the key's first row)
    cols = as_columns(corpus.candidates)
    corpus = replace(corpus, candidates=cols)  # columns: no object per article
    for values, reason, strength, exact_sim in ((cols.content_key, "same_text", 2.0, 1.0),
                                                (cols.url_key, "same_url", 1.5, None)):
        first, later = same_key_pairs(values)
        edges += [(strength, a, b, reason, exact_sim) for a, b in zip(first.tolist(), later.tolist(), strict=True)]
    if params.near_duplicates:
        edges += _verified_edges(corpus, is_new, params, stats)

    # only the new articles and the earlier ones an edge touches take part (an index of millions of
    # earlier articles costs nothing here beyond their edges)
    uf: UnionFind[int] = UnionFind()  # only articles an edge joins; the others are clusters of one
    rep: dict[int, int] = {}  # component root -> its longest article (absent: the root itself)
    kept: dict[tuple[int, int], tuple[str, float | None]] = {}
    ids = corpus.ids
    # an earlier cluster is one group from the start, represented by its longest reachable member, as
    # one run over everything would have it when the new articles' edges arrive
    earlier: dict[str, list[int]] = {}
    for i in np.flatnonzero(~is_new).tolist():
        earlier.setdefault(_earlier_cluster(corpus, i), []).append(i)
    for members in earlier.values():
        if len(members) > 1:
            for m in members[1:]:
                uf.union(members[0], m)
            rep[uf.find(members[0])] = max(members, key=lambda x: (int(corpus.n_shingles[x]), ids[x]))
    for _strength, i, j, reason, sim in sorted(edges, key=lambda e: (-e[0], ids[e[1]], ids[e[2]])):
        if not is_new[i] and not is_new[j]:
            continue  # two earlier articles: an earlier run judged that pair already
        ri, rj = uf.find(i), uf.find(j)
        if ri == rj:
            a, b = min(i, j), max(i, j)
            kept.setdefault((a, b), (reason, sim))
            continue
        pi, pj = rep.get(ri, ri), rep.get(rj, rj)
        if reason != "same_text" and (pi, pj) != (i, j) and (pj, pi) != (i, j) and not _compatible(corpus, pi, pj, params):
            stats["rejected_bridges"] = stats.get("rejected_bridges", 0) + 1
            continue
        uf.union(ri, rj)
        root = uf.find(ri)
        rep[root] = max((pi, pj), key=lambda x: (int(corpus.n_shingles[x]), ids[x]))
        kept[(min(i, j), max(i, j))] = (reason, sim)
    return _decide(corpus, is_new, uf, kept, stats, params.merge_earlier_clusters, singletons), stats


def _verified_edges(corpus: Corpus, is_new: np.ndarray, params: CorpusParams,
                    stats: dict[str, int]) -> list[tuple[float, int, int, str, float | None]]:
    """The verified near-duplicate pairs as edges, each pair once; candidates are verified a batch as
    it comes (`candidate_batches`) and VERIFY_CHUNK pairs at a time, so memory follows the batch."""
    found: list[np.ndarray] = []
    found_sims: list[np.ndarray] = []
    for codes in candidate_batches(corpus, is_new, params, stats):
        for start in range(0, len(codes), VERIFY_CHUNK):
            chunk = codes[start: start + VERIFY_CHUNK]
            ok, sims = verify(corpus, unpack_pairs(chunk, len(corpus.ids)), params)
            found.append(chunk[ok])
            found_sims.append(sims[ok])
    if not found:
        return []
    codes, first = unique_first(np.concatenate(found))  # a pair from two batches: once
    sims = np.concatenate(found_sims)[first]
    stats["verified_pairs"] = stats.get("verified_pairs", 0) + len(codes)
    pairs = unpack_pairs(codes, len(corpus.ids))
    return [(s, i, j, "near_duplicate", s) for (i, j), s in zip(pairs.tolist(), sims.tolist(), strict=True)]


def _decide(corpus: Corpus, is_new: np.ndarray, uf: UnionFind[int],
            edge: dict[tuple[int, int], tuple[str, float | None]], stats: dict[str, int],
            merge: bool, singletons: bool = True) -> list[Decision]:
    cands = as_columns(corpus.candidates)
    neighbours: dict[int, list[tuple[int, str, float | None]]] = {}
    for (a, b), (reason, sim) in edge.items():
        neighbours.setdefault(a, []).append((b, reason, sim))
        neighbours.setdefault(b, []).append((a, reason, sim))
    decisions: list[Decision] = []
    joined = uf.parent
    for i in np.flatnonzero(is_new).tolist() if singletons else ():  # new articles no edge joined: own survivors
        if i not in joined:
            decisions.append(singleton(corpus.ids[i]))
    for group in uf.groups():
        new = [i for i in group if is_new[i]]
        if not new:
            continue
        old = [i for i in group if not is_new[i]]
        if old:
            # the best-ranked earlier cluster absorbs the new articles; its survivor stays
            anchor = min(old, key=cands.rank)
            survivor_id = corpus.survivor_of[anchor] or corpus.ids[anchor]
            cluster_id = _earlier_cluster(corpus, anchor)
            decisions += _merges(corpus, old, neighbours, cluster_id, survivor_id, merge, stats)
        else:
            s = min(new, key=cands.rank)
            survivor_id = cluster_id = corpus.ids[s]
        for i in sorted(new, key=lambda i: corpus.ids[i]):
            aid = corpus.ids[i]
            if aid == survivor_id:
                decisions.append(Decision(aid, cluster_id, None, None, None, None))
                continue
            links = neighbours.get(i, [])
            best = _best_link(links, corpus, survivor_id)
            decisions.append(Decision(aid, cluster_id, survivor_id, corpus.ids[best[0]], best[1], best[2]))
    return decisions


def _earlier_cluster(corpus: Corpus, i: int) -> str:
    cands = corpus.candidates
    cid = cands.cluster_id[i] if isinstance(cands, CandidateColumns) else cands[i].cluster_id
    return cid or corpus.survivor_of[i] or corpus.ids[i]


def _merges(corpus: Corpus, old: list[int], neighbours: dict[int, list[tuple[int, str, float | None]]],
            cluster_id: str, survivor_id: str, merge: bool, stats: dict[str, int]) -> list[Decision]:
    """The demotions of the other earlier clusters in a group that `cluster_id` absorbs: their survivors
    become duplicates of `survivor_id`, matched to the new article whose edge joined them (an edge
    between two earlier articles is never taken, so there is one)."""
    by_cluster: dict[str, list[int]] = {}
    for i in old:
        by_cluster.setdefault(_earlier_cluster(corpus, i), []).append(i)
    absorbed = sorted(c for c in by_cluster if c != cluster_id)
    if not absorbed:
        return []
    if not merge:
        stats["earlier_clusters_left_apart"] = stats.get("earlier_clusters_left_apart", 0) + len(absorbed)
        return []
    out = []
    for c in absorbed:
        members = by_cluster[c]
        bridge = max(((j, reason, sim) for i in members for j, reason, sim in neighbours.get(i, [])),
                     key=lambda lk: ((lk[2] if lk[2] is not None else 0.5), corpus.ids[lk[0]]))
        demoted = corpus.survivor_of[members[0]] or c
        if demoted == survivor_id:
            continue
        out.append(Decision(demoted, cluster_id, survivor_id, corpus.ids[bridge[0]], "clusters_merged", bridge[2],
                            merged_cluster=c))
    if out:
        stats["earlier_clusters_merged"] = stats.get("earlier_clusters_merged", 0) + len(out)
    return out


def _best_link(links: list[tuple[int, str, float | None]], corpus: Corpus, survivor_id: str) -> tuple[int, str, float | None]:
    """The direct match to report: the survivor itself when matched directly, else the most similar."""
    direct = [lk for lk in links if corpus.ids[lk[0]] == survivor_id]
    pool = direct or links
    return max(pool, key=lambda lk: ((lk[2] if lk[2] is not None else 0.5), lk[1] == "same_text", corpus.ids[lk[0]]))
