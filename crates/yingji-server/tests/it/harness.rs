//! A test application: a fresh database with the demo loaded, the router, and a manual clock.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::BodyExt;
use jiff::{SignedDuration, Timestamp};
use serde_json::Value;
use tower::ServiceExt;
use yingji_domain::clock::ManualClock;
use yingji_server::{AppState, app};
use yingji_store::Store;

pub struct TestApp {
    pub router: Router,
    pub state: AppState,
    pub clock: Arc<ManualClock>,
    cleanup: Cleanup,
}

enum Cleanup {
    Dir(std::path::PathBuf),
    Database { admin_url: String, name: String },
}

impl Drop for TestApp {
    fn drop(&mut self) {
        drop_cleanup(&self.cleanup);
    }
}

fn drop_cleanup(c: &Cleanup) {
    {
        match c {
            Cleanup::Dir(d) => {
                let _ = std::fs::remove_dir_all(d);
            }
            Cleanup::Database { admin_url, name } => {
                let (url, name) = (admin_url.clone(), name.clone());
                // A thread of its own: Drop cannot await on the test's runtime.
                let _ = std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .unwrap();
                    rt.block_on(async {
                        sqlx::any::install_default_drivers();
                        if let Ok(pool) = sqlx::AnyPool::connect(&url).await {
                            let _ = sqlx::query(&format!(
                                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                            ))
                            .execute(&pool)
                            .await;
                        }
                    });
                })
                .join();
            }
        }
    }
}

/// 2026-03-02 10:00 in Shanghai: a Monday morning.
pub fn start() -> Timestamp {
    "2026-03-02T02:00:00Z".parse().unwrap()
}

/// The tests' receivers listen on loopback, which people's own destinations may not reach by
/// default: the notification configuration of every test application allows it, except where a
/// test gives its own ([`TestApp::sqlite_with_notify`]).
pub fn loopback_allowed() -> yingji_notify::outbound::AllowList {
    yingji_notify::outbound::AllowList::try_from(vec![
        "127.0.0.0/8".to_string(),
        "::1/128".to_string(),
    ])
    .expect("an allow-list")
}

/// The zero configuration with loopback allowed and a random secret.
pub fn test_notify_config() -> yingji_notify::NotifyConfig {
    yingji_notify::NotifyConfig {
        secret: format!(
            "{}{}",
            uuid::Uuid::now_v7().simple(),
            uuid::Uuid::now_v7().simple()
        ),
        allow_destinations: loopback_allowed(),
        ..Default::default()
    }
}

impl TestApp {
    async fn with(store: Store, cleanup: Cleanup) -> TestApp {
        Self::with_notify(store, cleanup, test_notify_config()).await
    }

    async fn with_notify(
        store: Store,
        cleanup: Cleanup,
        notify: yingji_notify::NotifyConfig,
    ) -> TestApp {
        let clock = Arc::new(ManualClock::new(start()));
        let state = AppState::with_notify(store, clock.clone(), notify).expect("notifier");
        yingji_server::demo::load_demo(&state)
            .await
            .expect("demo loads");
        TestApp {
            router: app(state.clone()),
            state,
            clock,
            cleanup,
        }
    }

    pub async fn sqlite() -> TestApp {
        let dir =
            std::env::temp_dir().join(format!("yingji-test-{}", uuid::Uuid::now_v7().simple()));
        let store = Store::open_sqlite(&dir).await.expect("sqlite opens");
        Self::with(store, Cleanup::Dir(dir)).await
    }

    /// [`TestApp::sqlite`] whose application has this notification configuration (as given:
    /// loopback is allowed only if it says so).
    pub async fn sqlite_with_notify(cfg: yingji_notify::NotifyConfig) -> TestApp {
        let dir =
            std::env::temp_dir().join(format!("yingji-test-{}", uuid::Uuid::now_v7().simple()));
        let store = Store::open_sqlite(&dir).await.expect("sqlite opens");
        Self::with_notify(store, Cleanup::Dir(dir), cfg).await
    }

