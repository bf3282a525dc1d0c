//! Petition cases at province scale (issue 20: "10M cases … the case list without filter, the
//! overdue page of a random county"). Not run by CI.
//!
//! Loads N cases (default 10,000,000) into the real schema with one generating statement per
//! backend (a recursive CTE on SQLite, `generate_series` on PostgreSQL), the secondary indexes
//! dropped first and rebuilt after from the schema's own definitions, and `case_stats` filled
//! with the aggregate the server keeps in each write. The tree: 1 province › 10 cities › 100
//! counties › 1,000 townships, cases spread over the townships by a hash; accepted from
//! 2025-01-01 to "now" (2026-06-01 UTC), due 60 days after; the due ones replied except every
//! 50th (2 %, in every township), which stays open and overdue.
//!
//! Then times, warm, what the API sends — `Store::list_cases` and `Store::case_stats`, the
//! same calls as `GET /api/v1/cases` and the statistics page — for a county, a city and a
//! township drawn at random (a different one for each request kind), p50 and p99 of 100 runs
//! and this process's CPU per request (on SQLite that is the query; on PostgreSQL the
//! database's own CPU is not in it):
//! the first page (50) without a filter (newest first) for the province, a city, a county and a
//! township, and the next page after its last id; the overdue page of a county; the cases due in
//! the next 3 days of a county; the quarterly statistics of a city by department; the quarterly
//! workbook of a city (five groupings written as an .xlsx, issue 22).
//!
//! SQLite in a temporary directory; PostgreSQL too when YINGJI_TEST_POSTGRES_URL is set (a
//! scratch database, dropped after).
//!
//! Usage: cargo bench -p yingji-store --bench cases [-- ROWS]

mod common;

use std::time::Instant;

use yingji_docs::xlsx::{Cell, Sheet, Workbook};
use yingji_store::{Backend, CaseFilter, Store};

const NOW_MS: i64 = 1_780_272_000_000; // 2026-06-01T00:00:00Z
const START_MS: i64 = 1_735_689_600_000; // 2025-01-01T00:00:00Z
const DAY_MS: i64 = 86_400_000;

fn jid(n: u64) -> String {
    format!("00000000-0000-7000-8000-{n:012}")
}

fn city_path(c: u64) -> String {
    format!("/{}/{}/", jid(1), jid(10 + c))
}

fn county_path(c: u64, k: u64) -> String {
    format!("{}{}/", city_path(c), jid(1000 + c * 100 + k))
}

fn town_path(c: u64, k: u64, t: u64) -> String {
    format!(
        "{}{}/",
        county_path(c, k),
        jid(100_000 + c * 1000 + k * 10 + t)
    )
}

/// A small pseudo-random draw from the clock (which county, city, township is measured).
fn draw(n: u64, salt: u64) -> u64 {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    let mut x = t ^ salt.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    1 + x % n
}

