//! `yingji audit checkpoint` and `yingji audit verify` as an operator runs them on a data
//! directory: a signed checkpoint, a clean verification that prints it, a whole stream deleted
//! from the SQLite file and found (exit status 1), and a verification without the data key that
//! says signatures were not checked.

use std::path::Path;
use std::process::{Command, Output};

fn yingji(args: &[&str], data: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_yingji"))
        .args(args)
        .arg("--data")
        .arg(data)
        .env_remove("YINGJI_DATA_KEY")
        .env_remove("YINGJI_DATA_KEY_FILE")
        .env("NO_COLOR", "1")
        .output()
        .expect("runs")
}

fn out(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn a_deleted_stream_is_found_by_the_operators_check() {
    let dir = std::env::temp_dir().join(format!("yingji-audit-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let data = dir.join("data");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    // The demo, written with the data directory's own key (as `serve` would).
    let victim: String = rt.block_on(async {
        let store = yingji_store::Store::open_sqlite(&data).await.unwrap();
        let sealer = yingji_app::sealer::Sealer::load(None, Some(&data)).unwrap();
        let app = yingji_server::AppState::new(
            store.clone(),
            std::sync::Arc::new(yingji_domain::clock::SystemClock),
        )
        .with_sealer(sealer);
        yingji_server::demo::load_demo(&app).await.unwrap();
        let (id,): (String,) = sqlx::query_as(
            "SELECT id FROM streams WHERE kind = 'jurisdiction' ORDER BY id DESC LIMIT 1",
        )
        .fetch_one(store.pool())
        .await
        .unwrap();
        id
    });

    let o = yingji(&["audit", "checkpoint"], &data);
    assert!(o.status.success(), "{}", out(&o));
    assert!(out(&o).contains("checkpoint #1 of "), "{}", out(&o));
    let o = yingji(&["audit", "verify", "--projections"], &data);
    assert!(o.status.success(), "{}", out(&o));
    let text = out(&o);
    assert!(text.contains("every signature valid"), "{text}");
    assert!(text.contains("the newest is #1"), "{text}");
    assert!(text.contains(", 0 differences"), "{text}");

    // Someone with the file deletes a jurisdiction's whole stream.
    rt.block_on(async {
        let store = yingji_store::Store::open_sqlite(&data).await.unwrap();
        for sql in [
            "DROP TRIGGER IF EXISTS events_no_delete",
            "DELETE FROM events WHERE stream_id = ?",
            "DELETE FROM streams WHERE id = ?",
        ] {
            sqlx::query(sql)
                .bind(&victim)
                .execute(store.pool())
                .await
                .unwrap();
        }
    });
    let o = yingji(&["audit", "verify"], &data);
    let text = out(&o);
    assert_eq!(o.status.code(), Some(1), "{text}");
    assert!(
        text.contains(&format!("BROKEN unknown stream {victim}")),
        "{text}"
    );
    assert!(text.contains("the stream is missing"), "{text}");

    // Without the key the chains are checked, and the report says the signatures were not.
    std::fs::rename(data.join("data.key"), dir.join("kept.key")).unwrap();
    let o = yingji(&["audit", "verify"], &data);
    let text = out(&o);
    assert!(text.contains("signatures are NOT checked"), "{text}");
    assert!(!data.join("data.key").exists(), "verify never makes a key");
    let _ = std::fs::remove_dir_all(&dir);
}
