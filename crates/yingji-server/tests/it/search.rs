//! The search box (issue 19): incidents, cases and disputes found by a case number, a name, a
//! two-character word of a grievance or a place, only in the searcher's area and only the kinds
//! they may view; Chinese matched by neighbouring pairs, every word required.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::console::{req, sign_in};
use crate::harness::{TestApp, report_body};
use crate::on_both;

async fn found(app: &TestApp, token: &str, q: &str) -> Vec<Value> {
    let enc: String = form_urlencoded::byte_serialize(q.as_bytes()).collect();
    let (s, v) = app.get(&format!("/api/v1/search?q={enc}"), token).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v["items"].as_array().unwrap().clone()
}

fn ids(hits: &[Value]) -> Vec<String> {
    hits.iter()
        .map(|h| h["id"].as_str().unwrap().to_string())
        .collect()
}

on_both! {
    cases_incidents_and_disputes_are_found_in_scope => |app: TestApp| async move {
        let county = app.jurisdiction("临溪市").await;
        let (s, c) = app.post("/api/v1/cases", "demo-petition-clerk", json!({
            "jurisdiction_id": county, "channel": "letter",
            "petitioners": [{"name": "测试人欧阳青"}],
            "title": "测试：反映桂花巷排水不畅", "grievance": "要求疏通桂花巷雨水管道"})).await;
        assert_eq!(s, StatusCode::CREATED, "{c}");
        let cid = c["id"].as_str().unwrap().to_string();
        let number = c["case_number"].as_str().unwrap().to_string();
        let mut body = report_body(&app, 40).await;
        body["title"] = json!("测试：桂花巷居民聚集反映排水问题");
        let (s, inc) = app.post("/api/v1/incidents", "demo-duty-officer", body).await;
        assert_eq!(s, StatusCode::CREATED, "{inc}");
        let iid = inc["id"].as_str().unwrap().to_string();

        // A two-character word: both the case and the incident, newest first.
        let hits = found(&app, "demo-duty-officer", "桂花").await;
        assert_eq!(ids(&hits), vec![iid.clone(), cid.clone()], "{hits:?}");
        assert_eq!(hits[1]["kind"], "case");
        // A name, a case number, words together (every word must appear).
        assert_eq!(ids(&found(&app, "demo-petition-clerk", "欧阳青").await), vec![cid.clone()]);
        assert_eq!(ids(&found(&app, "demo-petition-clerk", &number).await), vec![cid.clone()]);
        assert_eq!(ids(&found(&app, "demo-petition-clerk", "桂花巷 雨水").await), vec![cid.clone()]);
        assert!(found(&app, "demo-petition-clerk", "桂花巷 拆迁").await.is_empty());
        assert!(found(&app, "demo-petition-clerk", "   ").await.is_empty(), "no terms, nothing");

        // Out of scope: a sibling street's duty officer finds nothing of the county's.
        assert!(found(&app, "demo-street-duty", "桂花").await.is_empty());
        // The city above finds both.
        assert_eq!(found(&app, "demo-city-duty", "桂花").await.len(), 2);

        // A dispute registered in the township, by its place.
        let town = app.jurisdiction("青石镇").await;
        let (s, d) = app.post("/api/v1/disputes", "demo-town-duty", json!({
            "jurisdiction_id": town, "title": "测试：桂花巷邻里排水纠纷",
            "parties": [{"name": "甲户", "role": "申请方"}], "nature": "相邻关系", "area": "青石镇桂花巷", "risk": "low"})).await;
        assert_eq!(s, StatusCode::CREATED, "{d}");
        let hits = found(&app, "demo-town-duty", "桂花巷").await;
        assert_eq!(ids(&hits), vec![d["id"].as_str().unwrap().to_string()], "the township sees its own only: {hits:?}");

        // The console: the box in the header, the results as links.
        let cookie = sign_in(&app, "demo-petition-clerk").await;
        let desk = req(&app, "GET", "/", &cookie, None).await;
        assert!(desk.body.contains("role=\"search\"") && desk.body.contains("id=\"top-search\""));
        let enc: String = form_urlencoded::byte_serialize("桂花巷".as_bytes()).collect();
        let page = req(&app, "GET", &format!("/search?q={enc}"), &cookie, None).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        assert!(page.body.contains(&format!("href=\"/cases/{cid}\"")), "{}", page.body);
        assert!(page.body.contains("信访事项") && page.body.contains(&number));
        let none = req(&app, "GET", "/search?q=%E6%B2%A1%E6%9C%89%E8%BF%99%E4%B8%AA", &cookie, None).await;
        assert!(none.body.contains("没有找到"));
    };
}

