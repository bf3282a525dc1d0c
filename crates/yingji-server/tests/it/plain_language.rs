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

on_both! {
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
