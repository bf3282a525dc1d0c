//! API tests through the router (no socket), against SQLite and — when
//! YINGJI_TEST_POSTGRES_URL is set, as `.ci/run` does — PostgreSQL. Time is driven by a manual
//! clock, never by sleeping.

mod admin_console;
mod aftermath;
mod api;
mod attachments;
mod case_console;
mod cases;
mod console;
mod contract;
mod documents;
mod doors;
mod drills;
mod erasure;
mod followups;
mod grid_worker;
mod harness;
mod live;
mod my_work;
mod notices;
mod notify;
mod offers;
mod openapi;
mod plain_language;
mod reader;
mod record;
mod releases;
mod reports_upward;
mod representatives;
mod reserves;
mod room_actions;
mod s3;
mod scenario;
mod screening;
mod search;
mod ticker;
mod trust;

/// Defines one test per backend: `<name>_sqlite` and `<name>_postgres`.
#[macro_export]
macro_rules! on_both {
    ($($name:ident => $body:expr;)*) => {
        $(
            mod $name {
                #[allow(unused_imports)]
                use super::*;
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    let app = $crate::harness::TestApp::sqlite().await;
                    ($body)(app).await;
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    let Some(app) = $crate::harness::TestApp::postgres().await else { return };
                    ($body)(app).await;
                }
            }
        )*
    };
}
