# Grows a copy of a lab hub's JupyterHub database to at least TARGET bytes, for the backup
# benchmark (examples/bench_backup.rs):  python3 big_db.py SEED_DB OUT TARGET_BYTES
#
# The JupyterHub tables (users, tokens, alembic_version, ...) are kept as they are; a table
# `bench_filler` of text rows is added. The rows compress like real data at deflate level 1
# (~0.35 with zlib, ~0.4 with miniz_oxide; baselines.md's database: 0.34): a Zipf-weighted
# vocabulary of word-like tokens plus a random hex id per row.
# Bodies come from a pool of 20,000 rows, far larger than deflate's 32 KiB window, so repeats do
# not help gzip; generating every row afresh would take minutes on a loaded 2-core machine.
# Written to OUT.tmp and renamed, so an interrupted run leaves no half database behind.
import os
import random
import shutil
import sqlite3
import sys

seed, out, target = sys.argv[1], sys.argv[2], int(sys.argv[3])
rng = random.Random(20261125)
letters = "etaoinshrdlcumwfgypbvkjxqz"
freq = [12, 9, 8, 7.5, 7, 6.7, 6.3, 6, 5.9, 4.3, 4, 2.8, 2.4, 2.4, 2.2, 2, 1.9, 1.9, 1.5, 1, 0.8,
        0.15, 0.15, 0.1, 0.1, 0.07]
words = ["".join(rng.choices(letters, freq, k=rng.randint(2, 10))) for _ in range(2000)]
zipf = [1 / (i + 1) ** 1.6 for i in range(len(words))]
pool = [" ".join(rng.choices(words, zipf, k=rng.randint(20, 120))) for _ in range(20000)]

tmp = out + ".tmp"
shutil.copyfile(seed, tmp)
db = sqlite3.connect(tmp, isolation_level=None)
db.execute("PRAGMA journal_mode=OFF")
db.execute("PRAGMA synchronous=OFF")
db.execute(
    "CREATE TABLE bench_filler (id INTEGER PRIMARY KEY, token TEXT, body TEXT, score REAL)"
)
while os.path.getsize(tmp) < target:
    rows = [
        (rng.getrandbits(128).to_bytes(16, "little").hex(), rng.choice(pool), rng.random() * 1e6)
        for _ in range(50000)
    ]
    db.execute("BEGIN")
    db.executemany("INSERT INTO bench_filler (token, body, score) VALUES (?, ?, ?)", rows)
    db.execute("COMMIT")
db.execute("PRAGMA journal_mode=DELETE")
db.close()
os.replace(tmp, out)
