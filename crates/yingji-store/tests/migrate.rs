//! Migration 0006 on a database that holds data: a row in every table, written as the store
//! wrote them before 0006 (ids, times, days and JSON as text, flags as 0/1), comes back
//! identically once the store has migrated it; PostgreSQL's columns now have their own types;
//! the hash chain still verifies; the log refuses UPDATE and DELETE; and a backup of either
//! backend restores into the other. PostgreSQL parts run when YINGJI_TEST_POSTGRES_URL is set.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use sqlx::Row as _;
use uuid::Uuid;
use yingji_domain::audit::{EventEnvelope, GENESIS};
use yingji_store::{Backend, Store};

/// What a column holds, as written before 0006.
#[derive(Debug, Clone, Copy, PartialEq)]
enum K {
    Id,
    Ts,
    Day,
    Flag,
    Json,
    Text,
    Int,
}

#[derive(Debug, Clone)]
enum V {
    Id(&'static str),
    Ts(&'static str),
    Day(&'static str),
    Flag(i64),
    Json(&'static str),
    Text(String),
    Int(i64),
    Null(K),
}

impl V {
    fn kind(&self) -> K {
        match self {
            V::Id(_) => K::Id,
            V::Ts(_) => K::Ts,
            V::Day(_) => K::Day,
            V::Flag(_) => K::Flag,
            V::Json(_) => K::Json,
            V::Text(_) => K::Text,
            V::Int(_) => K::Int,
            V::Null(k) => *k,
        }
    }

    /// The value as a backup holds it, normalised: flags as 0/1, JSON parsed.
    fn expected(&self) -> Value {
        match self {
            V::Id(s) | V::Ts(s) | V::Day(s) => json!(s),
            V::Text(s) => json!(s),
            V::Flag(n) | V::Int(n) => json!(n),
            V::Json(s) => serde_json::from_str(s).unwrap(),
            V::Null(_) => Value::Null,
        }
    }
}

fn t(s: &str) -> V {
    V::Text(s.to_string())
}

const J1: &str = "0195f3a0-0001-7000-8000-00000000000a";
const J2: &str = "0195f3a0-0002-7000-8000-00000000000b";
const P1: &str = "0195f3a0-0003-7000-8000-00000000000c";
const I1: &str = "0195f3a0-0004-7000-8000-00000000000d";
const T1: &str = "0195f3a0-0005-7000-8000-00000000000e";
const E1: &str = "0195f3a0-0006-7000-8000-00000000000f";
const E2: &str = "0195f3a0-0007-7000-8000-000000000010";
const O1: &str = "0195f3a0-0008-7000-8000-000000000011";
const D1: &str = "0195f3a0-0009-7000-8000-000000000012";
const C1: &str = "0195f3a0-000a-7000-8000-000000000013";
const L1: &str = "0195f3a0-000b-7000-8000-000000000014";
const K1: &str = "0195f3a0-000c-7000-8000-000000000015";
const R1: &str = "0195f3a0-000d-7000-8000-000000000016";
const S1: &str = "0195f3a0-000e-7000-8000-000000000017";
const Q1: &str = "0195f3a0-000f-7000-8000-000000000018";
const A1: &str = "0195f3a0-0010-7000-8000-000000000019";
const F1: &str = "0195f3a0-0011-7000-8000-00000000001a";

const AT: &str = "2026-03-02T02:00:00.000000Z";
const LATER: &str = "2026-03-02T02:15:30.123456Z";
const PATH: &str = "/0195f3a0000170008000000000000000a/0195f3a0000270008000000000000000b/";

const INCIDENT: &str = r#"{"id":"0195f3a0-0004-7000-8000-00000000000d","title":"青石镇 \"集访\"\n第二行","headcount":120,"level":null,"tasks":[{"due_at":"2026-03-02T02:15:00Z","done":false}],"ratio":0.25}"#;

/// Two chained events of the incident's stream, hashed as the store hashes them.
fn events() -> Vec<(EventEnvelope, String)> {
    let mut prev = GENESIS.to_string();
    [
        (E1, "reported", None, r#"{"z": 1,  "a":"甲"}"#),
        (E2, "verified", Some("核实"), "{}"),
    ]
    .into_iter()
    .enumerate()
    .map(|(i, (id, kind, reason, payload))| {
        let env = EventEnvelope {
            id: id.parse().unwrap(),
            stream_id: I1.parse().unwrap(),
            stream_seq: i as i64 + 1,
            stream_kind: "incident".into(),
            jurisdiction_id: J2.parse().unwrap(),
            at: if i == 0 { AT } else { LATER }.into(),
            actor_id: P1.parse().unwrap(),
            actor_name: "值班员甲".into(),
            kind: kind.into(),
            reason: reason.map(str::to_string),
            payload: payload.into(),
            prev_hash: prev.clone(),
        };
        let hash = env.hash();
        prev = hash.clone();
        (env, hash)
    })
    .collect()
}

/// A row in every table, parents first.
fn rows() -> Vec<(&'static str, Vec<(&'static str, V)>)> {
    let ev = events();
    let head = ev.last().unwrap().1.clone();
    let mut out: Vec<(&'static str, Vec<(&'static str, V)>)> = vec![
        (
            "jurisdictions",
            vec![
                ("id", V::Id(J1)),
                ("parent_id", V::Null(K::Id)),
                ("name", t("江川省")),
                ("kind", t("province")),
                ("code", t("990000")),
                ("path", t("/0195f3a0000170008000000000000000a/")),
                ("created_at", V::Ts(AT)),
            ],
        ),
        (
            "jurisdictions",
            vec![
                ("id", V::Id(J2)),
                ("parent_id", V::Id(J1)),
                ("name", t("临溪市")),
                ("kind", t("county")),
                ("code", V::Null(K::Text)),
                ("path", t(PATH)),
                ("created_at", V::Ts(LATER)),
            ],
        ),
        (
            "people",
            vec![
                ("id", V::Id(P1)),
                ("jurisdiction_id", V::Id(J2)),
                ("name", t("值班员甲")),
                ("phone", t("sealed1:k1:00ff")),
                ("email", V::Null(K::Text)),
                ("token_hash", t("ab12")),
                ("created_at", V::Ts(AT)),
            ],
        ),
        (
            "post_holders",
            vec![
                ("jurisdiction_id", V::Id(J2)),
                ("post_id", t("duty-officer")),
                ("person_id", V::Id(P1)),
                ("deputy", V::Flag(1)),
            ],
        ),
        (
            "plans",
            vec![
                ("plan_id", t("linxi-mass-petition")),
                ("version", V::Int(2)),
                ("jurisdiction_id", V::Id(J2)),
                ("title", t("预案")),
                ("source", t("[plan]\nid = \"x\"\n")),
                ("sha256", t("00aa")),
                ("loaded_at", V::Ts(AT)),
            ],
        ),
        (
            "incidents",
            vec![
                ("id", V::Id(I1)),
                ("jurisdiction_id", V::Id(J2)),
                ("jurisdiction_path", t(PATH)),
                ("plan_id", t("linxi-mass-petition")),
                ("plan_version", V::Int(2)),
                ("kind", t("early_sign")),
                ("status", t("verified")),
                ("level", V::Null(K::Text)),
                ("drill", V::Flag(0)),
                ("headcount", V::Int(120)),
                ("title", t("集访")),
                ("reported_at", V::Ts(AT)),
                ("updated_at", V::Ts(LATER)),
                ("next_due_ms", V::Int(1_772_417_700_000)),
                ("body", V::Json(INCIDENT)),
            ],
        ),
        (
            "tasks",
            vec![
                ("id", V::Id(T1)),
                ("incident_id", V::Id(I1)),
                ("jurisdiction_path", t(PATH)),
                ("grp", t("onsite")),
                ("title", t("到场")),
                ("state", t("acknowledged")),
                ("due_at", V::Ts(LATER)),
                ("overdue", V::Flag(1)),
                ("drill", V::Flag(0)),
                (
                    "assignees",
                    V::Json(r#"["0195f3a0-0003-7000-8000-00000000000c"]"#),
                ),
            ],
        ),
        (
            "task_assignees",
            vec![("task_id", V::Id(T1)), ("person_id", V::Id(P1))],
        ),
        (
            "idempotency",
            vec![
                ("actor_id", V::Id(P1)),
                ("key", t("key-1")),
                ("request_hash", t("9f")),
                ("status", V::Int(201)),
                ("response", t(INCIDENT)),
                ("created_at", V::Ts(AT)),
            ],
        ),
        (
            "outbox",
            vec![
                ("id", V::Id(O1)),
                ("event_id", V::Id(E1)),
                ("kind", t("task_overdue")),
                (
                    "payload",
                    V::Json(
                        r#"{"people":["0195f3a0-0003-7000-8000-00000000000c"],"text":"任务超时"}"#,
                    ),
                ),
                ("state", t("expanded")),
                ("attempts", V::Int(1)),
                ("next_at", V::Ts(AT)),
                ("created_at", V::Ts(AT)),
                ("done_at", V::Ts(LATER)),
                ("last_error", V::Null(K::Text)),
            ],
        ),
        (
            "deliveries",
            vec![
                ("id", V::Id(D1)),
                ("outbox_id", V::Id(O1)),
                ("incident_id", V::Id(I1)),
                ("call_id", V::Id(C1)),
                ("jurisdiction_path", t(PATH)),
                ("person_id", V::Id(P1)),
                ("channel", t("sms")),
                ("address", t("sealed1:k1:01")),
                ("subject", t("任务超时")),
                ("body", t("请尽快办理")),
                ("ack_url", V::Null(K::Text)),
                ("drill", V::Flag(1)),
                ("state", t("sending")),
                ("attempts", V::Int(2)),
                ("next_at_ms", V::Int(1_772_416_800_000)),
                ("lease", V::Id(L1)),
                ("lease_until_ms", V::Int(1_772_416_830_000)),
                ("last_error", t("timeout")),
                ("sent_at", V::Null(K::Ts)),
                ("created_at", V::Ts(AT)),
            ],
        ),
        (
            "person_channels",
            vec![
                ("person_id", V::Id(P1)),
                ("channel", t("wecom")),
                ("address", t("https://qyapi.example/robot?key=1")),
            ],
        ),
        (
            "rosters",
            vec![
                ("jurisdiction_id", V::Id(J2)),
                ("post_id", t("duty-officer")),
                (
                    "body",
                    V::Json(r#"{"shifts":[{"from":"08:00","to":"20:00"}],"tz":"Asia/Shanghai"}"#),
                ),
                ("updated_at", V::Ts(AT)),
            ],
        ),
        (
            "callouts",
            vec![
                ("incident_id", V::Id(I1)),
                ("jurisdiction_path", t(PATH)),
                ("body", V::Json(r#"{"calls":[],"drill":false}"#)),
                ("next_due_ms", V::Null(K::Int)),
            ],
        ),
        (
            "call_recipients",
            vec![
                ("call_id", V::Id(C1)),
                ("incident_id", V::Id(I1)),
                ("person_id", V::Id(P1)),
                ("jurisdiction_path", t(PATH)),
                ("reached_as", t("deputy")),
                ("called_at", V::Ts(AT)),
                ("acked_at", V::Ts(LATER)),
                ("ack_channel", t("link")),
            ],
        ),
        (
            "cases",
            vec![
                ("id", V::Id(K1)),
                ("jurisdiction_id", V::Id(J2)),
                ("jurisdiction_path", t(PATH)),
                ("case_number", t("LX-2026-L-0001")),
                ("status", t("replied")),
                ("is_open", V::Flag(0)),
                ("channel", t("letter")),
                ("form", t("collective")),
                ("case_type", t("petition")),
                ("category", V::Null(K::Text)),
                ("topic", t("征地")),
                ("department", t("自然资源局")),
                ("title", t("来信")),
                ("received_at", V::Ts(AT)),
                ("accepted_on", V::Day("2026-03-02")),
                ("due_on", V::Day("2026-05-29")),
                ("due_ms", V::Int(1_780_070_400_000)),
                ("overdue", V::Flag(0)),
                ("extended", V::Flag(1)),
                ("supervision_step", t("report_demanded")),
                ("next_due_ms", V::Null(K::Int)),
                ("updated_at", V::Ts(LATER)),
                (
                    "body",
                    V::Json(r#"{"id":"0195f3a0-000c-7000-8000-000000000015","petitioners":[]}"#),
                ),
            ],
        ),
        (
            "case_petitioners",
            vec![
                ("case_id", V::Id(K1)),
                ("ordinal", V::Int(0)),
                ("petitioner_name", t("来信人")),
                ("petitioner_contact", V::Null(K::Text)),
                ("petitioner_address", V::Null(K::Text)),
                ("petitioner_id_number", V::Null(K::Text)),
                ("purged_at", V::Ts(LATER)),
            ],
        ),
        (
            "case_counters",
            vec![
                ("jurisdiction_id", V::Id(J2)),
                ("year", V::Int(2026)),
                ("last_seq", V::Int(1)),
            ],
        ),
        (
            "case_stats",
            vec![
                ("jurisdiction_path", t(PATH)),
                ("quarter", t("2026Q1")),
                ("department", t("")),
                ("category", t("unclassified")),
                ("channel", t("letter")),
                ("received", V::Int(1)),
                ("replied", V::Int(1)),
                ("on_time", V::Int(1)),
                ("overdue", V::Int(0)),
                ("extended", V::Int(1)),
                ("satisfied", V::Int(0)),
                ("basically_satisfied", V::Int(0)),
                ("dissatisfied", V::Int(-1)),
            ],
        ),
        (
            "screening_rounds",
            vec![
                ("id", V::Id(R1)),
                ("jurisdiction_id", V::Id(J2)),
                ("jurisdiction_path", t(PATH)),
                ("cadence", t("daily")),
                ("round_key", t("2026-03-02")),
                ("opened_at", V::Ts(AT)),
            ],
        ),
        (
            "screening_submissions",
            vec![
                ("round_id", V::Id(R1)),
                ("unit_id", V::Id(J2)),
                ("nil", V::Flag(1)),
                ("disputes_found", V::Int(0)),
                ("note", V::Null(K::Text)),
                ("submitted_by", V::Id(P1)),
                ("submitted_at", V::Ts(LATER)),
            ],
        ),
        (
            "disputes",
            vec![
                ("id", V::Id(S1)),
                ("jurisdiction_id", V::Id(J2)),
                ("jurisdiction_path", t(PATH)),
                ("round_id", V::Id(R1)),
                ("status", t("mediating")),
                ("risk", t("major")),
                ("nature", t("邻里")),
                ("title", t("宅基地")),
                ("reported_upward", V::Flag(1)),
                ("registered_at", V::Ts(AT)),
                ("updated_at", V::Ts(LATER)),
                (
                    "body",
                    V::Json(r#"{"parties":[{"name":"甲"},{"name":"乙"}],"risk":"major"}"#),
                ),
            ],
        ),
        (
            "report_submissions",
            vec![
                ("id", V::Id(Q1)),
                ("plan_id", t("linxi-mass-petition")),
                ("schedule_id", t("daily")),
                ("due_at", V::Ts(AT)),
                ("party", t("unit:0195f3a0-0002-7000-8000-00000000000b")),
                ("party_name", t("临溪市")),
                ("jurisdiction_path", t(PATH)),
                ("nil", V::Flag(0)),
                ("content", t("今日无异常")),
                ("submitted_by", V::Id(P1)),
                ("submitted_at", V::Ts(LATER)),
            ],
        ),
        (
            "report_reminders",
            vec![
                ("plan_id", t("linxi-mass-petition")),
                ("schedule_id", t("daily")),
                ("due_at", V::Ts(AT)),
                ("party", t("duty-officer")),
                ("kind", t("late")),
                ("created_at", V::Ts(LATER)),
            ],
        ),
        (
            "accounts",
            vec![
                ("person_id", V::Id(P1)),
                ("login", t("jia")),
                ("password_hash", t("$argon2id$v=19$...")),
                ("disabled", V::Flag(1)),
                ("password_changed_at", V::Null(K::Ts)),
                ("created_at", V::Ts(AT)),
            ],
        ),
        (
            "sessions",
            vec![
                ("token_hash", t("s1")),
                ("person_id", V::Id(P1)),
                ("csrf_hash", t("c1")),
                ("created_at", V::Ts(AT)),
                ("expires_ms", V::Int(1_772_445_600_000)),
                ("revoked", V::Flag(0)),
            ],
        ),
        (
            "api_tokens",
            vec![
                ("id", V::Id(A1)),
                ("person_id", V::Id(P1)),
                ("name", t("对接")),
                ("token_hash", t("a1")),
                ("created_at", V::Ts(AT)),
                ("revoked", V::Flag(1)),
            ],
        ),
        (
            "sign_in_failures",
            vec![
                ("id", V::Id(F1)),
                ("login", t("jia")),
                ("at_ms", V::Int(1_772_416_800_000)),
            ],
        ),
        (
            "role_grants",
            vec![
                ("person_id", V::Id(P1)),
                ("role", t("duty_officer")),
                ("jurisdiction_id", V::Id(J2)),
                ("jurisdiction_path", t(PATH)),
                ("granted_at", V::Ts(AT)),
            ],
        ),
        (
            "streams",
            vec![
                ("id", V::Id(I1)),
                ("kind", t("incident")),
                ("version", V::Int(2)),
                ("head_hash", t(&head)),
            ],
        ),
    ];
    for (env, hash) in ev {
        out.push((
            "events",
            vec![
                ("id", V::Text(env.id.to_string())),
                ("stream_id", V::Id(I1)),
                ("stream_seq", V::Int(env.stream_seq)),
                ("stream_kind", t(&env.stream_kind)),
                ("jurisdiction_id", V::Id(J2)),
                ("at", t(&env.at)),
                ("actor_id", V::Id(P1)),
                ("actor_name", t(&env.actor_name)),
                ("kind", t(&env.kind)),
                (
                    "reason",
                    env.reason.clone().map_or(V::Null(K::Text), V::Text),
                ),
                ("payload", t(&env.payload)),
                ("prev_hash", t(&env.prev_hash)),
                ("hash", t(&hash)),
            ],
        ));
    }
    out
}

/// Event ids are typed columns too (their text is generated, so they are `Text` above).
fn kind_of(table: &str, column: &str, v: &V) -> K {
    if table == "events" && column == "id" {
        K::Id
    } else {
        v.kind()
    }
}

/// The PostgreSQL type 0006 gives a column of each kind.
fn pg_type(k: K) -> &'static str {
    match k {
        K::Id => "uuid",
        K::Ts => "timestamp with time zone",
        K::Day => "date",
        K::Flag => "boolean",
        K::Json => "jsonb",
        K::Text => "text",
        K::Int => "bigint",
    }
}

/// A scratch database, dropped at the end.
struct Scratch {
    admin: String,
    name: String,
    url: String,
}

impl Scratch {
    async fn new() -> Option<Scratch> {
        let admin = std::env::var("YINGJI_TEST_POSTGRES_URL").ok()?;
        sqlx::any::install_default_drivers();
        let name = format!("yingji_m_{}", Uuid::now_v7().simple());
        let pool = sqlx::AnyPool::connect(&admin).await.unwrap();
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
        let url = format!("{}/{name}", admin.rsplit_once('/').unwrap().0);
        Some(Scratch { admin, name, url })
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let (admin, name) = (self.admin.clone(), self.name.clone());
        let _ = std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap()
                .block_on(async {
                    if let Ok(pool) = sqlx::AnyPool::connect(&admin).await {
                        let _ =
                            sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                                .execute(&pool)
                                .await;
                    }
                });
        })
        .join();
    }
}

fn scratch_dir() -> std::path::PathBuf {
    std::env::temp_dir().join(format!("yingji-migrate-{}", Uuid::now_v7().simple()))
}

/// Opens `url` migrated only up to 0005 and writes every row as the store did then.
async fn fill_at_0005(url: &str, backend: Backend) -> Vec<String> {
    sqlx::any::install_default_drivers();
    let mut migrator = match backend {
        Backend::Sqlite => sqlx::migrate!("./migrations/sqlite"),
        Backend::Postgres => sqlx::migrate!("./migrations/postgres"),
    };
    migrator.migrations = migrator
        .migrations
        .iter()
        .filter(|m| m.version <= 5)
        .cloned()
        .collect::<Vec<_>>()
        .into();
    let pool = sqlx::any::AnyPoolOptions::new()
        .max_connections(1)
        .connect(url)
        .await
        .unwrap();
    migrator.run(&pool).await.unwrap();
    for (table, cols) in rows() {
        let names = cols.iter().map(|(c, _)| *c).collect::<Vec<_>>().join(", ");
        let marks = (1..=cols.len())
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!("INSERT INTO {table} ({names}) VALUES ({marks})");
        let mut q = sqlx::query(&sql);
        for (_, v) in &cols {
            q = match v {
                V::Id(s) | V::Ts(s) | V::Day(s) | V::Json(s) => q.bind(s.to_string()),
                V::Text(s) => q.bind(s.clone()),
                V::Flag(n) | V::Int(n) => q.bind(*n),
                V::Null(K::Flag | K::Int) => q.bind(None::<i64>),
                V::Null(_) => q.bind(None::<String>),
            };
        }
        q.execute(&pool).await.unwrap();
    }
    let tables: Vec<String> = match backend {
        Backend::Sqlite => sqlx::query("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> '_sqlx_migrations' ORDER BY name"),
        Backend::Postgres => sqlx::query("SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name <> '_sqlx_migrations' ORDER BY 1"),
    }
    .fetch_all(&pool)
    .await
    .unwrap()
    .iter()
    .map(|r| r.try_get::<String, _>(0).unwrap())
    .collect();
    pool.close().await;
    tables
}

/// A backup's rows per table, normalised: flags as 0/1, JSON columns parsed.
fn read_backup(file: &std::path::Path) -> BTreeMap<String, Vec<BTreeMap<String, Value>>> {
    let json_cols: Vec<(&str, &str)> = rows()
        .into_iter()
        .flat_map(|(t, cols)| {
            cols.into_iter()
                .filter(|(_, v)| v.kind() == K::Json)
                .map(move |(c, _)| (t, c))
        })
        .collect();
    let text = std::fs::read_to_string(file).unwrap();
    let mut lines = text
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap());
    let header = lines.next().unwrap();
    assert_eq!(header["format"], yingji_store::BACKUP_FORMAT);
    let mut out: BTreeMap<String, Vec<BTreeMap<String, Value>>> = BTreeMap::new();
    while let Some(v) = lines.next() {
        if v.get("end").is_some() {
            break;
        }
        let table = v["table"].as_str().unwrap().to_string();
        let columns: Vec<String> = serde_json::from_value(v["columns"].clone()).unwrap();
        let mut got = Vec::new();
        for _ in 0..v["rows"].as_u64().unwrap() {
            let row = lines.next().unwrap();
            let mut m = BTreeMap::new();
            for (c, cell) in columns.iter().zip(row.as_array().unwrap()) {
                let cell = match cell {
                    Value::Bool(b) => json!(i64::from(*b)),
                    Value::String(s) if json_cols.contains(&(table.as_str(), c.as_str())) => {
                        serde_json::from_str(s).unwrap()
                    }
                    other => other.clone(),
                };
                m.insert(c.clone(), cell);
            }
            got.push(m);
        }
        got.sort_by_key(|m| serde_json::to_string(m).unwrap());
        out.insert(table, got);
    }
    out
}

/// What every table must hold after the migration (`seq` is the log's own numbering).
fn expected() -> BTreeMap<String, Vec<BTreeMap<String, Value>>> {
    let mut out: BTreeMap<String, Vec<BTreeMap<String, Value>>> = BTreeMap::new();
    for (table, cols) in rows() {
        let mut m: BTreeMap<String, Value> = cols
            .iter()
            .map(|(c, v)| (c.to_string(), v.expected()))
            .collect();
        if table == "events" {
            // Written in order: the log's numbering follows the stream's.
            m.insert("seq".into(), m["stream_seq"].clone());
        }
        out.entry(table.to_string()).or_default().push(m);
    }
    // Migration 0012: every stream gets the jurisdiction of its first event, no signature yet
    // (the server signs such heads once, with the first checkpoint), and no checkpoint.
    for s in out.get_mut("streams").unwrap() {
        s.insert("jurisdiction_id".into(), json!(J2));
        s.insert("head_sig".into(), Value::Null);
        s.insert("checkpointed".into(), json!(0));
    }
    out.insert("audit_checkpoints".into(), vec![]);
    out.insert("audit_checkpoint_heads".into(), vec![]);
    // Migration 0013: no subject key yet (a case gets one when registered or rekeyed).
    out.insert("subject_keys".into(), vec![]);
    // Migration 0017: the case's body has no pending extension request.
    for c in out.get_mut("cases").unwrap() {
        c.insert("extension_requested".into(), json!(0));
    }
    // Migration 0020: each assignment carries its task's state and due time.
    let task = out["tasks"][0].clone();
    for x in out.get_mut("task_assignees").unwrap() {
        x.insert("state".into(), task["state"].clone());
        x.insert("due_at".into(), task["due_at"].clone());
    }
    // Migration 0015: an empty search index (records are indexed as they are written).
    out.insert("search_terms".into(), vec![]);
    // Migration 0021: no record waits for the index.
    out.insert("search_pending".into(), vec![]);
    // Migration 0022: no deployment secret yet (the first server makes them).
    out.insert("deployment_secrets".into(), vec![]);
    // Migration 0024: no information release yet.
    out.insert("releases".into(), vec![]);
    // Migration 0025: no record of the rest of the plan, no attachment kept in the database.
    out.insert("records".into(), vec![]);
    out.insert("attachment_blobs".into(), vec![]);
    for rows in out.values_mut() {
        rows.sort_by_key(|m| serde_json::to_string(m).unwrap());
    }
    out
}

/// Everything the store reads of the migrated data, through its own API, and the log's guard.
async fn check_store(s: &Store, tables_at_0005: &[String]) {
    // Every table of 0005 has a row above, every column a value.
    let mut spec: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (t, cols) in rows() {
        spec.insert(t, cols.iter().map(|(c, _)| *c).collect());
    }
    let names: Vec<&str> = spec.keys().copied().collect();
    assert_eq!(tables_at_0005, names, "a row for every table");

    let report = s.verify(None).await.unwrap();
    assert!(report.broken.is_empty(), "{:?}", report.broken);
    assert_eq!((report.streams, report.events), (1, 2));
    let got = s.stream_events(I1.parse().unwrap()).await.unwrap();
    let want = events();
    assert_eq!(got.len(), 2);
    for (g, (env, hash)) in got.iter().zip(&want) {
        assert_eq!(
            (&g.envelope, &g.hash),
            (env, hash),
            "events read back as written"
        );
    }

    let inc = s.get_incident(I1.parse().unwrap()).await.unwrap().unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(&inc.body).unwrap(),
        serde_json::from_str::<Value>(INCIDENT).unwrap()
    );
    assert_eq!((inc.version, inc.jurisdiction_path.as_str()), (2, PATH));
    let list = s
        .list_incidents(&yingji_store::IncidentFilter {
            scope_path: PATH.into(),
            from: Some(AT.into()),
            drill: Some(false),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(
        (
            list[0].reported_at.as_str(),
            list[0].updated_at.as_str(),
            list[0].drill
        ),
        (AT, LATER, false)
    );
    let tasks = s
        .list_tasks(&yingji_store::TaskFilter {
            scope_path: PATH.into(),
            assignee: Some(P1.parse().unwrap()),
            overdue: Some(true),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(tasks.len(), 1);
    assert_eq!(tasks[0].0.due_at, LATER);
    assert_eq!(tasks[0].0.assignees, vec![P1.parse::<Uuid>().unwrap()]);
    let j = s.jurisdiction(J2.parse().unwrap()).await.unwrap().unwrap();
    assert_eq!(
        (j.parent_id, j.created_at.as_str()),
        (Some(J1.parse().unwrap()), LATER)
    );
    assert_eq!(
        s.holders(J2.parse().unwrap(), "duty-officer")
            .await
            .unwrap(),
        vec![(P1.parse().unwrap(), "值班员甲".to_string(), true)]
    );
    let account = s.account(P1.parse().unwrap()).await.unwrap().unwrap();
    assert!(account.disabled);
    let idem = s
        .idempotency(P1.parse().unwrap(), "key-1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        idem.response, INCIDENT,
        "stored responses replay byte for byte"
    );
    assert_eq!(idem.created_at, AT);
    assert_eq!(
        s.case_by_number("LX-2026-L-0001").await.unwrap(),
        Some(K1.parse().unwrap())
    );
    let cases = s
        .list_cases(&yingji_store::CaseFilter {
            scope_path: PATH.into(),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        (
            cases[0].accepted_on.as_str(),
            cases[0].due_on.as_str(),
            cases[0].overdue,
            cases[0].extended
        ),
        ("2026-03-02", "2026-05-29", false, true)
    );
    assert_eq!(s.purgeable_cases(LATER).await.unwrap(), Vec::<Uuid>::new());
    let d = s.delivery(D1.parse().unwrap()).await.unwrap().unwrap();
    assert_eq!(
        (d.drill, d.sent_at, d.created_at.as_str()),
        (true, None, AT)
    );
    let rs = s
        .report_submissions("linxi-mass-petition", AT, LATER)
        .await
        .unwrap();
    assert_eq!(
        (rs.len(), rs[0].submitted_at.as_str(), rs[0].nil),
        (1, LATER, false)
    );
    assert!(
        s.report_reminder_sent("linxi-mass-petition", "daily", AT, "duty-officer", "late")
            .await
            .unwrap()
    );

    // The log refuses changes now, on migrated rows too.
    for sql in [
        "UPDATE events SET reason = 'x' WHERE stream_seq = 1",
        "DELETE FROM events WHERE stream_seq = 2",
    ] {
        let e = sqlx::query(sql).execute(s.pool()).await.unwrap_err();
        assert!(e.to_string().contains("append-only"), "{e}");
    }
}

async fn migrated_sqlite() -> (Store, Vec<String>, std::path::PathBuf) {
    let dir = scratch_dir();
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.join("yingji.db").display());
    let tables = fill_at_0005(&url, Backend::Sqlite).await;
    (Store::open_sqlite(&dir).await.unwrap(), tables, dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sqlite_database_of_0005_migrates_without_loss() {
    let (s, tables, dir) = migrated_sqlite().await;
    check_store(&s, &tables).await;
    let file = dir.join("backup.jsonl");
    s.backup(&file).await.unwrap();
    assert_eq!(read_backup(&file), expected());
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_database_of_0005_migrates_to_native_types_without_loss() {
    let Some(db) = Scratch::new().await else {
        eprintln!("skipped: set YINGJI_TEST_POSTGRES_URL to run the PostgreSQL variant");
        return;
    };
    let tables = fill_at_0005(&db.url, Backend::Postgres).await;
    let s = Store::open_url(&db.url).await.unwrap();

    // Every column has the type of what it holds.
    let types: BTreeMap<(String, String), String> = sqlx::query(
        "SELECT table_name::text, column_name::text, data_type::text FROM information_schema.columns WHERE table_schema = current_schema()",
    )
    .fetch_all(s.pool())
    .await
    .unwrap()
    .iter()
    .map(|r| ((r.get(0), r.get(1)), r.get(2)))
    .collect();
    for (table, cols) in rows() {
        for (c, v) in &cols {
            let want = match (table, *c) {
                // The hot incident body is json (see migration 0006).
                ("incidents", "body") => "json",
                _ => pg_type(kind_of(table, c, v)),
            };
            assert_eq!(
                types[&(table.to_string(), c.to_string())],
                want,
                "{table}.{c}"
            );
        }
    }
    // A closed set of values is checked.
    let bad = sqlx::query("UPDATE tasks SET state = 'lost'")
        .execute(s.pool())
        .await
        .unwrap_err();
    assert!(bad.to_string().contains("tasks_state_check"), "{bad}");

    check_store(&s, &tables).await;
    let dir = scratch_dir();
    std::fs::create_dir_all(&dir).unwrap();
    let from_pg = dir.join("pg.jsonl");
    s.backup(&from_pg).await.unwrap();
    assert_eq!(read_backup(&from_pg), expected());

    // PostgreSQL → SQLite: the same data, readable by the store.
    let sq = Store::open_sqlite(&dir.join("restored")).await.unwrap();
    sq.restore(&from_pg).await.unwrap();
    let from_sqlite = dir.join("sqlite.jsonl");
    sq.backup(&from_sqlite).await.unwrap();
    assert_eq!(read_backup(&from_sqlite), expected());
    check_store(&sq, &tables).await;

    // SQLite → PostgreSQL (a fresh database): the same again.
    let Some(db2) = Scratch::new().await else {
        unreachable!()
    };
    let pg2 = Store::open_url(&db2.url).await.unwrap();
    pg2.restore(&from_sqlite).await.unwrap();
    let again = dir.join("pg2.jsonl");
    pg2.backup(&again).await.unwrap();
    assert_eq!(read_backup(&again), expected());
    check_store(&pg2, &tables).await;

    // The migrated log continues: a new event chains after the old ones.
    let stream: Uuid = I1.parse().unwrap();
    let (version, head) = s.stream_head(stream).await.unwrap().unwrap();
    let env = EventEnvelope {
        id: Uuid::now_v7(),
        stream_id: stream,
        stream_seq: version + 1,
        stream_kind: "incident".into(),
        jurisdiction_id: J2.parse().unwrap(),
        at: yingji_store::fmt_ts(jiff::Timestamp::now()),
        actor_id: P1.parse().unwrap(),
        actor_name: "值班员甲".into(),
        kind: "activated".into(),
        reason: None,
        payload: "{}".into(),
        prev_hash: head.clone(),
    };
    let hash = env.hash();
    let mut ws = yingji_store::WriteSet::default();
    ws.events.push(yingji_domain::audit::StoredEvent {
        envelope: env,
        hash: hash.clone(),
    });
    ws.heads.push(yingji_store::StreamHead {
        id: stream,
        kind: "incident".into(),
        expected_version: version,
        new_version: version + 1,
        head_hash: hash,
        jurisdiction_id: None,
    });
    s.commit(ws).await.unwrap();
    let report = s.verify(None).await.unwrap();
    assert!(report.broken.is_empty() && report.events == 3, "{report:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sqlite_backup_restores_into_postgres_and_back() {
    let Some(db) = Scratch::new().await else {
        eprintln!("skipped: set YINGJI_TEST_POSTGRES_URL to run the PostgreSQL variant");
        return;
    };
    let (sq, tables, dir) = migrated_sqlite().await;
    let from_sqlite = dir.join("sqlite.jsonl");
    sq.backup(&from_sqlite).await.unwrap();
    let pg = Store::open_url(&db.url).await.unwrap();
    pg.restore(&from_sqlite).await.unwrap();
    check_store(&pg, &tables).await;
    let from_pg = dir.join("pg.jsonl");
    pg.backup(&from_pg).await.unwrap();
    assert_eq!(read_backup(&from_pg), expected());
    let back = Store::open_sqlite(&dir.join("back")).await.unwrap();
    back.restore(&from_pg).await.unwrap();
    check_store(&back, &tables).await;
    let _ = std::fs::remove_dir_all(&dir);
}