on_both! {
    records_from_before_the_index_are_indexed_again => |app: TestApp| async move {
        // The demo's records were indexed as they were written; a database from before
        // migration 0015 has none of their terms.
        let before = found(&app, "demo-duty-officer", "补偿").await;
        assert!(!before.is_empty(), "the demo's report about compensation is found");
        sqlx::query("DELETE FROM search_terms").execute(app.state.store.pool()).await.unwrap();
        sqlx::query("DELETE FROM search_pending").execute(app.state.store.pool()).await.unwrap();
        assert!(found(&app, "demo-duty-officer", "补偿").await.is_empty());
        assert!(yingji_app::search::index_is_empty(&app.state).await.unwrap());
        let n = yingji_app::search::reindex(&app.state).await.unwrap();
        assert!(n > 0);
        assert_eq!(ids(&found(&app, "demo-duty-officer", "补偿").await), ids(&before));
        // Again: nothing changes.
        yingji_app::search::reindex(&app.state).await.unwrap();
        assert_eq!(ids(&found(&app, "demo-duty-officer", "补偿").await), ids(&before));
    };
}

on_both! {
    records_are_found_while_they_wait_for_the_index_and_after => |app: TestApp| async move {
        // Written records wait in search_pending until the indexer moves them, many at a time;
        // a search finds them either way, with the same answer.
        let mut made = Vec::new();
        for k in 0..3 {
            let mut body = report_body(&app, 30 + k).await;
            body["title"] = json!(format!("测试：柳塘巷居民反映噪声扰民第{k}次"));
            let (s, inc) = app.post("/api/v1/incidents", "demo-duty-officer", body).await;
            assert_eq!(s, StatusCode::CREATED, "{inc}");
            made.push(inc["id"].as_str().unwrap().to_string());
        }
        made.reverse();
        let waiting = found(&app, "demo-duty-officer", "柳塘 噪声").await;
        assert_eq!(ids(&waiting), made, "newest first, found while waiting");
        let pending = |app: &TestApp| {
            let pool = app.state.store.pool().clone();
            async move {
                let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM search_pending")
                    .fetch_one(&pool).await.unwrap();
                n
            }
        };
        assert!(pending(&app).await >= 3);
        let moved = yingji_app::search::index_pending(&app.state).await.unwrap();
        assert!(moved >= 3, "{moved}");
        assert_eq!(pending(&app).await, 0, "nothing waits after the indexer ran");
        assert_eq!(ids(&found(&app, "demo-duty-officer", "柳塘 噪声").await), made, "the same from the index");
        // Out of scope, nothing either way.
        assert!(found(&app, "demo-street-duty", "柳塘").await.is_empty());
        // One more written after: found from both places, newest first.
        let mut body = report_body(&app, 33).await;
        body["title"] = json!("测试：柳塘巷噪声问题再次聚集");
        let (s, inc) = app.post("/api/v1/incidents", "demo-duty-officer", body).await;
        assert_eq!(s, StatusCode::CREATED, "{inc}");
        let mut all = vec![inc["id"].as_str().unwrap().to_string()];
        all.extend(made.clone());
        assert_eq!(ids(&found(&app, "demo-duty-officer", "柳塘 噪声").await), all);
    };
}
