//! What people read, through the whole server, as a province's records grow (issue 20). Not
//! run by CI.
//!
//! The demo is loaded, then its province is given 10 cities › 100 counties › 1,000 townships
//! (云岭市 is one of the cities and 临溪市, with 青石镇, one of its counties) and grown to each
//! size in turn with closed incidents spread evenly over the townships (three done tasks each;
//! one task of each of 临溪市's incidents assigned to its duty officer), ids time-ordered; on top, the
//! open incidents a working day has: 20 reported in 临溪市 through the API, 5 of them
//! activated (their calls placed). Each request goes through the router as a client's would
//! (authentication, scope, the handler, the JSON or HTML), warm, 100 times: p50 and p99 in ms and
//! the process's CPU per request (user + system, all threads: with SQLite that includes the
//! database; with PostgreSQL the database's own CPU is not counted).
//!
//! SQLite in a temporary directory; PostgreSQL too when YINGJI_TEST_POSTGRES_URL is set (a
//! scratch database is created and dropped).
//!
//! Usage: cargo bench -p yingji-server --bench province [-- SIZES…]
//!        (default 1000 10000 100000 1000000)

use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;
use uuid::Uuid;
use yingji_domain::clock::SystemClock;
use yingji_server::{AppState, app};
use yingji_store::{Backend, JurisdictionRow, Row, Store, WriteSet};

struct Resp {
    status: StatusCode,
    cookies: Vec<String>,
    body: String,
}

