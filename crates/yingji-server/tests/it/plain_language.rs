//! Plain language (issue 19): a zh-CN page says everything in Chinese — no Latin word outside
//! an allow-list (proper names, units, the product's name) in what a reader sees — and an
//! English page carries no Chinese outside the data itself. Codes a reader may need to quote
//! (`<code>`), form values and the data people typed are not prose and are left out.

use axum::http::StatusCode;

use crate::console::{req, sign_in};
use crate::harness::TestApp;
use crate::on_both;

/// Removes every `<tag …>…</tag>` element.
fn drop_elements(html: &str, tag: &str) -> String {
    let (open, close) = (format!("<{tag}"), format!("</{tag}>"));
    let mut out = String::new();
    let mut r = html;
    while let Some(a) = r.find(&open) {
        // `<head` is not `<header`.
        let next = r[a + open.len()..].chars().next();
        if !matches!(next, Some('>' | ' ' | '\n')) {
            out.push_str(&r[..a + open.len()]);
            r = &r[a + open.len()..];
            continue;
        }
        out.push_str(&r[..a]);
        r = match r[a..].find(&close) {
            Some(b) => &r[a + b + close.len()..],
            None => "",
        };
    }
    out.push_str(r);
    out
}

/// The text a reader sees (tags and their attributes removed; code, scripts, styles, form
/// values and the elements marked as data left out).
fn visible(html: &str) -> String {
    let mut h = html.to_string();
    for tag in [
        "script", "style", "code", "textarea", "option", "title", "head",
    ] {
        h = drop_elements(&h, tag);
    }
    let mut text = String::new();
    let mut in_tag = false;
    for ch in h.chars() {
        match ch {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                text.push(' ');
            }
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    text.replace("&amp;", "&")
}

/// Latin words a Chinese page may show: the language switch, units and names written so, and
/// the example plans' own placeholder for a place (XX镇, as the seed documents write it).
const ALLOWED: &[&str] = &["English", "SMS", "ID", "XX"];

/// A level written with Roman numerals (Ⅱ级 is often typed II).
fn roman(w: &str) -> bool {
    w.chars().all(|c| matches!(c, 'I' | 'V' | 'X'))
}

fn latin_words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_ascii_alphabetic())
        .filter(|w| w.len() >= 2 && !ALLOWED.contains(w) && !roman(w))
        .map(str::to_string)
        .collect()
}

/// Chinese an English page may show: the switch back to Chinese, named in its own language.
const ALLOWED_CJK: &[&str] = &["中文"];

fn is_cjk(c: char) -> bool {
    matches!(c, '\u{3000}'..='\u{303F}' | '\u{3400}'..='\u{9FFF}' | '\u{F900}'..='\u{FAFF}' | '\u{FF00}'..='\u{FFEF}')
}

