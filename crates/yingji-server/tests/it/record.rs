//! A record that cannot be rewritten unnoticed (issue 18 item 5): each way of rewriting the
//! record from inside the database — the newest events cut off and an older signed head put
//! back, a whole stream deleted, a chain edited and its hashes recomputed, a projection row
//! edited, a checkpoint row removed — is reported by `audit verify` (the auditor's API and the
//! operator's check), and a projection row edited in the database does not steer the next
//! decision.

use axum::http::StatusCode;
use serde_json::{Value, json};
use yingji_domain::audit::EventEnvelope;
use yingji_store::Backend;

use crate::harness::{TestApp, report_body};
use crate::on_both;
use crate::trust::active_incident;

/// An incident reported and verified, not yet assessed.
async fn verified_incident(app: &TestApp) -> String {
    let (s, inc) = app
        .post(
            "/api/v1/incidents",
            "demo-duty-officer",
            report_body(app, 120).await,
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{inc}");
    let id = inc["id"].as_str().unwrap().to_string();
    let (s, v) = app
        .post(
            &format!("/api/v1/incidents/{id}/verify"),
            "demo-duty-officer",
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    id
}

/// Runs SQL as someone with the database in hand (with the append-only triggers
/// switched off first, as the owner of the database could).
async fn tamper(app: &TestApp, sql: &str, args: &[&str]) -> u64 {
    let pool = app.state.store.pool();
    let off: Vec<String> = match app.state.store.backend() {
        Backend::Postgres => ["events", "audit_checkpoints", "audit_checkpoint_heads"]
            .iter()
            .map(|t| format!("ALTER TABLE {t} DISABLE TRIGGER USER"))
            .collect(),
        Backend::Sqlite => [
            "events_no_update",
            "events_no_delete",
            "audit_checkpoints_no_change",
            "audit_checkpoints_no_delete",
            "audit_checkpoint_heads_no_change",
            "audit_checkpoint_heads_no_delete",
        ]
        .iter()
        .map(|t| format!("DROP TRIGGER IF EXISTS {t}"))
        .collect(),
    };
    for sql in off {
        sqlx::query(&sql).execute(pool).await.unwrap();
    }
    let mut q = sqlx::query(sql);
    for a in args {
        q = q.bind(*a);
    }
    q.execute(pool).await.unwrap().rows_affected()
}

/// The stream row's (version, head hash, head signature).
async fn head(app: &TestApp, id: &str) -> (i64, String, String) {
    sqlx::query_as("SELECT version, head_hash, head_sig FROM streams WHERE CAST(id AS TEXT) = $1")
        .bind(id)
        .fetch_one(app.state.store.pool())
        .await
        .unwrap()
}

async fn checkpoint(app: &TestApp) -> i64 {
    yingji_app::ticker::checkpoint(&app.state)
        .await
        .unwrap()
        .expect("a checkpoint of the heads that moved")
        .id
}

/// The operator's check of the whole database.
async fn verify(app: &TestApp, projections: bool) -> yingji_app::trust::AuditReport {
    yingji_app::trust::verify_audit(&app.state, &yingji_app::Actor::system(), projections)
        .await
        .unwrap()
}

fn problem_of(report: &yingji_app::trust::AuditReport, id: &str) -> String {
    report
        .broken
        .iter()
        .find(|b| b.stream_id.to_string() == id)
        .map(|b| b.problem.clone())
        .unwrap_or_else(|| panic!("stream {id} is not reported: {:?}", report.broken))
}

/// Rewrites event #`seq` of a stream with `payload` and recomputes every later hash and the
/// stored head, as someone who knows the (public) hash function could.
async fn recompute_chain(app: &TestApp, id: &str, seq: i64, payload: &str) {
    let events = app
        .state
        .store
        .stream_events(id.parse().unwrap())
        .await
        .unwrap();
    let mut prev = events[(seq - 2) as usize].hash.clone();
    for e in events.iter().skip((seq - 1) as usize) {
        let mut env: EventEnvelope = e.envelope.clone();
        if env.stream_seq == seq {
            env.payload = payload.to_string();
        }
        env.prev_hash = prev.clone();
        let hash = env.hash();
        let n = tamper(
            app,
            "UPDATE events SET payload = $1, prev_hash = $2, hash = $3 WHERE CAST(id AS TEXT) = $4",
            &[&env.payload, &env.prev_hash, &hash, &env.id.to_string()],
        )
        .await;
        assert_eq!(n, 1);
        prev = hash;
    }
    tamper(
        app,
        "UPDATE streams SET head_hash = $1 WHERE CAST(id AS TEXT) = $2",
        &[&prev, id],
    )
    .await;
}

on_both! {
    every_rewrite_of_the_record_is_reported => |app: TestApp| async move {
        let a = active_incident(&app, 120).await;
        let b = active_incident(&app, 120).await;
        let c = active_incident(&app, 120).await;
        let d = active_incident(&app, 120).await;
        let first = checkpoint(&app).await;
        // The demo's own record and these incidents check out, projections too.
        let clean = verify(&app, true).await;
        assert!(clean.intact, "{:?} {:?} {:?}", clean.broken, clean.checkpoint_problems, clean.projections);
        assert!(clean.signatures_checked && clean.checkpoints >= 1);
        let p = clean.projections.as_ref().unwrap();
        assert!(p.checked >= 4 && p.differences.is_empty(), "{:?}", p.differences);
        // The auditor of 临溪市 checks the same through the API, limited to their subtree.
        let (s, v) = app.get("/api/v1/audit/verify", "demo-auditor").await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["intact"], true, "{v}");
        assert!(v["scope"].is_string(), "{v}");
        assert!(v["streams"].as_u64().unwrap() < clean.streams as u64, "the auditor's subtree is smaller than the database: {v}");
        assert_eq!(v["last_checkpoint"]["id"], json!(first));

        // 1. The newest events cut off and the older signed head put back.
        let old = head(&app, &a).await;
        let (s, v) = app.post(&format!("/api/v1/incidents/{a}/updates"), "demo-duty-officer", json!({"note": "现场人数稳定"})).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let newer = head(&app, &a).await;
        assert!(newer.0 > old.0);
        // 2.–3. come after a second checkpoint that records A's newer head.
        let (s, v) = app.post(&format!("/api/v1/incidents/{c}/updates"), "demo-duty-officer", json!({"note": "群众情绪平稳"})).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert!(checkpoint(&app).await > first);
        tamper(&app, "DELETE FROM events WHERE CAST(stream_id AS TEXT) = $1 AND stream_seq > CAST($2 AS BIGINT)", &[&a, &old.0.to_string()]).await;
        let left: (i64,) = sqlx::query_as("SELECT COUNT(*) FROM events WHERE CAST(stream_id AS TEXT) = $1")
            .bind(&a).fetch_one(app.state.store.pool()).await.unwrap();
        assert_eq!(left.0, old.0, "the newest events are gone");
        let pool = app.state.store.pool();
        sqlx::query("UPDATE streams SET version = $1, head_hash = $2, head_sig = $3 WHERE CAST(id AS TEXT) = $4")
            .bind(old.0).bind(&old.1).bind(&old.2).bind(&a).execute(pool).await.unwrap();

        // 2. A whole stream deleted.
        tamper(&app, "DELETE FROM events WHERE CAST(stream_id AS TEXT) = $1", &[&b]).await;
        tamper(&app, "DELETE FROM streams WHERE CAST(id AS TEXT) = $1", &[&b]).await;

        // 3. An event edited and the later hashes recomputed: C was checkpointed at its newest
        // event; E is newer than every checkpoint.
        recompute_chain(&app, &c, 2, "{\"type\":\"verified\",\"note\":\"改写\"}").await;
        let e = verified_incident(&app).await;
        recompute_chain(&app, &e, 2, "{\"type\":\"verified\",\"note\":\"改写\"}").await;

        // 4. A projection row edited: D's level in its row.
        let level: Value = serde_json::from_str(&app.state.store.get_incident(d.parse().unwrap()).await.unwrap().unwrap().body).unwrap();
        let real = level["level"]["id"].as_str().unwrap().to_string();
        assert_ne!(real, "IV");
        let edit = match app.state.store.backend() {
            Backend::Sqlite => "UPDATE incidents SET level = 'IV', body = json_set(body, '$.level.id', 'IV') WHERE id = $1",
            Backend::Postgres => "UPDATE incidents SET level = 'IV', body = jsonb_set(body::jsonb, '{level,id}', '\"IV\"')::json WHERE CAST(id AS TEXT) = $1",
        };
        assert_eq!(tamper(&app, edit, &[&d]).await, 1);

        let r = verify(&app, true).await;
        assert!(!r.intact);
        let pa = problem_of(&r, &a);
        assert!(pa.contains("signed checkpoint recorded version"), "{pa}");
        let pb = problem_of(&r, &b);
        assert!(pb.contains("the stream is missing"), "{pb}");
        let pc = problem_of(&r, &c);
        assert!(pc.contains("not the one a signed checkpoint recorded"), "{pc}");
        let pe = problem_of(&r, &e);
        assert!(pe.contains("does not match its signature"), "{pe}");
        let diffs = &r.projections.as_ref().unwrap().differences;
        let dd: Vec<_> = diffs.iter().filter(|x| x.id.to_string() == d).collect();
        assert!(dd.iter().any(|x| x.field == "/level/id" && x.stored.as_deref() == Some("\"IV\"") && x.rebuilt.as_deref() == Some(&format!("\"{real}\"") as &str)), "{diffs:?}");
        assert!(dd.iter().any(|x| x.field == "level"), "the list column too: {diffs:?}");
        // Nothing else is reported: the chains of the other streams are intact.
        assert_eq!(r.broken.len(), 4, "{:?}", r.broken);
        assert!(r.checkpoint_problems.is_empty(), "{:?}", r.checkpoint_problems);

        // The next decision on D is taken on its events, not on the edited row: the crowd grows
        // and the re-grade proposed is from the level D really has.
        let (s, v) = app.post(&format!("/api/v1/incidents/{d}/updates"), "demo-duty-officer", json!({"headcount": 520})).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["regrade"]["from"], json!(real), "{v}");
        assert_eq!(v["level"]["id"], json!(real), "the answer is rebuilt from the events: {v}");
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM events WHERE CAST(stream_id AS TEXT) = $1 AND payload LIKE '%\"from\":\"IV\"%'")
            .bind(&d).fetch_one(app.state.store.pool()).await.unwrap();
        assert_eq!(n, 0, "the edited level never reaches an event");

        // 5. A row of a checkpoint removed.
        assert_eq!(tamper(&app, "DELETE FROM audit_checkpoint_heads WHERE CAST(stream_id AS TEXT) = $1 AND checkpoint_id = 1", &[&d]).await, 1);
        let r = verify(&app, false).await;
        assert!(r.checkpoint_problems.iter().any(|p| p.contains("checkpoint #1")), "{:?}", r.checkpoint_problems);

        // The operator's command says the same and exits non-zero (tests/cli.rs runs it on a
        // file); the auditor's API does too.
        let (s, v) = app.get("/api/v1/audit/verify?projections=true", "demo-auditor").await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["intact"], false, "{v}");
        assert!(v["broken"].as_array().unwrap().iter().any(|b| b["code"] == "deleted"), "{v}");
        // The auditor's console page says the same in words from the catalogue.
        let auditor = crate::console::sign_in(&app, "demo-auditor").await;
        let page = crate::console::req(&app, "GET", "/audit?verify=1", &auditor, None).await;
        assert!(page.body.contains("data-intact=\"false\""), "{}", page.body);
        assert!(page.body.contains("记录流缺失：签名检查点曾记录过它") && page.body.contains("签名检查点有问题："), "{}", page.body);
        let (s, v) = app.get("/api/v1/audit/verify?projections=maybe", "demo-auditor").await;
        assert_eq!((s, v["error"]["code"].clone()), (StatusCode::BAD_REQUEST, json!("invalid_query")), "{v}");
    };
}
