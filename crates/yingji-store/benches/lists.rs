//! The incident list at province scale (issue 20 item 1). Not run by CI.
//!
//! Grows one province (10 cities › 100 counties › 1,000 townships, incidents spread evenly,
//! ids time-ordered, one in twenty still open) to each size in turn and times
//! `Store::list_incidents` — what `GET /api/v1/incidents` and the console's list send — for the
//! first page of 50, warm (p50 and p99 of 200 runs): the province, a random county, a random
//! township, each without and with a state filter, and the next page after a cursor; and
//! `Store::list_tasks` (three tasks per incident): the province, open ones in the province and
//! a county, a township, and one person's own tasks (all and open); `Store::list_deliveries` (one
//! per incident) and `Store::list_disputes` (one per ten incidents): the province, with a
//! state, a county and a township.
//!
//! SQLite in a temporary directory; PostgreSQL too when YINGJI_TEST_POSTGRES_URL is set (a
//! scratch database is created and dropped).
//!
//! Usage: cargo bench -p yingji-store --bench lists [-- SIZES…]   (default 1000 10000 100000 1000000)

mod common;

use std::time::Instant;

use uuid::Uuid;
use yingji_store::notify::DeliveryFilter;
use yingji_store::{Backend, IncidentFilter, Store, TaskFilter};

fn jid(n: u64) -> String {
    format!("00000000-0000-7000-8000-{n:012}")
}

fn town(i: u64) -> (String, String) {
    let (c, k, t) = (1 + i / 100 % 10, 1 + i / 10 % 10, 1 + i % 10);
    let county = format!("/{}/{}/{}/", jid(1), jid(10 + c), jid(1000 + c * 100 + k));
    (
        county.clone(),
        format!("{county}{}/", jid(100_000 + c * 1000 + k * 10 + t)),
    )
}

/// The person whose own tasks are measured.
fn person() -> String {
    jid(999_999)
}

