#!/usr/bin/env python3
"""Search over 1 million cases on SQLite (not run by CI): the search index of migration 0015
(crates/yingji-store/migrations/sqlite/0015_search_terms.sql) filled with synthetic terms, and
the query `Store::search` sends (crates/yingji-store/src/search.rs), warm.

Each case has 30 terms like a real one (number, title, grievance, a name): its case number's
terms (unique sequence number, the year, the office's pairs), two of a thousand invented names
(a pair each), and 24 words drawn from a vocabulary of 5,000 pairs with a Zipf-like skew (the
commonest, like 要求, in most cases; the rarest in a handful). 1 province > 10 cities > 100
counties > 1,000 townships, cases spread evenly; ids time-ordered.

Measured: mean of 50 runs after one warm-up, in one connection, for the first page (50) of
  1. a name (one rare pair) in a county and in the province,
  2. a case number (its terms) in the province,
  3. a two-character grievance word, common (要求, in about a third of the cases) and medium (a few per cent), in a county
     and in the province.

Usage: python3 bench/search.py [CASES]   (default 1000000; about 3 GB of free disk)
"""
import os, random, sqlite3, sys, tempfile, time

N = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
here = os.path.dirname(os.path.abspath(__file__))
schema = open(os.path.join(here, "..", "crates/yingji-store/migrations/sqlite/0015_search_terms.sql")).read()
work = tempfile.mkdtemp()
db = sqlite3.connect(os.path.join(work, "search.db"))
db.execute("PRAGMA journal_mode=WAL")
db.execute("PRAGMA synchronous=OFF")
# Load without the secondary index, then build it, as a bulk load would.
create_index = [l for l in schema.splitlines() if l.startswith("CREATE INDEX")]
db.executescript("\n".join(l for l in schema.splitlines() if not l.startswith("CREATE INDEX")))

def jid(n):
    return "00000000-0000-7000-8000-%012d" % n

towns = []
for c in range(1, 11):
    for k in range(1, 11):
        for t in range(1, 11):
            towns.append("/%s/%s/%s/%s/" % (jid(1), jid(10 + c), jid(1000 + c * 100 + k), jid(100000 + c * 1000 + k * 10 + t)))
county = "/%s/%s/%s/" % (jid(1), jid(11), jid(1101))
province = "/%s/" % jid(1)

rng = random.Random(7)
common = "要求反映问题群众补偿土地村民公开标准拆迁工资拖欠住房噪声道路排水低保资格学校医疗环境污染征地物业停车路灯供水"
chars = [chr(0x4E00 + i) for i in range(0, 20000, 3)]
vocab = [common[i:i + 2] for i in range(0, len(common) - 1, 2)]
while len(vocab) < 5000:
    vocab.append(rng.choice(chars) + rng.choice(chars))
weights = [1.0 / (i + 1) ** 0.9 for i in range(len(vocab))]
names = [rng.choice(chars) + rng.choice(chars) for _ in range(1000)]

def uid(n):
    # time-ordered: the sequence number in the high bits
    return "%08x-0000-7000-8000-%012x" % (n // 65536, n % (1 << 48))

t0 = time.time()
batch = []
ins = "INSERT OR IGNORE INTO search_terms (term, subject_kind, subject_id, jurisdiction_path) VALUES (?, 'case', ?, ?)"
for n in range(1, N + 1):
    sid, path = uid(n), towns[n % len(towns)]
    terms = {"临溪", "溪市", "市信", "2026", str(n), "号"}
    terms.update(rng.sample(names, 2))
    terms.update(rng.choices(vocab, weights, k=24))
    for t in terms:
        batch.append((t, sid, path))
    if len(batch) >= 200_000:
        db.executemany(ins, batch)
        batch.clear()
db.executemany(ins, batch)
db.commit()
t1 = time.time()
for stmt in create_index:
    db.execute(stmt)
db.execute("ANALYZE")
db.commit()
rows = db.execute("SELECT COUNT(*) FROM search_terms").fetchone()[0]
print(f"{N} cases, {rows} term rows: loaded in {t1 - t0:.0f} s, indexed in {time.time() - t1:.0f} s; "
      f"{os.path.getsize(os.path.join(work, 'search.db')) / 1e9:.1f} GB")

def query(scope, terms):
    lo, hi = scope, scope[:-1] + "0"
    sql = ("SELECT t0.subject_kind, t0.subject_id FROM search_terms t0 WHERE t0.term = ? "
           "AND t0.jurisdiction_path >= ? AND t0.jurisdiction_path < ?")
    args = [terms[0], lo, hi]
    for t in terms[1:]:
        sql += (" AND EXISTS (SELECT 1 FROM search_terms t1 WHERE t1.term = ? "
                "AND t1.subject_kind = t0.subject_kind AND t1.subject_id = t0.subject_id)")
        args.append(t)
    sql += " ORDER BY t0.subject_id DESC LIMIT ?"
    args.append(50)
    return sql, args

def bench(label, scope, terms, runs=50):
    sql, args = query(scope, terms)
    got = db.execute(sql, args).fetchall()
    t = time.perf_counter()
    for _ in range(runs):
        db.execute(sql, args).fetchall()
    ms = (time.perf_counter() - t) / runs * 1000
    freq = db.execute("SELECT COUNT(*) FROM search_terms WHERE term = ?", (terms[0],)).fetchone()[0]
    print(f"  {label:<44} {ms:8.2f} ms  ({len(got)} found; first term in {freq} cases)")

name = names[3]
medium = vocab[40]   # a few per cent of cases
print("warm, first page of 50:")
bench("name, county", county, [name])
bench("name, province", province, [name])
bench("case number, province", province, [str(N // 2), "2026", "临溪", "溪市", "市信", "号"])
bench("common word 要求, county", county, ["要求"])
bench("common word 要求, province", province, ["要求"])
bench(f"medium word {medium}, county", county, [medium])
bench(f"medium word {medium}, province", province, [medium])
bench("two words 要求 补偿, county", county, ["要求", "补偿"])