/// The runs of Chinese characters and full-width punctuation in `text`.
fn cjk_runs(text: &str) -> Vec<String> {
    let mut runs = Vec::new();
    let mut cur = String::new();
    for c in text.chars() {
        if is_cjk(c) {
            cur.push(c);
        } else if !cur.is_empty() {
            runs.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        runs.push(cur);
    }
    runs
}

/// Every text the database holds (each text column of each table): the data people and plans
/// wrote, which an English page shows as it was written.
async fn stored_text(app: &TestApp) -> String {
    use sqlx::Row as _;
    let pool = app.state.store.pool();
    let sqlite = app.state.store.backend() == yingji_store::Backend::Sqlite;
    let tables: Vec<String> = sqlx::query_scalar(if sqlite {
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_sqlx%'"
    } else {
        "SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema() AND table_name NOT LIKE '_sqlx%'"
    })
    .fetch_all(pool)
    .await
    .unwrap();
    let mut all = String::new();
    for t in tables {
        // PostgreSQL's typed columns (uuid, timestamptz) are read as the row's JSON.
        let sql = if sqlite {
            format!("SELECT * FROM {t}")
        } else {
            format!("SELECT row_to_json(x)::text FROM {t} x")
        };
        for r in sqlx::query(&sql).fetch_all(pool).await.unwrap() {
            for i in 0..r.len() {
                if let Ok(Some(v)) = r.try_get::<Option<String>, _>(i) {
                    all.push_str(&v);
                    all.push('\n');
                }
            }
        }
    }
    all
}

on_both! {
    english_pages_show_no_chinese_outside_the_data => |app: TestApp| async move {
        let (_, inc) = app.post("/api/v1/incidents", "demo-duty-officer", crate::harness::report_body(&app, 120).await).await;
        let iid = inc["id"].as_str().unwrap().to_string();
        let (_, cases) = app.get("/api/v1/cases", "demo-petition-clerk").await;
        let cid = cases["items"][0]["id"].as_str().map(str::to_string);
        let (_, disputes) = app.get("/api/v1/disputes", "demo-town-duty").await;
        let did = disputes["items"][0]["id"].as_str().map(str::to_string);
        let mut pages = vec![
            ("demo-duty-officer", "/".to_string()),
            ("demo-duty-officer", "/incidents".to_string()),
            ("demo-duty-officer", format!("/incidents/{iid}")),
            ("demo-duty-officer", "/report".to_string()),
            ("demo-duty-officer", "/roster".to_string()),
            ("demo-duty-officer", "/plans".to_string()),
            ("demo-duty-officer", "/plans/linxiang-city-mass-petition".to_string()),
            ("demo-duty-officer", "/search?q=%E4%B8%B4%E6%BA%AA".to_string()),
            ("demo-petition-clerk", "/".to_string()),
            ("demo-petition-clerk", "/cases".to_string()),
            ("demo-petition-clerk", "/cases?show=all".to_string()),
            ("demo-petition-clerk", "/cases/new".to_string()),
            ("demo-town-duty", "/".to_string()),
            ("demo-town-duty", "/disputes".to_string()),
            ("demo-grid-worker", "/".to_string()),
            ("demo-grid-worker", "/reports".to_string()),
            ("demo-auditor", "/audit".to_string()),
            ("demo-province-admin", "/admin".to_string()),
        ];
        if let Some(c) = cid {
            pages.push(("demo-petition-clerk", format!("/cases/{c}")));
        }
        if let Some(d) = did {
            pages.push(("demo-town-duty", format!("/disputes/{d}")));
        }
        let data = stored_text(&app).await;
        let mut found = Vec::new();
        for (who, path) in &pages {
            let cookie = sign_in(&app, who).await;
            let sep = if path.contains('?') { '&' } else { '?' };
            let page = req(&app, "GET", &format!("{path}{sep}lang=en"), &cookie, None).await;
            assert_eq!(page.status, StatusCode::OK, "{path}: {}", page.body);
            assert!(page.body.contains("<html lang=\"en\">"), "{path} is not in English");
            let stray: Vec<String> = cjk_runs(&visible(&page.body))
                .into_iter()
                .filter(|r| !data.contains(r.as_str()) && !ALLOWED_CJK.contains(&r.as_str()))
                .collect();
            if !stray.is_empty() {
                found.push(format!("{path}: {stray:?}"));
            }
        }
        assert!(found.is_empty(), "Chinese that is not data on English pages:\n{}", found.join("\n"));
    };

    zh_pages_show_no_stray_latin_words => |app: TestApp| async move {
        let (_, inc) = app.post("/api/v1/incidents", "demo-duty-officer", crate::harness::report_body(&app, 120).await).await;
        let iid = inc["id"].as_str().unwrap().to_string();
        let (_, cases) = app.get("/api/v1/cases", "demo-petition-clerk").await;
        let cid = cases["items"][0]["id"].as_str().map(str::to_string);
        let mut pages = vec![
            ("demo-duty-officer", "/".to_string()),
            ("demo-duty-officer", "/incidents".to_string()),
            ("demo-duty-officer", format!("/incidents/{iid}")),
            ("demo-duty-officer", "/report".to_string()),
            ("demo-duty-officer", "/roster".to_string()),
            ("demo-duty-officer", "/plans".to_string()),
            ("demo-duty-officer", "/plans/linxiang-city-mass-petition".to_string()),
            ("demo-petition-clerk", "/cases".to_string()),
            ("demo-petition-clerk", "/cases/new".to_string()),
            ("demo-town-duty", "/disputes".to_string()),
            ("demo-grid-worker", "/reports".to_string()),
            ("demo-auditor", "/audit".to_string()),
            ("demo-province-admin", "/admin".to_string()),
        ];
        if let Some(c) = cid {
            pages.push(("demo-petition-clerk", format!("/cases/{c}")));
        }
        let mut found = Vec::new();
        for (who, path) in &pages {
            let cookie = sign_in(&app, who).await;
            let page = req(&app, "GET", path, &cookie, None).await;
            assert_eq!(page.status, StatusCode::OK, "{path}: {}", page.body);
            let words = latin_words(&visible(&page.body));
            if !words.is_empty() {
                found.push(format!("{path}: {words:?}"));
            }
        }
        assert!(found.is_empty(), "Latin words on zh-CN pages:\n{}", found.join("\n"));
    };
}
