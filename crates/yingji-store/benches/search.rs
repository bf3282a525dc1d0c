//! The search box at province scale (issue 19: "1 million cases on SQLite and PostgreSQL: first
//! page of results for a name, a case number and a two-character grievance word, under 50 ms
//! warm"). Not run by CI.
//!
//! Fills the search index (migrations 0015, 0016) with synthetic cases and times
//! `Store::search`, the query the search box and `GET /api/v1/search` send, warm (mean of 30
//! runs after one), for the first page of 50.
//!
//! Each case has about 30 terms: its case number's (a unique sequence number, the year, the
//! office's pairs), two of a thousand invented names (a pair each), and 24 words drawn from
//! 5,000 pairs with a Zipf-like skew (the commonest, 要求, in about a third of the cases). One
//! province › 10 cities › 100 counties › 1,000 townships, cases spread evenly, ids time-ordered.
//! The secondary indexes are built after the load, as a bulk import would (on SQLite the table
//! is itself keyed in search order).
//!
//! SQLite in a temporary directory; PostgreSQL too when YINGJI_TEST_POSTGRES_URL is set (a
//! scratch database is created and dropped).
//!
//! Usage: cargo bench -p yingji-store --bench search [-- CASES]   (default 1,000,000)

mod common;

use std::time::Instant;

use yingji_store::{Backend, Store};

/// A small deterministic generator (xorshift64*), so both backends get the same data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn jid(n: u64) -> String {
    format!("00000000-0000-7000-8000-{n:012}")
}

/// Time-ordered ids: the sequence number in the high bits, like UUIDv7.
fn case_id(n: u64) -> String {
    format!(
        "{:08x}-0000-7000-8000-{:012x}",
        n >> 16,
        n & 0xFFFF_FFFF_FFFF
    )
}

struct Data {
    towns: Vec<String>,
    vocab: Vec<String>,
    cumulative: Vec<f64>,
    names: Vec<String>,
}

fn data() -> Data {
    let mut towns = Vec::new();
    for c in 1..=10u64 {
        for k in 1..=10u64 {
            for t in 1..=10u64 {
                towns.push(format!(
                    "/{}/{}/{}/{}/",
                    jid(1),
                    jid(10 + c),
                    jid(1000 + c * 100 + k),
                    jid(100_000 + c * 1000 + k * 10 + t)
                ));
            }
        }
    }
    let mut rng = Rng(7);
    let common: Vec<char> =
        "要求反映问题群众补偿土地村民公开标准拆迁工资拖欠住房噪声道路排水低保资格学校医疗环境污染征地物业停车路灯供水"
            .chars()
            .collect();
    let chars: Vec<char> = (0..20_000u32)
        .step_by(3)
        .filter_map(|i| char::from_u32(0x4E00 + i))
        .collect();
    let mut vocab: Vec<String> = common.chunks(2).map(|p| p.iter().collect()).collect();
    while vocab.len() < 5000 {
        vocab.push(
            [chars[rng.below(chars.len())], chars[rng.below(chars.len())]]
                .iter()
                .collect(),
        );
    }
    let mut cumulative = Vec::with_capacity(vocab.len());
    let mut sum = 0.0;
    for i in 0..vocab.len() {
        sum += 1.0 / ((i + 1) as f64).powf(0.9);
        cumulative.push(sum);
    }
    let names = (0..1000)
        .map(|_| {
            [chars[rng.below(chars.len())], chars[rng.below(chars.len())]]
                .iter()
                .collect()
        })
        .collect();
    Data {
        towns,
        vocab,
        cumulative,
        names,
    }
}