    /// A fresh PostgreSQL database, or None (with a note) when no server is configured.
    pub async fn postgres() -> Option<TestApp> {
        let Ok(admin_url) = std::env::var("YINGJI_TEST_POSTGRES_URL") else {
            eprintln!("skipped: set YINGJI_TEST_POSTGRES_URL to run the PostgreSQL variant");
            return None;
        };
        sqlx::any::install_default_drivers();
        let name = format!("yingji_t_{}", uuid::Uuid::now_v7().simple());
        let admin = sqlx::AnyPool::connect(&admin_url)
            .await
            .expect("PostgreSQL reachable");
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&admin)
            .await
            .expect("create database");
        admin.close().await;
        let base = admin_url
            .rsplit_once('/')
            .map(|(b, _)| b)
            .unwrap_or(&admin_url);
        let store = Store::open_url(&format!("{base}/{name}"))
            .await
            .expect("postgres opens");
        Some(Self::with(store, Cleanup::Database { admin_url, name }).await)
    }

    /// The same application with something changed (its settings), the router rebuilt on it.
    pub fn rebuilt(mut self, f: impl FnOnce(AppState) -> AppState) -> TestApp {
        self.state = f(self.state.clone());
        self.router = app(self.state.clone());
        self
    }

    /// The SQLite data directory (None on PostgreSQL).
    pub fn data_dir(&self) -> Option<std::path::PathBuf> {
        match &self.cleanup {
            Cleanup::Dir(d) => Some(d.clone()),
            Cleanup::Database { .. } => None,
        }
    }

    /// Now plus `days`, as an RFC 3339 time.
    pub fn clock_now_plus_days(&self, days: i64) -> String {
        use yingji_domain::clock::Clock;
        self.clock
            .now()
            .checked_add(SignedDuration::from_hours(24 * days))
            .unwrap()
            .to_string()
    }

    pub fn advance_mins(&self, m: i64) {
        self.clock.advance(SignedDuration::from_mins(m));
    }

    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Body>,
        headers: &[(&str, &str)],
    ) -> (StatusCode, Value, HeaderMap) {
        let mut b = Request::builder().method(method).uri(path);
        if let Some(t) = token {
            b = b.header("authorization", format!("Bearer {t}"));
        }
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        let req = b.body(body.unwrap_or_else(Body::empty)).unwrap();
        let resp = self.router.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        let v = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()))
        };
        (status, v, headers)
    }

    pub async fn get(&self, path: &str, token: &str) -> (StatusCode, Value) {
        let (s, v, _) = self.send(Method::GET, path, Some(token), None, &[]).await;
        (s, v)
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
        let (s, v, _) = self
            .send(
                Method::POST,
                path,
                Some(token),
                Some(Body::from(body.to_string())),
                &[("content-type", "application/json")],
            )
            .await;
        (s, v)
    }

    pub async fn post_with_key(
        &self,
        path: &str,
        token: &str,
        body: Value,
        key: &str,
    ) -> (StatusCode, Value, HeaderMap) {
        self.send(
            Method::POST,
            path,
            Some(token),
            Some(Body::from(body.to_string())),
            &[
                ("content-type", "application/json"),
                ("idempotency-key", key),
            ],
        )
        .await
    }

    /// The id of a jurisdiction by name, as the demo created it.
    pub async fn jurisdiction(&self, name: &str) -> String {
        let (_, v) = self
            .get("/api/v1/jurisdictions", "demo-province-admin")
            .await;
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|j| j["name"] == name)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    }

    pub async fn person(&self, name: &str) -> String {
        let (_, v) = self.get("/api/v1/people", "demo-province-admin").await;
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|j| j["name"] == name)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    }

    pub async fn event_count(&self) -> i64 {
        self.state.store.event_count().await.unwrap()
    }
}

/// A report of `headcount` people under the Linxiang example, in 临溪市.
pub async fn report_body(app: &TestApp, headcount: u32) -> Value {
    serde_json::json!({
        "jurisdiction_id": app.jurisdiction("临溪市").await,
        "plan_id": "linxiang-city-mass-petition",
        "kind": "event",
        "title": "测试：群众反映拖欠工程款",
        "headcount": headcount,
        "location": "市政府东门",
        "fields": { "unit": "某建筑公司", "address": "市政府东门", "time": "上午九时", "demands": "要求支付拖欠的工程款" }
    })
}

/// Drops a database created for a test.
pub struct Guard(#[allow(dead_code)] Cleanup);

impl Drop for Guard {
    fn drop(&mut self) {
        drop_cleanup(&self.0);
    }
}

/// A new, empty (migrated) store on the same backend as `app`.
pub async fn empty_store_like(app: &TestApp) -> (Store, Guard) {
    match &app.cleanup {
        Cleanup::Dir(_) => {
            let dir = std::env::temp_dir()
                .join(format!("yingji-restore-{}", uuid::Uuid::now_v7().simple()));
            let store = Store::open_sqlite(&dir).await.expect("sqlite opens");
            (store, Guard(Cleanup::Dir(dir)))
        }
        Cleanup::Database { admin_url, .. } => {
            let name = format!("yingji_r_{}", uuid::Uuid::now_v7().simple());
            let admin = sqlx::AnyPool::connect(admin_url).await.unwrap();
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&admin)
                .await
                .unwrap();
            admin.close().await;
            let base = admin_url.rsplit_once('/').map(|(b, _)| b).unwrap();
            let store = Store::open_url(&format!("{base}/{name}")).await.unwrap();
            (
                store,
                Guard(Cleanup::Database {
                    admin_url: admin_url.clone(),
                    name,
                }),
            )
        }
    }
}
