//! One contract suite for both backends: SQLite always; PostgreSQL when
//! YINGJI_TEST_POSTGRES_URL is set (as `.ci/run` does).

use uuid::Uuid;
use yingji_domain::audit::{EventEnvelope, GENESIS, StoredEvent};
use yingji_store::{
    IdempotencyRecord, JurisdictionRow, PersonRow, Row, Stmt, Store, StoreError, StreamHead, Val,
    WriteSet, args, fmt_ts,
};

struct Db {
    store: Store,
    drop_db: Option<(String, String)>,
    dir: Option<std::path::PathBuf>,
}

impl Drop for Db {
    fn drop(&mut self) {
        if let Some(d) = &self.dir {
            let _ = std::fs::remove_dir_all(d);
        }
        if let Some((url, name)) = self.drop_db.clone() {
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(async {
                    if let Ok(pool) = sqlx::AnyPool::connect(&url).await {
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
}

async fn sqlite() -> Db {
    let dir = std::env::temp_dir().join(format!("yingji-contract-{}", Uuid::now_v7().simple()));
    Db {
        store: Store::open_sqlite(&dir).await.unwrap(),
        drop_db: None,
        dir: Some(dir),
    }
}

async fn postgres() -> Option<Db> {
    let Ok(url) = std::env::var("YINGJI_TEST_POSTGRES_URL") else {
        eprintln!("skipped: set YINGJI_TEST_POSTGRES_URL to run the PostgreSQL variant");
        return None;
    };
    sqlx::any::install_default_drivers();
    let name = format!("yingji_c_{}", Uuid::now_v7().simple());
    let admin = sqlx::AnyPool::connect(&url).await.unwrap();
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&admin)
        .await
        .unwrap();
    let base = url.rsplit_once('/').unwrap().0;
    Some(Db {
        store: Store::open_url(&format!("{base}/{name}")).await.unwrap(),
        drop_db: Some((url, name)),
        dir: None,
    })
}

/// A test event at `seq` of `stream`, chained after `prev`.
fn envelope(
    stream: Uuid,
    seq: i64,
    payload: String,
    reason: Option<String>,
    prev: &str,
) -> EventEnvelope {
    EventEnvelope {
        id: Uuid::now_v7(),
        stream_id: stream,
        stream_seq: seq,
        stream_kind: "incident".into(),
        jurisdiction_id: Uuid::nil(),
        at: fmt_ts(jiff::Timestamp::UNIX_EPOCH),
        actor_id: Uuid::nil(),
        actor_name: "测试员".into(),
        kind: "noted".into(),
        reason,
        payload,
        prev_hash: prev.to_string(),
    }
}

/// A write of `n` events appended to a stream at `version` with head `prev`.
fn events(stream: Uuid, version: i64, prev: &str, n: usize) -> (WriteSet, String) {
    let mut ws = WriteSet::default();
    let mut prev = prev.to_string();
    for i in 0..n {
        let env = envelope(
            stream,
            version + i as i64 + 1,
            format!("{{\"n\":{i}}}"),
            None,
            &prev,
        );
        let hash = env.hash();
        prev = hash.clone();
        ws.events.push(StoredEvent {
            envelope: env,
            hash,
        });
    }
    ws.heads.push(StreamHead {
        id: stream,
        kind: "incident".into(),
        expected_version: version,
        new_version: version + n as i64,
        head_hash: prev.clone(),
        jurisdiction_id: None,
    });
    (ws, prev)
}

/// A new stream with one event carrying `payload` and `reason`.
fn one_event(stream: Uuid, payload: &str, reason: Option<String>) -> WriteSet {
    let env = envelope(stream, 1, payload.to_string(), reason, GENESIS);
    let hash = env.hash();
    WriteSet {
        heads: vec![StreamHead {
            id: stream,
            kind: "incident".into(),
            expected_version: 0,
            new_version: 1,
            head_hash: hash.clone(),
            jurisdiction_id: None,
        }],
        events: vec![StoredEvent {
            envelope: env,
            hash,
        }],
        ..WriteSet::default()
    }
}

/// Commits `n` new streams at once (plus one more event on the existing stream `dup`, which
/// must fail with `stream_exists`) and reads every value back.
async fn crowd(s: &Store, tricky: &[&str], n: usize, dup: Option<Uuid>) {
    let mut crowd = tokio::task::JoinSet::new();
    let mut written = Vec::new();
    for i in 0..n {
        let id = Uuid::now_v7();
        let payload = format!("{{\"text\":{:?}}}", tricky[i % tricky.len()]);
        let reason = (i % 3 == 0).then(|| tricky[(i + 1) % tricky.len()].to_string());
        let ws = one_event(id, &payload, reason.clone());
        written.push((id, payload, reason));
        let st = s.clone();
        crowd.spawn(async move { (id, st.commit(ws).await) });
        if i == n / 2
            && let Some(d) = dup
        {
            let st = s.clone();
            let ws = one_event(d, "{}", None);
            crowd.spawn(async move { (d, st.commit(ws).await) });
        }
    }
    while let Some(done) = crowd.join_next().await {
        let (id, r) = done.unwrap();
        if Some(id) == dup {
            assert!(
                matches!(
                    r,
                    Err(StoreError::Conflict(yingji_store::Conflict::StreamExists))
                ),
                "{r:?}"
            );
        } else {
            r.unwrap();
        }
    }
    for (id, payload, reason) in &written {
        let got = s.stream_events(*id).await.unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(&got[0].envelope.payload, payload);
        assert_eq!(&got[0].envelope.reason, reason);
    }
}

async fn contract(db: Db) {
    let s = &db.store;
    let a = Uuid::now_v7();
    let (ws, head) = events(a, 0, GENESIS, 3);
    s.commit(ws).await.unwrap();
    assert_eq!(s.stream_head(a).await.unwrap(), Some((3, head.clone())));
    assert_eq!(s.stream_events(a).await.unwrap().len(), 3);

    // Two writers from the same version: exactly one wins, the other changes nothing.
    let (w1, _) = events(a, 3, &head, 1);
    let (w2, _) = events(a, 3, &head, 2);
    let (r1, r2) = tokio::join!(s.commit(w1), s.commit(w2));
    let wins = [r1.is_ok(), r2.is_ok()].iter().filter(|x| **x).count();
    assert_eq!(wins, 1);
    for r in [r1, r2] {
        if let Err(e) = r {
            assert!(
                matches!(
                    e,
                    StoreError::Conflict(yingji_store::Conflict::StreamVersion)
                ),
                "{e}"
            );
        }
    }
    let n = s.stream_events(a).await.unwrap().len();
    assert!(n == 4 || n == 5);

    // A new stream may not be created twice.
    let (again, _) = events(a, 0, GENESIS, 1);
    assert!(matches!(
        s.commit(again).await,
        Err(StoreError::Conflict(_))
    ));

    // Many concurrent writes, half of them doomed: the good ones all land (savepoints keep a
    // failing write from taking its batch with it).
    let mut handles = vec![];
    for i in 0..40 {
        let st = s.clone();
        handles.push(tokio::spawn(async move {
            if i % 2 == 0 {
                let (ws, _) = events(Uuid::now_v7(), 0, GENESIS, 2);
                st.commit(ws).await.map(|_| true)
            } else {
                let (ws, _) = events(a, 0, GENESIS, 1);
                st.commit(ws).await.map(|_| false)
            }
        }));
    }
    let mut ok = 0;
    for h in handles {
        if h.await.unwrap().is_ok() {
            ok += 1;
        }
    }
    assert_eq!(ok, 20);

    // Idempotency keys are unique per actor.
    let rec = |k: &str| IdempotencyRecord {
        actor_id: Uuid::nil(),
        key: k.into(),
        request_hash: "h".into(),
        status: 201,
        response: "{}".into(),
        created_at: fmt_ts(jiff::Timestamp::UNIX_EPOCH),
    };
    let (mut w, _) = events(Uuid::now_v7(), 0, GENESIS, 1);
    w.idempotency = Some(rec("k1"));
    s.commit(w).await.unwrap();
    let (mut w, _) = events(Uuid::now_v7(), 0, GENESIS, 1);
    w.idempotency = Some(rec("k1"));
    assert!(matches!(
        s.commit(w).await,
        Err(StoreError::Conflict(yingji_store::Conflict::Idempotency))
    ));
    assert_eq!(
        s.idempotency(Uuid::nil(), "k1")
            .await
            .unwrap()
            .unwrap()
            .status,
        201
    );

    // Generic statements: typed NULLs bind on both backends, a row-count check turns into a
    // named conflict that rolls back the whole write, and a unique violation is named.
    let j = Uuid::now_v7();
    let now = fmt_ts(jiff::Timestamp::UNIX_EPOCH);
    let mut w = WriteSet::default();
    w.rows.push(Row::Jurisdiction(JurisdictionRow {
        id: j,
        parent_id: None,
        name: "测试县".into(),
        kind: "county".into(),
        code: None,
        path: format!("/{}/", j.simple()),
        created_at: now.clone(),
    }));
    w.rows.push(Row::Person(PersonRow {
        id: Uuid::now_v7(),
        jurisdiction_id: j,
        name: "甲".into(),
        phone: None,
        email: None,
        token_hash: Some("t1".into()),
        created_at: now.clone(),
    }));
    w.rows.push(
        Stmt::raw(
            "INSERT INTO outbox (id, event_id, kind, payload, state, attempts, next_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            args![
                Uuid::now_v7(),
                Uuid::now_v7(),
                "call",
                Val::json("{}"),
                "pending",
                0i64,
                Val::ts(&now),
                Val::ts(&now)
            ],
        )
        .into(),
    );
    s.commit(w).await.unwrap();
    assert_eq!(s.outbox_count("pending").await.unwrap(), 1);
    // The cached person is dropped when a write changes people.
    let first = s.person_by_token("t1").await.unwrap().unwrap();
    assert_eq!(first.name, "甲");
    let mut w = WriteSet::default();
    w.rows.push(
        Stmt::raw(
            "UPDATE people SET name = ? WHERE token_hash = ?",
            vec![Val::from("乙"), Val::from("t1")],
        )
        .expect(1, yingji_store::Conflict::PersonGone)
        .into(),
    );
    s.commit(w).await.unwrap();
    assert_eq!(s.person_by_token("t1").await.unwrap().unwrap().name, "乙");
    // A failed check rolls back everything else in the same write.
    let mut w = WriteSet::default();
    w.rows.push(
        Stmt::raw(
            "UPDATE people SET name = ? WHERE token_hash = ?",
            args!["丙", "t1"],
        )
        .into(),
    );
    w.rows.push(
        Stmt::raw(
            "UPDATE people SET name = ? WHERE token_hash = ?",
            args!["丁", "no-such-token"],
        )
        .expect(1, yingji_store::Conflict::PersonGone)
        .into(),
    );
    assert!(matches!(
        s.commit(w).await,
        Err(StoreError::Conflict(yingji_store::Conflict::PersonGone))
    ));
    assert_eq!(s.person_by_token("t1").await.unwrap().unwrap().name, "乙");
    let mut w = WriteSet::default();
    w.rows.push(Row::Person(PersonRow {
        id: Uuid::now_v7(),
        jurisdiction_id: j,
        name: "戊".into(),
        phone: None,
        email: None,
        token_hash: Some("t1".into()),
        created_at: now.clone(),
    }));
    match s.commit(w).await {
        Err(StoreError::Conflict(c)) => {
            assert_eq!(c, yingji_store::Conflict::TokenTaken)
        }
        other => panic!("expected a conflict on the token, got {other:?}"),
    }

    // Many writes at once share statements (on PostgreSQL one JSON array per table): every
    // value comes back exactly, whatever its characters, and a bad write in the crowd fails
    // alone while the others commit.
    let tricky = [
        "引号\"和\\反斜杠",
        "line\nbreak\ttab\r",
        "emoji 🚒 and \u{1}\u{1f}",
        "'single' -- ; DROP TABLE events",
        "",
        "{\"json\": [1, \"two\"]}",
    ];
    let a_before = s.stream_head(a).await.unwrap();
    crowd(s, &tricky, 120, None).await;
    // Stream `a` exists already: that write fails on its own, the others commit.
    crowd(s, &tricky, 40, Some(a)).await;
    assert_eq!(s.stream_head(a).await.unwrap(), a_before);

    // The log verifies. The database refuses to change or remove an event.
    assert!(s.verify(None).await.unwrap().broken.is_empty());
    let victim = s.stream_events(a).await.unwrap()[1].envelope.id;
    let (edit, remove, unguard) = match s.backend() {
        yingji_store::Backend::Sqlite => (
            "UPDATE events SET payload = '{\"n\":99}' WHERE id = ?",
            "DELETE FROM events WHERE id = ?",
            "DROP TRIGGER events_no_update",
        ),
        yingji_store::Backend::Postgres => (
            "UPDATE events SET payload = '{\"n\":99}' WHERE CAST(id AS TEXT) = $1",
            "DELETE FROM events WHERE CAST(id AS TEXT) = $1",
            "DROP TRIGGER events_append_only ON events",
        ),
    };
    for sql in [edit, remove] {
        let refused = sqlx::query(sql)
            .bind(victim.to_string())
            .execute(s.pool())
            .await
            .expect_err("events are append-only");
        assert!(refused.to_string().contains("append-only"), "{refused}");
    }
    if s.backend() == yingji_store::Backend::Postgres {
        let refused = sqlx::query("TRUNCATE events CASCADE")
            .execute(s.pool())
            .await
            .expect_err("events are append-only");
        assert!(refused.to_string().contains("append-only"), "{refused}");
    }
    assert!(s.verify(None).await.unwrap().broken.is_empty());
    // Someone with full access to the database can drop the trigger first, as an attacker
    // would: editing one stored event is still found and named.
    sqlx::query(unguard).execute(s.pool()).await.unwrap();
    sqlx::query(edit)
        .bind(victim.to_string())
        .execute(s.pool())
        .await
        .unwrap();
    let report = s.verify(None).await.unwrap();
    assert_eq!(report.broken.len(), 1);
    assert_eq!(report.broken[0].0, a);
    assert!(report.broken[0].2.to_string().contains(&victim.to_string()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contract_sqlite() {
    contract(sqlite().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contract_postgres() {
    if let Some(db) = postgres().await {
        contract(db).await;
    }
}

/// The search index answers the same records, newest first, whichever way `Store::search`
/// reads it: few rows of the term in the area (read and sorted) or many (walked newest first).
async fn search_contract(db: Db) {
    let s = &db.store;
    let n = 6000usize;
    let ids: Vec<Uuid> = (0..n).map(|_| Uuid::now_v7()).collect();
    let path = |i: usize| {
        if i.is_multiple_of(10) {
            "/r/a/"
        } else {
            "/r/b/"
        }
    };
    let mut ws = WriteSet::default();
    for (i, id) in ids.iter().enumerate() {
        let mut terms = std::collections::BTreeSet::from(["aa".to_string()]);
        if i.is_multiple_of(3) {
            terms.insert("bb".into());
        }
        if i.is_multiple_of(7) {
            terms.insert("cc".into());
        }
        ws.rows.extend(yingji_store::search::index_row(
            "case",
            *id,
            path(i),
            &terms,
        ));
    }
    s.commit(ws).await.unwrap();
    let expect = |keep: &dyn Fn(usize) -> bool| -> Vec<Uuid> {
        let mut v: Vec<Uuid> = (0..n).filter(|i| keep(*i)).map(|i| ids[i]).collect();
        v.reverse();
        v.truncate(50);
        v
    };
    let got = |scope: &'static str, terms: &'static [&'static str]| async move {
        let terms: Vec<String> = terms.iter().map(|t| t.to_string()).collect();
        s.search(scope, &terms, 50)
            .await
            .unwrap()
            .into_iter()
            .map(|(kind, id)| {
                assert_eq!(kind, "case");
                id
            })
            .collect::<Vec<_>>()
    };
    // Every record waiting for the indexer, a third moved into the index, all of them: the
    // same answers each time.
    let pending = || async move {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM search_pending")
            .fetch_one(s.pool())
            .await
            .unwrap();
        n
    };
    assert_eq!(pending().await, n as i64);
    for round in 0..3 {
        if round == 1 {
            assert_eq!(s.index_pending(2000).await.unwrap(), 2000);
            assert_eq!(pending().await, n as i64 - 2000);
        }
        if round == 2 {
            while s
                .index_pending(yingji_store::search::INDEX_BATCH)
                .await
                .unwrap()
                > 0
            {}
            assert_eq!(pending().await, 0);
        }
        const {
            assert!(
                600 < yingji_store::search::SMALL_AREA && 5400 > yingji_store::search::SMALL_AREA
            )
        };
        // A small area: 600 rows of the term.
        assert_eq!(
            got("/r/a/", &["aa"]).await,
            expect(&|i| i.is_multiple_of(10))
        );
        // A large one: walked newest first, the whole tree and a part of it.
        assert_eq!(got("/r/", &["aa"]).await, expect(&|_| true));
        assert_eq!(
            got("/r/b/", &["aa"]).await,
            expect(&|i| !i.is_multiple_of(10))
        );
        // Two terms: the rarer drives, the other is checked.
        assert_eq!(
            got("/r/b/", &["aa", "bb"]).await,
            expect(&|i| !i.is_multiple_of(10) && i.is_multiple_of(3))
        );
        assert_eq!(
            got("/r/a/", &["bb", "aa"]).await,
            expect(&|i| i.is_multiple_of(10) && i.is_multiple_of(3))
        );
        // The driver (cc, 858 rows) checked in several batches to find a page of bb.
        assert_eq!(
            got("/r/", &["bb", "cc"]).await,
            expect(&|i| i.is_multiple_of(3) && i.is_multiple_of(7))
        );
        // A term the area does not hold, and an area without records.
        assert!(got("/r/", &["aa", "zz"]).await.is_empty());
        assert!(got("/q/", &["aa"]).await.is_empty());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_sqlite() {
    search_contract(sqlite().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_postgres() {
    if let Some(db) = postgres().await {
        search_contract(db).await;
    }
}

/// The incident list answers the same page, newest first, whichever way it reads: a subtree
/// with few matching incidents (read and sorted) or many (walked newest first).
async fn incident_list_contract(db: Db) {
    let s = &db.store;
    let now = fmt_ts(jiff::Timestamp::now());
    let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
    let root = Uuid::now_v7();
    let mut ws = WriteSet::default();
    for (id, parent, name) in [
        (root, None, "测试省"),
        (a, Some(root), "甲县"),
        (b, Some(root), "乙县"),
    ] {
        let path = match parent {
            None => format!("/{}/", id.simple()),
            Some(p) => format!("/{}/{}/", p.simple(), id.simple()),
        };
        ws.rows.push(Row::Jurisdiction(JurisdictionRow {
            id,
            parent_id: parent,
            name: name.into(),
            kind: if parent.is_none() {
                "province"
            } else {
                "county"
            }
            .into(),
            code: None,
            path,
            created_at: now.clone(),
        }));
    }
    s.commit(ws).await.unwrap();
    let n = 5000usize;
    let ids: Vec<Uuid> = (0..n).map(|_| Uuid::now_v7()).collect();
    // One in ten in 甲县; one in three still reported, the others verified.
    let in_a = |i: usize| i.is_multiple_of(10);
    let reported = |i: usize| i.is_multiple_of(3);
    let mut ws = WriteSet::default();
    for (i, id) in ids.iter().enumerate() {
        let (j, path) = if in_a(i) {
            (a, format!("/{}/{}/", root.simple(), a.simple()))
        } else {
            (b, format!("/{}/{}/", root.simple(), b.simple()))
        };
        ws.rows.push(Row::Incident(yingji_store::IncidentRow {
            id: *id,
            jurisdiction_id: j,
            jurisdiction_path: path,
            plan_id: "p".into(),
            plan_version: 1,
            kind: "event".into(),
            status: if reported(i) { "reported" } else { "verified" }.into(),
            level: None,
            drill: false,
            headcount: 10,
            title: format!("事件{i}"),
            reported_at: now.clone(),
            updated_at: now.clone(),
            next_due_ms: None,
            body: "{}".into(),
        }));
    }
    s.commit(ws).await.unwrap();
    // The records of many incidents read together (in reads of 500 ids); an unknown id is
    // left out.
    let mut want: Vec<Uuid> = ids[..1200].to_vec();
    let mut asked = want.clone();
    asked.push(Uuid::now_v7());
    let mut read: Vec<Uuid> = s
        .incident_bodies(&asked)
        .await
        .unwrap()
        .into_iter()
        .map(|(id, body)| {
            assert_eq!(body, "{}");
            id
        })
        .collect();
    read.sort();
    want.sort();
    assert_eq!(read, want);
    let list = |scope: String, status: Option<&'static str>, before: Option<Uuid>| async move {
        s.list_incidents(&yingji_store::IncidentFilter {
            scope_path: scope,
            status: status.map(str::to_string),
            before,
            limit: 50,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect::<Vec<_>>()
    };
    let expect = |keep: &dyn Fn(usize) -> bool, below: usize| -> Vec<Uuid> {
        let mut v: Vec<Uuid> = (0..below).filter(|i| keep(*i)).map(|i| ids[i]).collect();
        v.reverse();
        v.truncate(50);
        v
    };
    let province = format!("/{}/", root.simple());
    let county_a = format!("/{}/{}/", root.simple(), a.simple());
    let county_b = format!("/{}/{}/", root.simple(), b.simple());
    const { assert!(500 < yingji_store::SMALL_LIST && 4500 > yingji_store::SMALL_LIST) };
    // Few (500 in 甲县) and many (4,500 in 乙县, 5,000 in all).
    assert_eq!(list(county_a.clone(), None, None).await, expect(&in_a, n));
    assert_eq!(
        list(county_b.clone(), None, None).await,
        expect(&|i| !in_a(i), n)
    );
    assert_eq!(
        list(province.clone(), None, None).await,
        expect(&|_| true, n)
    );
    // With a state, and the next page of each.
    assert_eq!(
        list(province.clone(), Some("reported"), None).await,
        expect(&reported, n)
    );
    assert_eq!(
        list(county_b.clone(), Some("verified"), None).await,
        expect(&|i| !in_a(i) && !reported(i), n)
    );
    assert_eq!(
        list(province, None, Some(ids[4000])).await,
        expect(&|_| true, 4000)
    );
    assert_eq!(
        list(county_a, Some("reported"), Some(ids[3000])).await,
        expect(&|i| in_a(i) && reported(i), 3000)
    );
    assert!(list(county_b, Some("closed"), None).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incident_list_sqlite() {
    incident_list_contract(sqlite().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incident_list_postgres() {
    if let Some(db) = postgres().await {
        incident_list_contract(db).await;
    }
}

/// The task list answers the same page, earliest due first, whichever way it reads (few
/// matching tasks in the subtree, or many), and a person's own tasks from their assignments.
async fn task_list_contract(db: Db) {
    let s = &db.store;
    let now = fmt_ts(jiff::Timestamp::now());
    let (root, a, b) = two_counties(s).await;
    let path = |j: Uuid| format!("/{}/{}/", root.simple(), j.simple());
    let me = Uuid::now_v7();
    // 500 incidents of 10 tasks each; every 10th incident in 甲县; a task's due time is its
    // number in minutes (shuffled by the incident order); one task in four open; one in 25 mine.
    let n_inc = 500usize;
    let due = |k: usize| (k * 7919) % 5000;
    let open = |k: usize| k.is_multiple_of(4);
    let mine = |k: usize| k.is_multiple_of(25);
    let in_a = |k: usize| (k / 10).is_multiple_of(10);
    let mut ids = Vec::new();
    for i in 0..n_inc {
        let inc = Uuid::now_v7();
        let j = if (i).is_multiple_of(10) { a } else { b };
        let mut ws = WriteSet::default();
        ws.rows.push(Row::Incident(yingji_store::IncidentRow {
            id: inc,
            jurisdiction_id: j,
            jurisdiction_path: path(j),
            plan_id: "p".into(),
            plan_version: 1,
            kind: "event".into(),
            status: "active".into(),
            level: None,
            drill: false,
            headcount: 10,
            title: format!("事件{i}"),
            reported_at: now.clone(),
            updated_at: now.clone(),
            next_due_ms: None,
            body: "{}".into(),
        }));
        let tasks = (0..10)
            .map(|t| {
                let k = i * 10 + t;
                let id = Uuid::now_v7();
                ids.push(id);
                yingji_store::TaskRow {
                    id,
                    incident_id: inc,
                    jurisdiction_path: path(j),
                    group: "g".into(),
                    title: format!("任务{k}"),
                    state: if open(k) { "open" } else { "done" }.into(),
                    due_at: fmt_ts(
                        jiff::Timestamp::from_second(1_800_000_000 + due(k) as i64 * 60).unwrap(),
                    ),
                    overdue: false,
                    drill: false,
                    assignees: if mine(k) { vec![me] } else { vec![] },
                }
            })
            .collect();
        ws.rows.push(Row::Tasks {
            incident_id: inc,
            tasks,
        });
        s.commit(ws).await.unwrap();
    }
    let n = n_inc * 10;
    let expect = |keep: &dyn Fn(usize) -> bool| -> Vec<Uuid> {
        let mut v: Vec<usize> = (0..n).filter(|k| keep(*k)).collect();
        v.sort_by_key(|k| due(*k));
        v.into_iter().take(50).map(|k| ids[k]).collect()
    };
    let list = |scope: String, state: Option<&'static str>, assignee: Option<Uuid>| async move {
        s.list_tasks(&yingji_store::TaskFilter {
            scope_path: scope,
            assignee,
            state: state.map(str::to_string),
            overdue: None,
            drill: None,
            after: None,
            limit: 50,
        })
        .await
        .unwrap()
        .into_iter()
        .map(|(t, _)| t.id)
        .collect::<Vec<_>>()
    };
    let province = format!("/{}/", root.simple());
    // 500 tasks in 甲县 (few), 4,500 in 乙县 and 5,000 in all (many).
    assert_eq!(list(path(a), None, None).await, expect(&in_a));
    assert_eq!(list(path(b), None, None).await, expect(&|k| !in_a(k)));
    assert_eq!(list(province.clone(), None, None).await, expect(&|_| true));
    assert_eq!(
        list(province.clone(), Some("open"), None).await,
        expect(&open)
    );
    assert_eq!(
        list(path(b), Some("open"), None).await,
        expect(&|k| open(k) && !in_a(k))
    );
    // Mine: from my assignments, in my area and its parts.
    assert_eq!(list(province.clone(), None, Some(me)).await, expect(&mine));
    assert_eq!(
        list(path(a), Some("open"), Some(me)).await,
        expect(&|k| mine(k) && in_a(k) && open(k))
    );
    assert!(
        list(province.clone(), None, Some(Uuid::now_v7()))
            .await
            .is_empty()
    );

    // Page by page after a cursor (the last task's due time and id): every matching task once,
    // in due order, whichever way each page is read.
    let all = |keep: &dyn Fn(usize) -> bool| -> Vec<Uuid> {
        let mut v: Vec<usize> = (0..n).filter(|k| keep(*k)).collect();
        v.sort_by_key(|k| due(*k));
        v.into_iter().map(|k| ids[k]).collect()
    };
    let walk = |scope: String, state: Option<&'static str>, assignee: Option<Uuid>| async move {
        let mut out: Vec<Uuid> = Vec::new();
        loop {
            let after = match out.last() {
                None => None,
                Some(id) => Some((s.task_due_at(*id).await.unwrap().unwrap(), *id)),
            };
            let page: Vec<Uuid> = s
                .list_tasks(&yingji_store::TaskFilter {
                    scope_path: scope.clone(),
                    assignee,
                    state: state.map(str::to_string),
                    after,
                    limit: 400,
                    ..Default::default()
                })
                .await
                .unwrap()
                .into_iter()
                .map(|(t, _)| t.id)
                .collect();
            let done = page.len() < 400;
            out.extend(page);
            if done {
                return out;
            }
        }
    };
    assert_eq!(walk(province.clone(), None, None).await, all(&|_| true));
    assert_eq!(
        walk(path(b), Some("open"), None).await,
        all(&|k| open(k) && !in_a(k))
    );
    assert_eq!(walk(province.clone(), None, Some(me)).await, all(&mine));

    // A task's state and due time follow it into its assignees' lists: my first open task
    // done, it leaves my open tasks and keeps its place among all of mine.
    let first_open_mine = expect(&|k| mine(k) && open(k))[0];
    let k = ids.iter().position(|id| *id == first_open_mine).unwrap();
    let inc = s
        .task_incident(first_open_mine)
        .await
        .unwrap()
        .expect("the task's incident");
    let mut ws = WriteSet::default();
    ws.rows.push(Row::Tasks {
        incident_id: inc,
        tasks: vec![yingji_store::TaskRow {
            id: first_open_mine,
            incident_id: inc,
            jurisdiction_path: path(if in_a(k) { a } else { b }),
            group: "g".into(),
            title: format!("任务{k}"),
            state: "done".into(),
            due_at: fmt_ts(
                jiff::Timestamp::from_second(1_800_000_000 + due(k) as i64 * 60).unwrap(),
            ),
            overdue: false,
            drill: false,
            assignees: vec![me],
        }],
    });
    s.commit(ws).await.unwrap();
    let mine_open = list(province.clone(), Some("open"), Some(me)).await;
    assert!(!mine_open.contains(&first_open_mine));
    assert_eq!(mine_open, expect(&|k2| mine(k2) && open(k2) && k2 != k));
    assert_eq!(
        list(province, Some("done"), Some(me)).await[..],
        expect(&|k2| mine(k2) && (!open(k2) || k2 == k))[..]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn task_list_sqlite() {
    task_list_contract(sqlite().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn task_list_postgres() {
    if let Some(db) = postgres().await {
        task_list_contract(db).await;
    }
}

/// A province with two counties: (root, 甲县, 乙县); a county's path is /root/county/.
async fn two_counties(s: &Store) -> (Uuid, Uuid, Uuid) {
    let now = fmt_ts(jiff::Timestamp::now());
    let (root, a, b) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    let mut ws = WriteSet::default();
    for (id, parent, name) in [
        (root, None, "测试省"),
        (a, Some(root), "甲县"),
        (b, Some(root), "乙县"),
    ] {
        ws.rows.push(Row::Jurisdiction(JurisdictionRow {
            id,
            parent_id: parent,
            name: name.into(),
            kind: if parent.is_none() {
                "province"
            } else {
                "county"
            }
            .into(),
            code: None,
            path: match parent {
                None => format!("/{}/", id.simple()),
                Some(_) => format!("/{}/{}/", root.simple(), id.simple()),
            },
            created_at: now.clone(),
        }));
    }
    s.commit(ws).await.unwrap();
    (root, a, b)
}

/// The delivery list, newest first then by id, page after page: the same rows whichever way
/// a page is read (few in 甲县, many in 乙县 and the province), with a state, for one incident.
async fn delivery_list_contract(db: Db) {
    use yingji_store::notify::{DeliveryFilter, NewDelivery};
    let s = &db.store;
    let (root, a, b) = two_counties(s).await;
    let path = |j: Uuid| format!("/{}/{}/", root.simple(), j.simple());
    let in_a = |k: usize| k.is_multiple_of(10);
    let sent = |k: usize| k % 3 == 1;
    let incident = |k: usize| k.is_multiple_of(7);
    let the_incident = Uuid::now_v7();
    let n = 4500usize;
    // Three deliveries share each creation time (the id breaks the tie); times shuffled.
    let at = |k: usize| {
        fmt_ts(
            jiff::Timestamp::from_second(1_800_000_000 + ((k / 3 * 7919) % 1500) as i64).unwrap(),
        )
    };
    let ids: Vec<Uuid> = (0..n).map(|_| Uuid::new_v4()).collect();
    for chunk in (0..n).collect::<Vec<_>>().chunks(500) {
        let ds = chunk
            .iter()
            .map(|&k| NewDelivery {
                id: ids[k],
                outbox_id: Uuid::now_v7(),
                incident_id: incident(k).then_some(the_incident),
                call_id: None,
                jurisdiction_path: path(if in_a(k) { a } else { b }),
                person_id: None,
                channel: "webhook".into(),
                address: "http://127.0.0.1:9/x".into(),
                subject: format!("通知{k}"),
                body: "正文".into(),
                ack_url: None,
                drill: false,
                state: if sent(k) { "sent" } else { "pending" }.into(),
                next_at_ms: 0,
                sent_at: None,
                last_error: None,
                created_at: at(k),
            })
            .collect();
        s.record_expansion(ds, vec![], &at(0)).await.unwrap();
    }
    let all = |keep: &dyn Fn(usize) -> bool| -> Vec<Uuid> {
        let mut v: Vec<usize> = (0..n).filter(|k| keep(*k)).collect();
        v.sort_by(|x, y| (at(*y), ids[*y]).cmp(&(at(*x), ids[*x])));
        v.into_iter().map(|k| ids[k]).collect()
    };
    let walk = |scope: String, state: Option<&'static str>, inc: Option<Uuid>| async move {
        let mut out: Vec<Uuid> = Vec::new();
        loop {
            let before = match out.last() {
                None => None,
                Some(id) => Some((s.delivery_created_at(*id).await.unwrap().unwrap(), *id)),
            };
            let page: Vec<Uuid> = s
                .list_deliveries(&DeliveryFilter {
                    scope_path: scope.clone(),
                    state: state.map(str::to_string),
                    incident_id: inc,
                    channel: None,
                    before,
                    limit: 700,
                })
                .await
                .unwrap()
                .into_iter()
                .map(|d| d.id)
                .collect();
            let done = page.len() < 700;
            out.extend(page);
            if done {
                return out;
            }
        }
    };
    let province = format!("/{}/", root.simple());
    assert_eq!(walk(province.clone(), None, None).await, all(&|_| true));
    assert_eq!(walk(path(a), None, None).await, all(&in_a));
    assert_eq!(
        walk(path(b), Some("sent"), None).await,
        all(&|k| !in_a(k) && sent(k))
    );
    assert_eq!(
        walk(province.clone(), Some("pending"), None).await,
        all(&|k| !sent(k))
    );
    assert_eq!(
        walk(province, None, Some(the_incident)).await,
        all(&incident)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delivery_list_sqlite() {
    delivery_list_contract(sqlite().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delivery_list_postgres() {
    if let Some(db) = postgres().await {
        delivery_list_contract(db).await;
    }
}

/// The dispute list, newest first, page after page after the `before` cursor: the same
/// disputes whichever way a page is read, with and without a state.
async fn dispute_list_contract(db: Db) {
    let s = &db.store;
    let (root, a, b) = two_counties(s).await;
    let path = |j: Uuid| format!("/{}/{}/", root.simple(), j.simple());
    let in_a = |k: usize| k.is_multiple_of(10);
    let open = |k: usize| k.is_multiple_of(4);
    let n = 4500usize;
    let now = fmt_ts(jiff::Timestamp::now());
    let ids: Vec<Uuid> = (0..n).map(|_| Uuid::now_v7()).collect();
    for chunk in (0..n).collect::<Vec<_>>().chunks(500) {
        let mut ws = WriteSet::default();
        for &k in chunk {
            let j = if in_a(k) { a } else { b };
            ws.rows
                .push(Row::Screening(yingji_store::ScreeningWrite::Dispute {
                    id: ids[k],
                    jurisdiction_id: j,
                    jurisdiction_path: path(j),
                    round_id: None,
                    status: if open(k) { "registered" } else { "resolved" }.into(),
                    risk: "low".into(),
                    nature: "邻里".into(),
                    title: format!("纠纷{k}"),
                    reported_upward: false,
                    registered_at: now.clone(),
                    updated_at: now.clone(),
                    body: format!("{{\"k\":{k}}}"),
                }));
        }
        s.commit(ws).await.unwrap();
    }
    let all = |keep: &dyn Fn(usize) -> bool| -> Vec<usize> {
        (0..n).rev().filter(|k| keep(*k)).collect()
    };
    let ids = &ids;
    let walk = |scope: String, status: Option<&'static str>| async move {
        let mut out: Vec<usize> = Vec::new();
        loop {
            let before = out.last().map(|k| ids[*k]);
            let page: Vec<usize> = s
                .list_disputes(&scope, status, None, before, 600)
                .await
                .unwrap()
                .iter()
                .map(|b| {
                    serde_json::from_str::<serde_json::Value>(b).unwrap()["k"]
                        .as_u64()
                        .unwrap() as usize
                })
                .collect();
            let done = page.len() < 600;
            out.extend(page);
            if done {
                return out;
            }
        }
    };
    let province = format!("/{}/", root.simple());
    assert_eq!(walk(province.clone(), None).await, all(&|_| true));
    assert_eq!(walk(path(a), None).await, all(&in_a));
    assert_eq!(
        walk(path(b), Some("registered")).await,
        all(&|k| !in_a(k) && open(k))
    );
    assert_eq!(walk(province, Some("resolved")).await, all(&|k| !open(k)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dispute_list_sqlite() {
    dispute_list_contract(sqlite().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dispute_list_postgres() {
    if let Some(db) = postgres().await {
        dispute_list_contract(db).await;
    }
}
