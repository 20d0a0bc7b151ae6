"""What a sealed store keeps on disk, seen from outside the gateway.

Every blob larger than storage.inline_max is cut into segments, erasure-coded
and sealed (seal/seal.h, docs/FORMAT.md): shard i of a blob is one object on
the i-th provider of its placement. A posix provider rooted at DIR keeps it in
DIR/data/<2 hex>/<2 hex>/<40-hex name> (temporaries in DIR/tmp/). Names are
keyed hashes: nothing here can tell which blob a shard file belongs to, so the
helpers count and size shard files, and compare them with the blobs table of
data_dir/meta.db (bid, locator, size, state, cls, layout, bad; inline
locators start with '=').

Conventions of these tests: a provider's directory is data_dir/<provider id>
(as the embedded default does: local0..2), so a shard is identified by
(provider id, file name).
"""

import os
import sqlite3
from collections import namedtuple

# The embedded default placement (no providers/placements configured):
# STANDARD = RS 2+1 over these posix providers, in shard order.
LOCAL = ("local0", "local1", "local2")
HDR = 64  # shard header, GCM tag included
TAG = 16  # GCM tag of each fragment


def provider_files(root):
    """{name: path} of the shard files of the posix provider rooted at root
    (tmp/ excluded); {} if it does not exist."""
    data = os.path.join(root, "data")
    out = {}
    for d, _, files in os.walk(data):
        for f in files:
            out[f] = os.path.join(d, f)
    return out


def tmp_files(root):
    """Temporaries of the posix provider rooted at root (puts in progress)."""
    t = os.path.join(root, "tmp")
    return sorted(os.listdir(t)) if os.path.isdir(t) else []


def shard_files(data_dir, providers=LOCAL):
    """{(provider, name): path} of every shard file on the given providers."""
    return {(p, name): path for p in providers
            for name, path in provider_files(os.path.join(data_dir, p)).items()}


def shard_sizes(data_dir, providers=LOCAL):
    """{(provider, name): size}: equal snapshots mean no shard file appeared,
    disappeared or changed size. A file the gateway's GC deletes between the
    listing and its stat is left out: it is gone."""
    sizes = {}
    for k, path in shard_files(data_dir, providers).items():
        try:
            sizes[k] = os.path.getsize(path)
        except FileNotFoundError:
            pass
    return sizes


def count_on(data_dir, provider):
    return len(provider_files(os.path.join(data_dir, provider)))


def shards_written(data_dir, call, providers=LOCAL):
    """Runs call(); returns (its result, the set of shard files it added).
    With content nobody stored before (no dedupe), those are the new blob's."""
    before = set(shard_files(data_dir, providers))
    res = call()
    return res, set(shard_files(data_dir, providers)) - before


def read_file(path):
    with open(path, "rb") as f:
        return f.read()


def write_file(path, data):
    with open(path, "wb") as f:
        f.write(data)


# ---- layouts -------------------------------------------------------------------

# blobs.layout: "1 <class> <scheme> <segment> <prov,prov,...> <wrapped key hex>"
# (seal/vault.c note 3), scheme "plain" or "<k>+<m>".
Layout = namedtuple("Layout", "cls plain k m segment providers")


def parse_layout(text):
    if text is None:  # rows from before sealing: plain on provider "default"
        return Layout(None, True, 1, 0, 1 << 20, ("default",))
    _, cls, scheme, seg, provs, _ = text.split(" ")
    if scheme == "plain":
        k, m = 1, 0
    else:
        k, m = map(int, scheme.split("+"))
    return Layout(cls, scheme == "plain", k, m, int(seg), tuple(provs.split(",")))


def shard_size(size, layout):
    """Exact bytes of each shard of a blob of size bytes (seal/format.c:
    header, then per segment one fragment of ceil(segment length / k) bytes
    and its tag)."""
    if layout.plain:
        return size
    nseg = -(-size // layout.segment)
    if nseg == 0:
        return HDR
    full = -(-layout.segment // layout.k)
    last = size - (nseg - 1) * layout.segment
    return HDR + (nseg - 1) * (full + TAG) + -(-last // layout.k) + TAG


# ---- meta.db --------------------------------------------------------------------

class Meta:
    """Read-only view of data_dir/meta.db (safe while the gateway runs: WAL)."""

    def __init__(self, data_dir):
        self.path = os.path.join(data_dir, "meta.db")

    def q(self, sql, *args):
        con = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=10)
        try:
            return con.execute(sql, args).fetchall()
        finally:
            con.close()

    def blob_by_sha(self, data_sha256):
        """Rows (bid, locator, state, refcount) of blobs whose content has this SHA-256 (hex)."""
        return self.q("SELECT bid, locator, state, refcount FROM blobs WHERE sha256 = ?", data_sha256)

    def row_exists(self, bid):
        return bool(self.q("SELECT 1 FROM blobs WHERE bid = ?", bid))

    def data_exists(self, bid):
        return bool(self.q("SELECT 1 FROM blob_data WHERE bid = ?", bid))

    def states(self):
        return dict(self.q("SELECT state, count(*) FROM blobs GROUP BY state"))

    def sealed(self, states=("live", "dead", "pending")):
        """Rows (bid, size, state, Layout, bad) of blobs on providers (not inline)."""
        marks = ",".join("?" * len(states))
        return [(bid, size, state, parse_layout(layout), bad) for bid, size, state, layout, bad in self.q(
            f"SELECT bid, size, state, layout, bad FROM blobs WHERE substr(locator, 1, 1) != '=' "
            f"AND state IN ({marks}) ORDER BY bid", *states)]

    def blob(self, bid):
        """(size, state, Layout, bad) of one blob."""
        size, state, layout, bad = self.q("SELECT size, state, layout, bad FROM blobs WHERE bid = ?", bid)[0]
        return size, state, parse_layout(layout), bad

    def newest_bid(self):
        return self.q("SELECT max(bid) FROM blobs")[0][0] or 0


def store_problems(data_dir, meta, providers=LOCAL):
    """Shard files against blob rows, provider by provider: each blob on a
    provider (live, or dead and not yet collected) has exactly one shard there,
    of the exact size its layout gives, and nothing else is there. Pending rows
    (puts in flight) are reported: call this when the store is at rest.
    Returns a list of problems."""
    problems = []
    rows = meta.sealed(("live", "dead", "pending"))
    pending = [bid for bid, _, state, _, _ in rows if state == "pending"]
    if pending:
        problems.append(f"blobs still pending (intents of unfinished puts): {pending[:10]}")
    for p in providers:
        files = provider_files(os.path.join(data_dir, p))
        on_p = [(size, lay) for _, size, state, lay, _ in rows if state != "pending" and p in lay.providers]
        want_bytes = sum(shard_size(size, lay) for size, lay in on_p)
        have_bytes = sum(os.path.getsize(f) for f in files.values())
        if len(files) != len(on_p):
            problems.append(f"{len(files)} shard files on {p}, but {len(on_p)} blobs have a shard there")
        elif have_bytes != want_bytes:
            problems.append(f"shard files on {p} hold {have_bytes} bytes, the layouts of its blobs say {want_bytes}")
        leftovers = tmp_files(os.path.join(data_dir, p))
        if leftovers:
            problems.append(f"temporaries left in {p}/tmp: {leftovers[:5]}")
    return problems