async fn send(
    router: &axum::Router,
    method: &str,
    path: &str,
    auth: &Auth,
    body: Option<String>,
) -> Resp {
    let mut b = Request::builder().method(method).uri(path);
    b = match auth {
        Auth::Token(t) => b.header("authorization", format!("Bearer {t}")),
        Auth::Cookie(c) => b.header("cookie", c.as_str()),
        Auth::None => b,
    };
    let req = match body {
        Some(s) if auth.is_cookie() => b
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(s)),
        Some(s) => b
            .header("content-type", "application/json")
            .body(Body::from(s)),
        None => b.body(Body::empty()),
    }
    .unwrap();
    let resp = router.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let cookies = resp
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    Resp {
        status,
        cookies,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

enum Auth {
    Token(&'static str),
    Cookie(String),
    None,
}

impl Auth {
    fn is_cookie(&self) -> bool {
        matches!(self, Auth::Cookie(_))
    }
}

async fn api(
    router: &axum::Router,
    method: &str,
    path: &str,
    token: &'static str,
    body: Value,
) -> Value {
    let r = send(
        router,
        method,
        path,
        &Auth::Token(token),
        Some(body.to_string()),
    )
    .await;
    assert!(
        r.status.is_success(),
        "{method} {path}: {} {}",
        r.status,
        r.body
    );
    serde_json::from_str(&r.body).unwrap_or(Value::Null)
}

/// Signs in through the console's form; returns the session cookie.
async fn sign_in(router: &axum::Router, token: &str) -> String {
    let page = send(router, "GET", "/signin", &Auth::None, None).await;
    let pre = page.cookies[0].split(';').next().unwrap().to_string();
    let at = page.body.find("name=\"csrf\" value=\"").unwrap() + 19;
    let csrf = page.body[at..at + 40].to_string();
    let r = send(
        router,
        "POST",
        "/signin",
        &Auth::Cookie(pre),
        Some(format!("csrf={csrf}&token={token}&next=/")),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let c = r
        .cookies
        .iter()
        .find(|c| c.starts_with("yingji_session="))
        .unwrap();
    c.split(';').next().unwrap().to_string()
}

/// The process's CPU time so far (user + system), in ms.
fn cpu_ms() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(") ").map(|x| x.1).unwrap_or("");
    let f: Vec<&str> = after.split(' ').collect();
    let ticks = |i: usize| f.get(i).and_then(|s| s.parse::<f64>().ok()).unwrap_or(0.0);
    // Fields 14 and 15 of /proc/[pid]/stat (utime, stime), counted after the command name.
    (ticks(11) + ticks(12)) * 10.0
}

struct Tree {
    /// Every township of the province: (jurisdiction id, path).
    towns: Vec<(Uuid, String)>,
}

/// 10 cities › 10 counties each › 10 townships each; 云岭市 and 临溪市 (with 青石镇) take the
/// places of one city, one county and one township.
async fn tree(store: &Store) -> Tree {
    let all = store.list_jurisdictions("/").await.unwrap();
    let by = |name: &str| all.iter().find(|j| j.name == name).unwrap().clone();
    let (province, city, county, town) = (by("江川省"), by("云岭市"), by("临溪市"), by("青石镇"));
    let mut ws = WriteSet::default();
    let mut towns = Vec::new();
    let add = |ws: &mut WriteSet, parent: &JurisdictionRow, name: String, kind: &str| {
        let id = Uuid::now_v7();
        let row = JurisdictionRow {
            id,
            parent_id: Some(parent.id),
            name,
            kind: kind.into(),
            code: None,
            path: format!("{}{}/", parent.path, id),
            created_at: "2026-01-01T00:00:00.000000Z".into(),
        };
        ws.rows.push(Row::Jurisdiction(row.clone()));
        row
    };
    for c in 0..10 {
        let c_row = if c == 0 {
            city.clone()
        } else {
            add(&mut ws, &province, format!("测试市{c}"), "city")
        };
        for k in 0..10 {
            let k_row = if c == 0 && k == 0 {
                county.clone()
            } else {
                add(&mut ws, &c_row, format!("测试县{c}-{k}"), "county")
            };
            for t in 0..10 {
                let t_row = if c == 0 && k == 0 && t == 0 {
                    town.clone()
                } else {
                    add(&mut ws, &k_row, format!("测试镇{c}-{k}-{t}"), "township")
                };
                towns.push((t_row.id, t_row.path));
            }
        }
    }
    store.commit(ws).await.unwrap();
    Tree { towns }
}

async fn grow(store: &Store, tree: &Tree, me: Uuid, from: u64, to: u64) {
    let pool = store.pool();
    let pg = store.backend() == Backend::Postgres;
    let mut tx = pool.begin().await.unwrap();
    let mut batch = 0;
    let mut sql = String::new();
    let mut binds: Vec<String> = Vec::new();
    let ts = |n: u64| {
        format!(
            "{}",
            jiff::Timestamp::from_second(1_735_689_600 + n as i64 * 30).unwrap()
        )
    };
    let id_of = |n: u64, kind: u16| {
        format!(
            "{:08x}-0000-7000-{kind:04x}-{:012x}",
            n >> 16,
            n & 0xFFFF_FFFF_FFFF
        )
    };
    for n in from..to {
        let (jid, path) = &tree.towns[(n % 1000) as usize];
        if batch == 0 {
            sql = "INSERT INTO incidents (id, jurisdiction_id, jurisdiction_path, plan_id, plan_version, kind, status, level, drill, headcount, title, reported_at, updated_at, next_due_ms, body) VALUES ".into();
        } else {
            sql.push(',');
        }
        let b = binds.len();
        if pg {
            sql.push_str(&format!("(${}::uuid, ${}::uuid, ${}, 'linxiang-city-mass-petition', 1, 'event', 'closed', NULL, false, 10, '往期事件', ${}::timestamptz, ${}::timestamptz, NULL, '{{}}'::json)", b + 1, b + 2, b + 3, b + 4, b + 4));
        } else {
            sql.push_str("(?, ?, ?, 'linxiang-city-mass-petition', 1, 'event', 'closed', NULL, 0, 10, '往期事件', ?, ?, NULL, '{}')");
        }
        binds.extend([id_of(n, 0x8000), jid.to_string(), path.clone(), ts(n)]);
        if !pg {
            binds.push(ts(n));
        }
        batch += 1;
        if batch == 400 || n + 1 == to {
            let mut q = sqlx::query(&sql);
            for v in binds.drain(..) {
                q = q.bind(v);
            }
            q.execute(&mut *tx).await.unwrap();
            batch = 0;
        }
    }
    let mut mine = Vec::new();
    for n in from..to {
        let (_, path) = &tree.towns[(n % 1000) as usize];
        for t in 0..3u64 {
            let k = n * 3 + t;
            if batch == 0 {
                sql = "INSERT INTO tasks (id, incident_id, jurisdiction_path, grp, title, state, due_at, overdue, drill, assignees) VALUES ".into();
            } else {
                sql.push(',');
            }
            let b = binds.len();
            if pg {
                sql.push_str(&format!("(${}::uuid, ${}::uuid, ${}, 'order', '往期任务', 'done', ${}::timestamptz, false, false, '[]'::jsonb)", b + 1, b + 2, b + 3, b + 4));
            } else {
                sql.push_str("(?, ?, ?, 'order', '往期任务', 'done', ?, 0, 0, '[]')");
            }
            let id = id_of(k, 0x9000);
            binds.extend([id.clone(), id_of(n, 0x8000), path.clone(), ts(n)]);
            // The duty officer's own: a task in three of 临溪市's incidents (its ten townships).
            if n % 1000 < 10 && t == 0 {
                mine.push((id, ts(n)));
            }
            batch += 1;
            if batch == 400 || (n + 1 == to && t == 2) {
                let mut q = sqlx::query(&sql);
                for v in binds.drain(..) {
                    q = q.bind(v);
                }
                q.execute(&mut *tx).await.unwrap();
                batch = 0;
            }
        }
    }
    let (cast, tcast) = if pg {
        ("::uuid", "::timestamptz")
    } else {
        ("", "")
    };
    for (id, due) in mine {
        sqlx::query(&format!(
            "INSERT INTO task_assignees (task_id, person_id, state, due_at) VALUES ('{id}'{cast}, '{me}'{cast}, 'done', '{due}'{tcast})"
        ))
        .execute(&mut *tx)
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    sqlx::query(if pg { "VACUUM ANALYZE" } else { "ANALYZE" })
        .execute(pool)
        .await
        .unwrap();
}

async fn run(label: &str, store: Store, sizes: &[u64]) {
    let state = AppState::new(store.clone(), Arc::new(SystemClock));
    yingji_server::demo::load_demo(&state).await.unwrap();
    let router = app(state.clone());
    let tree = tree(&store).await;
    let county_id = store
        .list_jurisdictions("/")
        .await
        .unwrap()
        .into_iter()
        .find(|j| j.name == "临溪市")
        .unwrap()
        .id;
    let me = store
        .person_by_token(&yingji_app::actor::token_hash("demo-duty-officer"))
        .await
        .unwrap()
        .unwrap()
        .id;
    // The day's open incidents: 20 reported, 5 of them activated.
    for k in 0..20 {
        let v = api(&router, "POST", "/api/v1/incidents", "demo-duty-officer", json!({
            "jurisdiction_id": county_id, "plan_id": "linxiang-city-mass-petition", "kind": "event",
            "title": format!("压测：上访{k}"), "headcount": 60 + k * 10, "location": "市政府东门",
            "fields": { "unit": "某公司", "address": "市政府东门", "time": "上午", "demands": "测试" }
        })).await;
        if k % 4 == 0 {
            let id = v["id"].as_str().unwrap().to_string();
            api(
                &router,
                "POST",
                &format!("/api/v1/incidents/{id}/verify"),
                "demo-duty-officer",
                json!({}),
            )
            .await;
            api(
                &router,
                "POST",
                &format!("/api/v1/incidents/{id}/assess"),
                "demo-commander",
                json!({}),
            )
            .await;
            api(
                &router,
                "POST",
                &format!("/api/v1/incidents/{id}/activate"),
                "demo-commander",
                json!({}),
            )
            .await;
        }
    }
    let sessions = [
        ("city", sign_in(&router, "demo-city-duty").await),
        ("county", sign_in(&router, "demo-duty-officer").await),
        ("township", sign_in(&router, "demo-town-duty").await),
    ];
    println!("{label}: 100 requests each, p50 / p99 ms, CPU ms per request");
    let mut have = 0;
    for &size in sizes {
        grow(&store, &tree, me, have, size).await;
        have = size;
        println!("  {size} closed incidents (+ the day's 20 open):");
        let mut cases: Vec<(String, String, Auth)> = Vec::new();
        for (who, token) in [
            ("city", "demo-city-duty"),
            ("county", "demo-duty-officer"),
            ("township", "demo-town-duty"),
        ] {
            cases.push((
                format!("incidents, {who}"),
                "/api/v1/incidents?limit=50".into(),
                Auth::Token(token),
            ));
        }
        cases.push((
            "incidents, city, reported".into(),
            "/api/v1/incidents?status=reported&limit=50".into(),
            Auth::Token("demo-city-duty"),
        ));
        cases.push((
            "tasks, city".into(),
            "/api/v1/tasks?limit=50".into(),
            Auth::Token("demo-city-duty"),
        ));
        cases.push((
            "tasks, city, open".into(),
            "/api/v1/tasks?state=open&limit=50".into(),
            Auth::Token("demo-city-duty"),
        ));
        cases.push((
            "tasks, county".into(),
            "/api/v1/tasks?limit=50".into(),
            Auth::Token("demo-duty-officer"),
        ));
        cases.push((
            "my tasks".into(),
            "/api/v1/tasks?assignee=me&limit=50".into(),
            Auth::Token("demo-duty-officer"),
        ));
        cases.push((
            "my open tasks".into(),
            "/api/v1/tasks?assignee=me&state=open&limit=50".into(),
            Auth::Token("demo-duty-officer"),
        ));
        for (who, cookie) in &sessions {
            cases.push((
                format!("desk, {who}"),
                "/".into(),
                Auth::Cookie(cookie.clone()),
            ));
        }
        cases.push((
            "incident list page, city".into(),
            "/incidents".into(),
            Auth::Cookie(sessions[0].1.clone()),
        ));
        for (what, path, auth) in &cases {
            let first = send(&router, "GET", path, auth, None).await;
            assert!(
                first.status.is_success(),
                "{what}: {} {}",
                first.status,
                &first.body[..first.body.len().min(300)]
            );
            let mut ms = Vec::with_capacity(100);
            let cpu0 = cpu_ms();
            for _ in 0..100 {
                let t = Instant::now();
                send(&router, "GET", path, auth, None).await;
                ms.push(t.elapsed().as_secs_f64() * 1000.0);
            }
            let cpu = (cpu_ms() - cpu0) / 100.0;
            ms.sort_by(|a, b| a.partial_cmp(b).unwrap());
            println!(
                "    {what:<28} {:7.2} / {:7.2}   CPU {cpu:6.2}",
                ms[50], ms[98]
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
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let dir =
            std::env::temp_dir().join(format!("yingji-bench-province-{}", std::process::id()));
        let store = Store::open_sqlite(&dir).await.unwrap();
        run("sqlite", store.clone(), &sizes).await;
        store.pool().close().await;
        let _ = std::fs::remove_dir_all(&dir);
        if let Ok(admin_url) = std::env::var("YINGJI_TEST_POSTGRES_URL") {
            sqlx::any::install_default_drivers();
            let name = format!("yingji_bench_{}", Uuid::now_v7().simple());
            let admin = sqlx::AnyPool::connect(&admin_url).await.unwrap();
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&admin)
                .await
                .unwrap();
            let base = admin_url
                .rsplit_once('/')
                .map(|(b, _)| b)
                .unwrap_or(&admin_url);
            let store = Store::open_url(&format!("{base}/{name}")).await.unwrap();
            run("postgres", store.clone(), &sizes).await;
            store.pool().close().await;
            let _ = sqlx::query(&format!("DROP DATABASE {name} WITH (FORCE)"))
                .execute(&admin)
                .await;
        }
    });
}