async fn grow(store: &Store, from: u64, to: u64) {
    let pool = store.pool();
    let pg = store.backend() == Backend::Postgres;
    let mut tx = pool.begin().await.unwrap();
    let mut batch = 0;
    let mut sql = String::new();
    let mut binds: Vec<String> = Vec::new();
    for n in from..to {
        let id = format!(
            "{:08x}-0000-7000-8000-{:012x}",
            n >> 16,
            n & 0xFFFF_FFFF_FFFF
        );
        let (_, path) = town(n % 1000);
        let status = if n % 20 == 0 { "reported" } else { "closed" };
        if batch == 0 {
            sql = "INSERT INTO incidents (id, jurisdiction_id, jurisdiction_path, plan_id, plan_version, kind, status, level, drill, headcount, title, reported_at, updated_at, next_due_ms, body) VALUES ".into();
        } else {
            sql.push(',');
        }
        let b = binds.len();
        if pg {
            sql.push_str(&format!("(${}::uuid, ${}::uuid, ${}, 'p', 1, 'event', ${}, NULL, false, 10, '事件', '2026-03-02T02:00:00Z'::timestamptz, '2026-03-02T02:00:00Z'::timestamptz, NULL, '{{}}'::json)", b + 1, b + 2, b + 3, b + 4));
        } else {
            sql.push_str("(?, ?, ?, 'p', 1, 'event', ?, NULL, 0, 10, '事件', '2026-03-02T02:00:00.000000Z', '2026-03-02T02:00:00.000000Z', NULL, '{}')");
        }
        binds.extend([id, jid(1), path, status.to_string()]);
        batch += 1;
        if batch == 500 || n + 1 == to {
            let mut q = sqlx::query(&sql);
            for v in binds.drain(..) {
                q = q.bind(v);
            }
            q.execute(&mut *tx).await.unwrap();
            batch = 0;
        }
    }
    // Three tasks per incident, due 15 minutes apart, open while the incident is; one task in
    // three hundred assigned to the measured person.
    let mut batch = 0;
    let mut mine = Vec::new();
    for n in from..to {
        let (_, path) = town(n % 1000);
        let state = if n % 20 == 0 { "open" } else { "done" };
        for t in 0..3u64 {
            let k = n * 3 + t;
            let id = format!(
                "{:08x}-0000-7000-9000-{:012x}",
                k >> 16,
                k & 0xFFFF_FFFF_FFFF
            );
            let inc = format!(
                "{:08x}-0000-7000-8000-{:012x}",
                n >> 16,
                n & 0xFFFF_FFFF_FFFF
            );
            let due = format!(
                "{}",
                jiff::Timestamp::from_second(1_772_416_800 + (n * 60 + t * 900) as i64).unwrap()
            );
            if batch == 0 {
                sql = "INSERT INTO tasks (id, incident_id, jurisdiction_path, grp, title, state, due_at, overdue, drill, assignees) VALUES ".into();
            } else {
                sql.push(',');
            }
            let b = binds.len();
            if pg {
                sql.push_str(&format!("(${}::uuid, ${}::uuid, ${}, 'g', '任务', ${}, ${}::timestamptz, false, false, '[]'::jsonb)", b + 1, b + 2, b + 3, b + 4, b + 5));
            } else {
                sql.push_str("(?, ?, ?, 'g', '任务', ?, ?, 0, 0, '[]')");
            }
            binds.extend([
                id.clone(),
                inc,
                path.clone(),
                state.to_string(),
                due.clone(),
            ]);
            batch += 1;
            if batch == 400 || (n + 1 == to && t == 2) {
                let mut q = sqlx::query(&sql);
                for v in binds.drain(..) {
                    q = q.bind(v);
                }
                q.execute(&mut *tx).await.unwrap();
                batch = 0;
            }
            if k % 300 == 0 {
                mine.push((id, state, due));
            }
        }
    }
    let cast = if pg { "::uuid" } else { "" };
    let tcast = if pg { "::timestamptz" } else { "" };
    for (id, state, due) in mine {
        sqlx::query(&format!(
            "INSERT INTO task_assignees (task_id, person_id, state, due_at) VALUES ('{id}'{cast}, '{}'{cast}, '{state}', '{due}'{tcast})",
            person()
        ))
        .execute(&mut *tx)
        .await
        .unwrap();
    }
    // One delivery per incident (created in the incident's order, one in three still
    // pending) and one dispute per ten incidents (one in four still registered).
    let mut batch = 0;
    for n in from..to {
        let (_, path) = town(n % 1000);
        let id = format!(
            "{:08x}-0000-4000-8000-{:012x}",
            n >> 16,
            n & 0xFFFF_FFFF_FFFF
        );
        let at = format!(
            "{}",
            jiff::Timestamp::from_second(1_772_416_800 + n as i64).unwrap()
        );
        let state = if n % 3 == 0 { "pending" } else { "sent" };
        if batch == 0 {
            sql = "INSERT INTO deliveries (id, outbox_id, incident_id, call_id, jurisdiction_path, person_id, channel, address, subject, body, ack_url, drill, state, attempts, next_at_ms, created_at) VALUES ".into();
        } else {
            sql.push(',');
        }
        let b = binds.len();
        if pg {
            sql.push_str(&format!("(${}::uuid, ${}::uuid, NULL, NULL, ${}, NULL, 'webhook', 'http://127.0.0.1:9/', '通知', '正文', NULL, false, ${}, 0, 0, ${}::timestamptz)", b + 1, b + 2, b + 3, b + 4, b + 5));
        } else {
            sql.push_str("(?, ?, NULL, NULL, ?, NULL, 'webhook', 'http://127.0.0.1:9/', '通知', '正文', NULL, 0, ?, 0, 0, ?)");
        }
        binds.extend([id.clone(), id, path, state.to_string(), at]);
        batch += 1;
        if batch == 500 || n + 1 == to {
            let mut q = sqlx::query(&sql);
            for v in binds.drain(..) {
                q = q.bind(v);
            }
            q.execute(&mut *tx).await.unwrap();
            batch = 0;
        }
    }
    for n in (from..to).filter(|n| n % 10 == 0) {
        let (_, path) = town(n % 1000);
        let id = format!(
            "{:08x}-0000-7000-a000-{:012x}",
            n >> 16,
            n & 0xFFFF_FFFF_FFFF
        );
        let status = if n % 40 == 0 { "registered" } else { "closed" };
        let (cast, body) = if pg {
            ("::uuid", "'{}'::jsonb")
        } else {
            ("", "'{}'")
        };
        let ts = if pg {
            "now()"
        } else {
            "'2026-03-02T02:00:00.000000Z'"
        };
        sqlx::query(&format!(
            "INSERT INTO disputes (id, jurisdiction_id, jurisdiction_path, round_id, status, risk, nature, title, reported_upward, registered_at, updated_at, body) VALUES ('{id}'{cast}, '{}'{cast}, '{path}', NULL, '{status}', 'low', '邻里', '纠纷', {}, {ts}, {ts}, {body})",
            jid(1),
            if pg { "false" } else { "0" }
        ))
        .execute(&mut *tx)
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    let analyze = if pg { "VACUUM ANALYZE" } else { "ANALYZE" };
    sqlx::query(analyze).execute(pool).await.unwrap();
    if !pg {
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(pool)
            .await
            .unwrap();
    }
}

async fn time(store: &Store, f: IncidentFilter) -> (f64, f64, usize) {
    let found = store.list_incidents(&f).await.unwrap().len();
    let mut ms: Vec<f64> = (0..200).map(|_| 0.0).collect();
    for m in ms.iter_mut() {
        let t = Instant::now();
        store.list_incidents(&f).await.unwrap();
        *m = t.elapsed().as_secs_f64() * 1000.0;
    }
    ms.sort_by(|a, b| a.partial_cmp(b).unwrap());
    (ms[100], ms[197], found)
}

async fn run(label: &str, store: Store, sizes: &[u64]) {
    println!("{label}: first page of 50, p50 / p99 ms (found)");
    // The root jurisdiction the synthetic rows name (foreign keys).
    let pool = store.pool();
    let pg = store.backend() == Backend::Postgres;
    let root = jid(1);
    let ins = if pg {
        format!(
            "INSERT INTO jurisdictions (id, parent_id, name, kind, code, path, created_at) VALUES ('{root}'::uuid, NULL, '省', 'province', NULL, '/{root}/', now())"
        )
    } else {
        format!(
            "INSERT INTO jurisdictions (id, parent_id, name, kind, code, path, created_at) VALUES ('{root}', NULL, '省', 'province', NULL, '/{root}/', '2026-03-02T02:00:00.000000Z')"
        )
    };
    sqlx::query(&ins).execute(pool).await.unwrap();
    let mut have = 0;
    let mut seed = 12345u64;
    for &size in sizes {
        grow(&store, have, size).await;
        have = size;
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let (county, township) = town((seed >> 33) % 1000);
        let province = format!("/{root}/");
        let cursor = {
            let n = size * 3 / 4;
            Some(
                format!(
                    "{:08x}-0000-7000-8000-{:012x}",
                    n >> 16,
                    n & 0xFFFF_FFFF_FFFF
                )
                .parse::<Uuid>()
                .unwrap(),
            )
        };
        println!("  {size} incidents:");
        for (what, scope, status, before) in [
            ("province", &province, None, None),
            ("province, open", &province, Some("reported"), None),
            ("province, after a cursor", &province, None, cursor),
            ("county", &county, None, None),
            ("county, open", &county, Some("reported"), None),
            ("township", &township, None, None),
            ("township, open", &township, Some("reported"), None),
        ] {
            let (p50, p99, found) = time(
                &store,
                IncidentFilter {
                    scope_path: scope.clone(),
                    status: status.map(str::to_string),
                    before,
                    limit: 50,
                    ..Default::default()
                },
            )
            .await;
            println!("    {what:<28} {p50:7.2} / {p99:7.2}  ({found})");
        }
        let me: Uuid = person().parse().unwrap();
        for (what, scope, state, assignee) in [
            ("tasks, province", &province, None, None),
            ("tasks, province, open", &province, Some("open"), None),
            ("tasks, county, open", &county, Some("open"), None),
            ("tasks, township", &township, None, None),
            ("my tasks, province", &province, None, Some(me)),
            (
                "my tasks, province, open",
                &province,
                Some("open"),
                Some(me),
            ),
        ] {
            let f = TaskFilter {
                scope_path: scope.clone(),
                assignee,
                state: state.map(str::to_string),
                overdue: None,
                drill: None,
                after: None,
                limit: 50,
            };
            let found = store.list_tasks(&f).await.unwrap().len();
            let mut ms: Vec<f64> = Vec::with_capacity(200);
            for _ in 0..200 {
                let t = Instant::now();
                store.list_tasks(&f).await.unwrap();
                ms.push(t.elapsed().as_secs_f64() * 1000.0);
            }
            ms.sort_by(|a, b| a.partial_cmp(b).unwrap());
            println!(
                "    {what:<28} {:7.2} / {:7.2}  ({found})",
                ms[100], ms[197]
            );
        }
        for (what, scope, state) in [
            ("deliveries, province", &province, None),
            ("deliveries, province, pending", &province, Some("pending")),
            ("deliveries, county", &county, None),
            ("deliveries, township", &township, None),
        ] {
            let f = DeliveryFilter {
                scope_path: scope.clone(),
                state: state.map(str::to_string),
                limit: 50,
                ..Default::default()
            };
            let found = store.list_deliveries(&f).await.unwrap().len();
            let mut ms: Vec<f64> = Vec::with_capacity(200);
            for _ in 0..200 {
                let t = Instant::now();
                store.list_deliveries(&f).await.unwrap();
                ms.push(t.elapsed().as_secs_f64() * 1000.0);
            }
            ms.sort_by(|a, b| a.partial_cmp(b).unwrap());
            println!(
                "    {what:<28} {:7.2} / {:7.2}  ({found})",
                ms[100], ms[197]
            );
        }
        for (what, scope, state) in [
            ("disputes, province", &province, None),
            ("disputes, province, open", &province, Some("registered")),
            ("disputes, county", &county, None),
            ("disputes, township", &township, None),
        ] {
            let found = store
                .list_disputes(scope, state, None, None, 50)
                .await
                .unwrap()
                .len();
            let mut ms: Vec<f64> = Vec::with_capacity(200);
            for _ in 0..200 {
                let t = Instant::now();
                store
                    .list_disputes(scope, state, None, None, 50)
                    .await
                    .unwrap();
                ms.push(t.elapsed().as_secs_f64() * 1000.0);
            }
            ms.sort_by(|a, b| a.partial_cmp(b).unwrap());
            println!(
                "    {what:<28} {:7.2} / {:7.2}  ({found})",
                ms[100], ms[197]
            );
        }
    }
}

fn main() {
    let sizes: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let sizes = if sizes.is_empty() {
        vec![1000, 10_000, 100_000, 1_000_000]
    } else {
        sizes
    };
    common::on_each_backend("lists", |label, store| run(label, store, &sizes));
}
