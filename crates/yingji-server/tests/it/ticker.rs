//! The ticker cannot be stopped by one record (issue 20): a due incident that cannot be
//! processed (here a projection row whose stream is gone: "incident not found", as seen in the
//! field) is logged and put off with a growing backoff, and every other due record is still
//! processed in the same tick.

use axum::http::StatusCode;
use uuid::Uuid;

use crate::harness::TestApp;
use crate::on_both;
use crate::trust::active_incident;

/// Whether every task of the incident is marked overdue.
async fn tasks_overdue(app: &TestApp, id: &str) -> bool {
    let (s, inc) = app
        .get(&format!("/api/v1/incidents/{id}"), "demo-commander")
        .await;
    assert_eq!(s, StatusCode::OK, "{inc}");
    let tasks = inc["tasks"].as_array().unwrap();
    assert!(!tasks.is_empty());
    tasks.iter().all(|t| t["overdue"] == true)
}

fn now_ms(app: &TestApp) -> i64 {
    use yingji_domain::clock::Clock;
    app.clock.now().as_millisecond()
}

on_both! {
    a_record_that_cannot_be_ticked_does_not_stop_the_others => |app: TestApp| async move {
        let a = active_incident(&app, 120).await;
        let b = active_incident(&app, 130).await;
        let pool = app.state.store.pool();
        // A due row whose incident has no stream, due before both.
        let ghost = Uuid::now_v7().to_string();
        sqlx::query(&format!(
            "INSERT INTO incidents (id, jurisdiction_id, jurisdiction_path, plan_id, plan_version, kind, status, level, drill, headcount, title, reported_at, updated_at, next_due_ms, body) \
             SELECT '{ghost}', jurisdiction_id, jurisdiction_path, plan_id, plan_version, kind, status, level, drill, headcount, title, reported_at, updated_at, 1, body FROM incidents WHERE id = '{a}'"
        ))
        .execute(pool)
        .await
        .unwrap();
        app.advance_mins(24 * 60);
        let changed = yingji_server::tick(&app.state).await.expect("the tick goes on past the broken record");
        assert!(changed >= 2, "{changed}");
        assert!(tasks_overdue(&app, &a).await, "the other records were processed");
        assert!(tasks_overdue(&app, &b).await);
        // The ghost is put off 30 s: the next ticks do not pick it up before then.
        let due = |at: i64| {
            let app = &app;
            async move { app.state.store.due_incidents(at, 1000).await.unwrap().iter().map(Uuid::to_string).collect::<Vec<_>>() }
        };
        let t0 = now_ms(&app);
        assert!(!due(t0 + 29_000).await.contains(&ghost), "put off");
        assert!(due(t0 + 30_000).await.contains(&ghost), "for 30 s");
        // Failing again, it waits twice as long.
        app.advance_mins(1);
        yingji_server::tick(&app.state).await.unwrap();
        let t1 = now_ms(&app);
        assert!(!due(t1 + 59_000).await.contains(&ghost), "put off longer");
        assert!(due(t1 + 60_000).await.contains(&ghost), "for 60 s");
    };
}
