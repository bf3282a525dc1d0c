//! What every store bench does around its measurements: a runtime of two worker threads, then
//! `run` on SQLite in a temporary directory, and on PostgreSQL too when YINGJI_TEST_POSTGRES_URL
//! is set (a scratch database, created and dropped).

use std::future::Future;

use uuid::Uuid;
use yingji_store::Store;

/// Runs `run(label, store)` on each backend in turn; `name` names the temporary directory.
pub fn on_each_backend<F, Fut>(name: &str, run: F)
where
    F: Fn(&'static str, Store) -> Fut,
    Fut: Future<Output = ()>,
{
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let dir = std::env::temp_dir().join(format!("yingji-bench-{name}-{}", std::process::id()));
        let store = Store::open_sqlite(&dir).await.unwrap();
        run("sqlite", store.clone()).await;
        store.pool().close().await;
        let _ = std::fs::remove_dir_all(&dir);
        if let Ok(admin_url) = std::env::var("YINGJI_TEST_POSTGRES_URL") {
            sqlx::any::install_default_drivers();
            let db = format!("yingji_bench_{}", Uuid::now_v7().simple());
            let admin = sqlx::AnyPool::connect(&admin_url).await.unwrap();
            sqlx::query(&format!("CREATE DATABASE {db}"))
                .execute(&admin)
                .await
                .unwrap();
            let base = admin_url
                .rsplit_once('/')
                .map(|(b, _)| b)
                .unwrap_or(&admin_url);
            let store = Store::open_url(&format!("{base}/{db}")).await.unwrap();
            run("postgres", store.clone()).await;
            store.pool().close().await;
            let _ = sqlx::query(&format!("DROP DATABASE {db} WITH (FORCE)"))
                .execute(&admin)
                .await;
        }
    });
}