async fn load(store: &Store, d: &Data, cases: u64) {
    let pool = store.pool();
    let t = Instant::now();
    let pg = store.backend() == Backend::Postgres;
    let indexes: &[(&str, &str)] = if pg {
        &[
            (
                "search_terms_newest",
                "CREATE INDEX search_terms_newest ON search_terms (term, subject_id) INCLUDE (jurisdiction_path, subject_kind)",
            ),
            (
                "search_terms_scope",
                "CREATE INDEX search_terms_scope ON search_terms (term, jurisdiction_path, subject_id) INCLUDE (subject_kind)",
            ),
        ]
    } else {
        &[(
            "search_terms_scope",
            "CREATE INDEX search_terms_scope ON search_terms (term, jurisdiction_path, subject_id)",
        )]
    };
    for (ix, _) in indexes {
        sqlx::query(&format!("DROP INDEX {ix}"))
            .execute(pool)
            .await
            .unwrap();
    }
    let cast = if pg { "::uuid" } else { "" };
    let mut rng = Rng(11);
    let total = *d.cumulative.last().unwrap();
    let mut rows: Vec<(String, String, String)> = Vec::new();
    // SQLite: loaded unordered into a plain table, then copied in key order (a bulk import's
    // way; the WITHOUT ROWID table takes rows in key order without splitting pages).
    let target = if pg { "search_terms" } else { "search_load" };
    if !pg {
        sqlx::query("CREATE TABLE search_load (term TEXT, subject_kind TEXT, subject_id TEXT, jurisdiction_path TEXT)")
            .execute(pool)
            .await
            .unwrap();
    }
    let mut tx = pool.begin().await.unwrap();
    for n in 1..=cases {
        let id = case_id(n);
        let path = &d.towns[(n as usize) % d.towns.len()];
        let mut terms: std::collections::BTreeSet<String> = ["临溪", "溪市", "市信", "2026", "号"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        terms.insert(n.to_string());
        terms.insert(d.names[rng.below(d.names.len())].clone());
        terms.insert(d.names[rng.below(d.names.len())].clone());
        for _ in 0..24 {
            let x = rng.unit() * total;
            let i = d
                .cumulative
                .partition_point(|c| *c < x)
                .min(d.vocab.len() - 1);
            terms.insert(d.vocab[i].clone());
        }
        for term in terms {
            rows.push((term, id.clone(), path.clone()));
        }
        if rows.len() >= 1000 || n == cases {
            let mut sql = format!(
                "INSERT INTO {target} (term, subject_kind, subject_id, jurisdiction_path) VALUES "
            );
            for (i, _) in rows.iter().enumerate() {
                if i > 0 {
                    sql.push(',');
                }
                if cast.is_empty() {
                    sql.push_str("(?, 'case', ?, ?)");
                } else {
                    let b = i * 3;
                    sql.push_str(&format!(
                        "(${}, 'case', ${}{cast}, ${})",
                        b + 1,
                        b + 2,
                        b + 3
                    ));
                }
            }
            let mut q = sqlx::query(&sql);
            for (term, id, path) in rows.drain(..) {
                q = q.bind(term).bind(id).bind(path);
            }
            q.execute(&mut *tx).await.unwrap();
            if n % 50_000 == 0 {
                tx.commit().await.unwrap();
                tx = pool.begin().await.unwrap();
            }
        }
    }
    tx.commit().await.unwrap();
    if !pg {
        for stmt in [
            "INSERT INTO search_terms (term, subject_id, subject_kind, jurisdiction_path) SELECT term, subject_id, subject_kind, jurisdiction_path FROM search_load ORDER BY term, subject_id, subject_kind",
            "DROP TABLE search_load",
        ] {
            sqlx::query(stmt).execute(pool).await.unwrap();
        }
    }
    let loaded = t.elapsed().as_secs_f64();
    for (_, stmt) in indexes {
        sqlx::query(stmt).execute(pool).await.unwrap();
    }
    if !pg {
        // The store's writer checkpoints the WAL itself; this load went around it.
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(pool)
            .await
            .unwrap();
    }
    let analyze = if pg {
        "VACUUM ANALYZE search_terms"
    } else {
        "ANALYZE"
    };
    sqlx::query(analyze).execute(pool).await.unwrap();
    let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM search_terms")
        .fetch_one(pool)
        .await
        .unwrap();
    println!(
        "  {cases} cases, {rows} term rows: loaded in {loaded:.0} s, indexed in {:.0} s",
        t.elapsed().as_secs_f64() - loaded
    );
}

async fn time(store: &Store, label: &str, scope: &str, terms: &[&str]) {
    let terms: Vec<String> = terms.iter().map(|s| s.to_string()).collect();
    let found = store.search(scope, &terms, 50).await.unwrap().len();
    let runs = 30;
    let t = Instant::now();
    for _ in 0..runs {
        store.search(scope, &terms, 50).await.unwrap();
    }
    let ms = t.elapsed().as_secs_f64() * 1000.0 / runs as f64;
    println!("  {label:<40} {ms:8.2} ms  ({found} found)");
}

async fn run(label: &str, store: Store, cases: u64) {
    println!("{label}:");
    let d = data();
    load(&store, &d, cases).await;
    let county = format!("/{}/{}/{}/", jid(1), jid(11), jid(1101));
    let town = format!("{county}{}/", jid(101_011));
    let province = format!("/{}/", jid(1));
    let name = d.names[3].as_str();
    let medium = d.vocab[40].as_str();
    let rare = d.vocab[4000].as_str();
    let number = (cases / 2).to_string();
    println!("  warm, first page of 50:");
    time(&store, "name, township", &town, &[name]).await;
    time(&store, "name, county", &county, &[name]).await;
    time(&store, "name, province", &province, &[name]).await;
    time(
        &store,
        "case number, province",
        &province,
        &[&number, "2026", "临溪", "溪市", "市信", "号"],
    )
    .await;
    time(&store, "common word 要求, township", &town, &["要求"]).await;
    time(&store, "common word 要求, county", &county, &["要求"]).await;
    time(&store, "common word 要求, province", &province, &["要求"]).await;
    time(
        &store,
        &format!("medium word {medium}, county"),
        &county,
        &[medium],
    )
    .await;
    time(
        &store,
        &format!("medium word {medium}, province"),
        &province,
        &[medium],
    )
    .await;
    time(
        &store,
        &format!("rare word {rare}, province"),
        &province,
        &[rare],
    )
    .await;
    time(
        &store,
        "two words 要求 补偿, county",
        &county,
        &["要求", "补偿"],
    )
    .await;
    time(
        &store,
        "two words 要求 补偿, province",
        &province,
        &["要求", "补偿"],
    )
    .await;
    time(
        &store,
        &format!("name and word {name} 要求, province"),
        &province,
        &[name, "要求"],
    )
    .await;
    time(&store, "absent word, province", &province, &["无此"]).await;
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let cases: u64 = args
        .first()
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    common::on_each_backend("search", |label, store| run(label, store, cases));
}