/// This process's CPU time (user + system), in seconds.
fn cpu() -> f64 {
    let s = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let rest = s.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

async fn exec(store: &Store, sql: &str) {
    sqlx::query(sql)
        .execute(store.pool())
        .await
        .unwrap_or_else(|e| panic!("{e}: {}", &sql[..sql.len().min(300)]));
}

async fn load(store: &Store, rows: u64) {
    let pg = store.backend() == Backend::Postgres;
    let t0 = Instant::now();
    let mut tree = Vec::new();
    let ts = if pg {
        "now()"
    } else {
        "'2025-01-01T00:00:00.000000Z'"
    };
    let id = |s: String| {
        if pg {
            format!("'{s}'::uuid")
        } else {
            format!("'{s}'")
        }
    };
    tree.push(format!(
        "({}, NULL, '测试省', 'province', NULL, '/{}/', {ts})",
        id(jid(1)),
        jid(1)
    ));
    for c in 1..=10 {
        tree.push(format!(
            "({}, {}, '测试市{c}', 'city', NULL, '{}', {ts})",
            id(jid(10 + c)),
            id(jid(1)),
            city_path(c)
        ));
        for k in 1..=10 {
            tree.push(format!(
                "({}, {}, '测试县{c}-{k}', 'county', NULL, '{}', {ts})",
                id(jid(1000 + c * 100 + k)),
                id(jid(10 + c)),
                county_path(c, k)
            ));
            for t in 1..=10 {
                tree.push(format!(
                    "({}, {}, '测试镇{c}-{k}-{t}', 'township', NULL, '{}', {ts})",
                    id(jid(100_000 + c * 1000 + k * 10 + t)),
                    id(jid(1000 + c * 100 + k)),
                    town_path(c, k, t)
                ));
            }
        }
    }
    exec(
        store,
        &format!(
            "INSERT INTO jurisdictions (id, parent_id, name, kind, code, path, created_at) VALUES {}",
            tree.join(", ")
        ),
    )
    .await;
    // The secondary indexes of cases, dropped for the load and rebuilt after.
    let (list_sql, drop_kw) = if pg {
        (
            "SELECT indexname::text, indexdef::text FROM pg_indexes WHERE tablename = 'cases' AND indexname NOT IN ('cases_pkey', 'cases_case_number_key')",
            "DROP INDEX",
        )
    } else {
        (
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'cases' AND sql IS NOT NULL",
            "DROP INDEX",
        )
    };
    let indexes: Vec<(String, String)> = sqlx::query_as(list_sql)
        .fetch_all(store.pool())
        .await
        .unwrap();
    for (name, _) in &indexes {
        exec(store, &format!("{drop_kw} {name}")).await;
    }
    let span = NOW_MS - START_MS;
    let due_off = 60 * DAY_MS;
    let step = span / rows as i64;
    let open = format!("(due >= {NOW_MS} OR i % 50 = 0)");
    let insert = if pg {
        format!(
            "INSERT INTO cases (id, jurisdiction_id, jurisdiction_path, case_number, status, is_open, channel, form, case_type, category, topic, department, title, received_at, accepted_on, due_on, due_ms, overdue, extended, supervision_step, next_due_ms, updated_at, body)
SELECT (lpad(to_hex(i), 8, '0') || '-0000-7000-8000-' || lpad(i::text, 12, '0'))::uuid,
       ('00000000-0000-7000-8000-' || lpad(town::text, 12, '0'))::uuid,
       '/00000000-0000-7000-8000-000000000001/00000000-0000-7000-8000-' || lpad(city::text, 12, '0') || '/00000000-0000-7000-8000-' || lpad(county::text, 12, '0') || '/00000000-0000-7000-8000-' || lpad(town::text, 12, '0') || '/',
       'BENCH-' || lpad(i::text, 10, '0'),
       CASE WHEN {open} THEN 'handling' ELSE 'closed' END,
       {open},
       CASE h % 5 WHEN 0 THEN 'letter' WHEN 1 THEN 'phone' WHEN 2 THEN 'online' WHEN 3 THEN 'fax' ELSE 'visit' END,
       'single', 'general',
       CASE (h / 7) % 3 WHEN 0 THEN 'administrative' WHEN 1 THEN 'judicial' ELSE 'other' END,
       '城乡建设', '部门' || ((h / 13) % 10), '测试信访事项',
       to_timestamp(acc / 1000.0), (to_timestamp(acc / 1000.0) AT TIME ZONE 'UTC')::date,
       (to_timestamp(due / 1000.0) AT TIME ZONE 'UTC')::date, due,
       (due < {NOW_MS} AND i % 50 = 0), (h % 20 = 0), NULL,
       CASE WHEN {open} THEN due ELSE NULL END,
       to_timestamp(acc / 1000.0),
       '{{\"bench\":true,\"title\":\"测试信访事项\",\"grievance\":\"测试诉求\"}}'::jsonb
FROM (SELECT i, h, acc, acc + {due_off} AS due,
        100000 + ((h % 10) + 1) * 1000 + (((h / 10) % 10) + 1) * 10 + ((h / 100) % 10) + 1 AS town,
        10 + (h % 10) + 1 AS city, 1000 + ((h % 10) + 1) * 100 + ((h / 10) % 10) + 1 AS county
      FROM (SELECT i, (i * 2654435761) % 1000003 AS h, {START_MS} + (i - 1) * {step} AS acc
            FROM generate_series(@LO@::bigint, @HI@::bigint) AS i) g) t"
        )
    } else {
        format!(
            "INSERT INTO cases (id, jurisdiction_id, jurisdiction_path, case_number, status, is_open, channel, form, case_type, category, topic, department, title, received_at, accepted_on, due_on, due_ms, overdue, extended, supervision_step, next_due_ms, updated_at, body)
WITH RECURSIVE n(i) AS (SELECT @LO@ UNION ALL SELECT i + 1 FROM n WHERE i < @HI@),
g AS (SELECT i, (i * 2654435761) % 1000003 AS h, {START_MS} + (i - 1) * {step} AS acc FROM n),
t AS (SELECT i, h, acc, acc + {due_off} AS due,
        100000 + ((h % 10) + 1) * 1000 + (((h / 10) % 10) + 1) * 10 + ((h / 100) % 10) + 1 AS town,
        10 + (h % 10) + 1 AS city, 1000 + ((h % 10) + 1) * 100 + ((h / 10) % 10) + 1 AS county FROM g)
SELECT printf('%08x-0000-7000-8000-%012d', i, i),
       printf('00000000-0000-7000-8000-%012d', town),
       printf('/00000000-0000-7000-8000-%012d/00000000-0000-7000-8000-%012d/00000000-0000-7000-8000-%012d/00000000-0000-7000-8000-%012d/', 1, city, county, town),
       printf('BENCH-%010d', i),
       CASE WHEN {open} THEN 'handling' ELSE 'closed' END,
       CASE WHEN {open} THEN 1 ELSE 0 END,
       CASE h % 5 WHEN 0 THEN 'letter' WHEN 1 THEN 'phone' WHEN 2 THEN 'online' WHEN 3 THEN 'fax' ELSE 'visit' END,
       'single', 'general',
       CASE (h / 7) % 3 WHEN 0 THEN 'administrative' WHEN 1 THEN 'judicial' ELSE 'other' END,
       '城乡建设', '部门' || ((h / 13) % 10), '测试信访事项',
       strftime('%Y-%m-%dT%H:%M:%S.000000Z', acc / 1000, 'unixepoch'),
       strftime('%Y-%m-%d', acc / 1000, 'unixepoch'),
       strftime('%Y-%m-%d', due / 1000, 'unixepoch'),
       due,
       CASE WHEN due < {NOW_MS} AND i % 50 = 0 THEN 1 ELSE 0 END,
       CASE WHEN h % 20 = 0 THEN 1 ELSE 0 END,
       NULL,
       CASE WHEN {open} THEN due ELSE NULL END,
       strftime('%Y-%m-%dT%H:%M:%S.000000Z', acc / 1000, 'unixepoch'),
       '{{\"bench\":true,\"title\":\"测试信访事项\",\"grievance\":\"测试诉求\"}}'
FROM t"
        )
    };
    // A million rows a statement (a transaction each: the write-ahead log stays small).
    let chunk = 1_000_000u64;
    let mut lo = 1u64;
    while lo <= rows {
        let hi = (lo + chunk - 1).min(rows);
        exec(
            store,
            &insert
                .replace("@LO@", &lo.to_string())
                .replace("@HI@", &hi.to_string()),
        )
        .await;
        lo = hi + 1;
    }
    for (_, def) in &indexes {
        exec(store, def).await;
    }
    let flag: fn(&str) -> String = if pg {
        |c| format!("SUM(CASE WHEN {c} THEN 1 ELSE 0 END)")
    } else {
        |c| format!("SUM({c})")
    };
    let (open_sum, on_time) = if pg {
        (
            "SUM(CASE WHEN is_open THEN 0 ELSE 1 END)",
            "SUM(CASE WHEN NOT is_open AND NOT overdue THEN 1 ELSE 0 END)",
        )
    } else {
        (
            "SUM(1 - is_open)",
            "SUM(CASE WHEN is_open = 0 AND overdue = 0 THEN 1 ELSE 0 END)",
        )
    };
    let quarter = if pg {
        "to_char(accepted_on, 'YYYY') || 'Q' || extract(quarter FROM accepted_on)::text"
    } else {
        "substr(accepted_on, 1, 4) || 'Q' || CAST(((CAST(substr(accepted_on, 6, 2) AS INTEGER) - 1) / 3 + 1) AS TEXT)"
    };
    exec(
        store,
        &format!(
            "INSERT INTO case_stats (jurisdiction_path, quarter, department, category, channel, received, replied, on_time, overdue, extended, satisfied, basically_satisfied, dissatisfied)
SELECT jurisdiction_path, {quarter}, COALESCE(department, ''), COALESCE(category, 'unclassified'), channel, COUNT(*), {open_sum}, {on_time}, {}, {}, {on_time}, 0, 0 FROM cases GROUP BY 1, 2, 3, 4, 5",
            flag("overdue"),
            flag("extended")
        ),
    )
    .await;
    exec(store, if pg { "VACUUM ANALYZE" } else { "ANALYZE" }).await;
    println!("loaded {rows} cases in {:.0} s", t0.elapsed().as_secs_f64());
}

/// p50 and p99 (ms) of 100 runs after one, this process's CPU per run (ms), and the rows.
async fn time<F, Fut>(mut run: F) -> (f64, f64, f64, usize)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = usize>,
{
    let found = run().await;
    let c0 = cpu();
    let mut ms: Vec<f64> = Vec::with_capacity(100);
    for _ in 0..100 {
        let t = Instant::now();
        run().await;
        ms.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let cpu_ms = (cpu() - c0) * 1000.0 / 100.0;
    ms.sort_by(|a, b| a.partial_cmp(b).unwrap());
    (ms[50], ms[98], cpu_ms, found)
}

fn list(scope: &str) -> CaseFilter {
    CaseFilter {
        scope_path: scope.to_string(),
        limit: 50,
        ..CaseFilter::default()
    }
}

async fn run(label: &str, store: Store, rows: u64) {
    load(&store, rows).await;
    println!("{label}: p50 / p99 ms, CPU ms per request (rows)");
    let report = |what: String, r: (f64, f64, f64, usize)| {
        println!(
            "{label:8} {what:44} {:7.2} {:7.2} {:6.2} ({})",
            r.0, r.1, r.2, r.3
        );
    };
    let (c, k, t) = (draw(10, 1), draw(10, 2), draw(10, 3));
    let scopes = [
        ("province".to_string(), format!("/{}/", jid(1))),
        (format!("city {c}"), city_path(c)),
        (format!("county {c}-{k}"), county_path(c, k)),
        (format!("township {c}-{k}-{t}"), town_path(c, k, t)),
    ];
    for (name, scope) in &scopes {
        let f = list(scope);
        let r = time(|| async { store.list_cases(&f).await.unwrap().len() }).await;
        report(format!("list, no filter, {name}"), r);
        let first = store.list_cases(&f).await.unwrap();
        let mut next = f.clone();
        next.before = first.last().map(|s| s.id);
        let r = time(|| async { store.list_cases(&next).await.unwrap().len() }).await;
        report(format!("list, next page, {name}"), r);
    }
    // Another county for the overdue page, another for the due page.
    let (c2, k2) = (draw(10, 4), draw(10, 5));
    let mut f = list(&county_path(c2, k2));
    f.open_due_from_ms = Some(i64::MIN / 2);
    f.open_due_to_ms = Some(NOW_MS);
    let r = time(|| async { store.list_cases(&f).await.unwrap().len() }).await;
    report(format!("overdue page, county {c2}-{k2}"), r);
    let (c3, k3) = (draw(10, 6), draw(10, 7));
    let mut f = list(&county_path(c3, k3));
    f.open_due_from_ms = Some(NOW_MS);
    f.open_due_to_ms = Some(NOW_MS + 3 * DAY_MS);
    let r = time(|| async { store.list_cases(&f).await.unwrap().len() }).await;
    report(format!("due in 3 days, county {c3}-{k3}"), r);
    let c4 = draw(10, 8);
    let scope = city_path(c4);
    let quarters = vec!["2026Q1".to_string()];
    let r = time(|| async {
        store
            .case_stats(&scope, &quarters, "department")
            .await
            .unwrap()
            .len()
    })
    .await;
    report(format!("quarter statistics by department, city {c4}"), r);
    // The quarterly workbook of a city (`GET /api/v1/statistics/cases.xlsx`): the five
    // groupings read and written as an .xlsx (the server's sheets, without the about sheet's
    // catalogue texts).
    let c5 = draw(10, 9);
    let scope = city_path(c5);
    let r = time(|| async {
        let mut sheets = vec![];
        for by in ["total", "jurisdiction", "department", "category", "channel"] {
            let rows = store.case_stats(&scope, &quarters, by).await.unwrap();
            let mut cells = vec![vec![
                Cell::from("分组"),
                Cell::from("受理"),
                Cell::from("已答复"),
            ]];
            for s in &rows {
                cells.push(vec![
                    Cell::from(s.key.as_str()),
                    Cell::Int(s.received),
                    Cell::Int(s.replied),
                    Cell::Int(s.on_time),
                    Cell::Int(s.overdue),
                    Cell::Int(s.extended),
                    Cell::Int(s.satisfied),
                    Cell::Int(s.basically_satisfied),
                    Cell::Int(s.dissatisfied),
                ]);
            }
            sheets.push(Sheet {
                name: by.to_string(),
                rows: cells,
                header_rows: 1,
                widths: vec![],
            });
        }
        Workbook { sheets }.to_bytes().len()
    })
    .await;
    report(
        format!("quarterly workbook (.xlsx, five groupings), city {c5}"),
        r,
    );
}

fn main() {
    let rows: u64 = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(10_000_000);
    common::on_each_backend("cases", |label, store| run(label, store, rows));
}
