//! How long the signed record takes to check at province scale (issue 18 item 5: "200k streams
//! in well under a minute"). Not run by CI.
//!
//! Builds STREAMS streams (default 200,000) of EVENTS events each (default 5) spread over 100
//! counties, with real hashes and signed heads, then measures: the first checkpoint (every head),
//! a checkpoint after 1 % of the streams moved, `verify` of the whole database, and `verify` of
//! one county. SQLite in a temporary directory; PostgreSQL too when YINGJI_TEST_POSTGRES_URL is
//! set (a scratch database is created and dropped).
//!
//! Usage: cargo bench -p yingji-store --bench verify [-- STREAMS EVENTS]

mod common;

use std::time::Instant;

use uuid::Uuid;
use yingji_domain::audit::{EventEnvelope, GENESIS, StoredEvent};
use yingji_store::{AuditKeys, JurisdictionRow, Row, Store, StreamHead, WriteSet};

fn envelope(stream: Uuid, j: Uuid, seq: i64, prev: &str) -> EventEnvelope {
    EventEnvelope {
        id: Uuid::now_v7(),
        stream_id: stream,
        stream_seq: seq,
        stream_kind: "incident".into(),
        jurisdiction_id: j,
        at: "2026-03-02T02:00:00.000000Z".into(),
        actor_id: Uuid::nil(),
        actor_name: "值班员".into(),
        kind: "verified".into(),
        reason: None,
        payload: format!("{{\"type\":\"verified\",\"note\":\"第{seq}条\"}}"),
        prev_hash: prev.to_string(),
    }
}

fn append(ws: &mut WriteSet, stream: Uuid, j: Uuid, from: i64, n: i64, head: &str) -> String {
    let mut prev = head.to_string();
    for seq in from + 1..=from + n {
        let env = envelope(stream, j, seq, &prev);
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
        expected_version: from,
        new_version: from + n,
        head_hash: prev.clone(),
        jurisdiction_id: Some(j),
    });
    prev
}

async fn run(label: &str, store: Store, streams: usize, events: i64) {
    store.set_audit_keys(AuditKeys::new(vec![("bench".into(), [7; 32])]));
    // 1 province › 100 counties.
    let root = Uuid::now_v7();
    let root_path = format!("/{}/", root.simple());
    let mut ws = WriteSet::default();
    ws.rows.push(Row::Jurisdiction(JurisdictionRow {
        id: root,
        parent_id: None,
        name: "测试省".into(),
        kind: "province".into(),
        code: None,
        path: root_path.clone(),
        created_at: "2026-03-02T02:00:00.000000Z".into(),
    }));
    let mut counties = Vec::new();
    for k in 0..100 {
        let id = Uuid::now_v7();
        let path = format!("{root_path}{}/", id.simple());
        ws.rows.push(Row::Jurisdiction(JurisdictionRow {
            id,
            parent_id: Some(root),
            name: format!("测试县{k}"),
            kind: "county".into(),
            code: None,
            path: path.clone(),
            created_at: "2026-03-02T02:00:00.000000Z".into(),
        }));
        counties.push((id, path));
    }
    store.commit(ws).await.unwrap();

    let t = Instant::now();
    let mut heads = Vec::with_capacity(streams);
    let batch = 500;
    let mut i = 0;
    while i < streams {
        let mut ws = WriteSet::default();
        for _ in 0..batch.min(streams - i) {
            let s = Uuid::now_v7();
            let j = counties[i % counties.len()].0;
            let h = append(&mut ws, s, j, 0, events, GENESIS);
            heads.push((s, j, h));
            i += 1;
        }
        store.commit(ws).await.unwrap();
    }
    println!(
        "[{label}] wrote {streams} streams × {events} events in {:.1} s",
        t.elapsed().as_secs_f64()
    );

    let t = Instant::now();
    let c = store
        .checkpoint("2026-03-02T02:01:00.000000Z")
        .await
        .unwrap()
        .unwrap();
    println!(
        "[{label}] first checkpoint ({} heads): {:.2} s",
        c.heads,
        t.elapsed().as_secs_f64()
    );
    // 1 % of the streams move.
    let mut ws = WriteSet::default();
    for (s, j, h) in heads.iter().step_by(100) {
        append(&mut ws, *s, *j, events, 1, h);
    }
    store.commit(ws).await.unwrap();
    let t = Instant::now();
    let c = store
        .checkpoint("2026-03-02T02:02:00.000000Z")
        .await
        .unwrap()
        .unwrap();
    println!(
        "[{label}] next checkpoint ({} heads moved): {:.3} s",
        c.heads,
        t.elapsed().as_secs_f64()
    );

    let t = Instant::now();
    let r = store.verify(None).await.unwrap();
    assert!(r.broken.is_empty() && r.checkpoint_problems.is_empty());
    println!(
        "[{label}] verify, whole database: {} streams, {} events, {} checkpoints in {:.2} s",
        r.streams,
        r.events,
        r.checkpoints,
        t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    let r = store.verify(Some(&counties[0].1)).await.unwrap();
    assert!(r.broken.is_empty());
    println!(
        "[{label}] verify, one county of 100: {} streams, {} events in {:.2} s",
        r.streams,
        r.events,
        t.elapsed().as_secs_f64()
    );
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let streams: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(200_000);
    let events: i64 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(5);
    common::on_each_backend("verify", |label, store| run(label, store, streams, events));
}
