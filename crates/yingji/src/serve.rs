//! `yingji serve`, `migrate` and `audit verify`.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use yingji_domain::clock::SystemClock;
use yingji_server::AppState;
use yingji_store::Store;

use crate::{DbArgs, ServeArgs};

async fn open(db: &DbArgs) -> Result<Store> {
    open_migrating(db, true).await
}

/// For commands that only read (`audit verify`, `backup`): opens without migrating when the
/// schema is current, so that they run against a read-only standby; an older schema is
/// migrated as `open` does.
async fn open_to_read(db: &DbArgs) -> Result<Store> {
    match open_migrating(db, false).await {
        Ok(s) => Ok(s),
        Err(e)
            if matches!(
                e.downcast_ref(),
                Some(yingji_store::StoreError::SchemaBehind(_))
            ) =>
        {
            open(db).await
        }
        Err(e) => Err(e),
    }
}

/// Opens the database, migrating it first unless `migrate` is false (`serve --no-migrate`).
async fn open_migrating(db: &DbArgs, migrate: bool) -> Result<Store> {
    let settings = yingji_store::PoolSettings {
        max_connections: db.db_pool,
        idle_timeout: Duration::from_secs(db.db_idle_seconds.max(1)),
        migrate,
    };
    let store = match &db.database_url {
        Some(url) => Store::open_url_with(url, &settings).await,
        None => Store::open_sqlite_with(&db.data, &settings).await,
    };
    store.map_err(anyhow::Error::new)
}

/// Logs on standard error: text for a person at a terminal, one JSON object a line otherwise
/// (a service manager, a container, a log shipper); `YINGJI_LOG_FORMAT=json|text` chooses.
/// `RUST_LOG` filters (default `info,sqlx=warn`; the access log is the target `access`, so
/// `RUST_LOG=info,access=off` turns it off).
fn init_logs() {
    use std::io::IsTerminal;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| "info,sqlx=warn".into());
    let json = match std::env::var("YINGJI_LOG_FORMAT").as_deref() {
        Ok("json") => true,
        Ok("text") => false,
        _ => !std::io::stderr().is_terminal(),
    };
    let fmt = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if json {
        fmt.json().with_current_span(false).try_init()
    } else {
        fmt.with_ansi(std::io::stderr().is_terminal()).try_init()
    };
}

pub async fn migrate(db: DbArgs) -> Result<ExitCode> {
    init_logs();
    let progress = crate::progress::Display::new("migrate: applying the schema's migrations");
    let store = open(&db).await?;
    drop(progress);
    println!("database at {} is migrated", store.location());
    Ok(ExitCode::SUCCESS)
}

/// An application error for the CLI: its code and message, with the cause of an internal
/// error (which the message alone hides).
fn app_error(e: impl Into<yingji_app::AppError>) -> anyhow::Error {
    anyhow::Error::new(e.into())
}

/// The operator's data key for `audit` commands: the one `serve` uses, if it is here. Never
/// makes a new key (a verification without the key checks the chains but not the signatures).
fn existing_sealer(db: &DbArgs) -> Result<Option<yingji_app::sealer::Sealer>> {
    let env = std::env::var("YINGJI_DATA_KEY").is_ok_and(|v| !v.trim().is_empty());
    let file = db.data_key_file.is_some()
        || (db.database_url.is_none() && db.data.join("data.key").exists());
    if env || file {
        Ok(Some(sealer(db)?))
    } else {
        Ok(None)
    }
}

pub async fn audit_verify(db: DbArgs, projections: bool) -> Result<ExitCode> {
    let progress = crate::progress::Display::new("audit verify: opening the database");
    let store = open_to_read(&db).await?;
    if let Some(p) = &progress {
        p.attach(&store);
    }
    let mut app = AppState::new(store, Arc::new(SystemClock));
    match existing_sealer(&db)? {
        Some(s) => app = app.with_sealer(s),
        None => {
            // The default application signs with a key of its own: forget it.
            app.store.clear_audit_keys();
            if let Some(p) = &progress {
                p.clear();
            }
            println!(
                "audit verify: no data key here (YINGJI_DATA_KEY, --data-key-file or <data>/data.key): signatures are NOT checked"
            );
        }
    }
    let report = yingji_app::trust::verify_audit(&app, &yingji_app::Actor::system(), projections)
        .await
        .map_err(app_error)?;
    drop(progress);
    for link in &report.broken {
        println!(
            "BROKEN {} stream {}, seq {}, event {}: {}",
            link.stream_kind,
            link.stream_id,
            link.seq.map_or("-".to_string(), |s| s.to_string()),
            link.event_id.map_or("-".to_string(), |e| e.to_string()),
            link.problem,
        );
    }
    for p in &report.checkpoint_problems {
        println!("BROKEN checkpoints: {p}");
    }
    if let Some(p) = &report.projections {
        for d in &p.differences {
            println!(
                "DIFFERS {} {} {}: stored {}, rebuilt from the events {}",
                d.projection,
                d.id,
                d.field,
                d.stored.as_deref().unwrap_or("(none)"),
                d.rebuilt.as_deref().unwrap_or("(none)"),
            );
        }
        println!(
            "audit verify: {} projection rows rebuilt from their events, {} differences",
            p.checked,
            p.differences.len()
        );
    }
    match &report.last_checkpoint {
        Some(c) => println!(
            "audit verify: {} signed checkpoints; the newest is #{} of {} ({} streams), signature {}",
            report.checkpoints, c.id, c.at, c.streams, c.signature
        ),
        None => println!(
            "audit verify: no signed checkpoint yet (a server makes the first at start): deleted streams cannot be detected"
        ),
    }
    if report.intact {
        println!(
            "audit verify: {} streams, {} events, every hash chain intact{}",
            report.streams,
            report.events,
            if report.signatures_checked {
                ", every signature valid"
            } else {
                ""
            }
        );
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "audit verify: {} of {} streams broken, {} checkpoint problems ({} events checked)",
        report.broken.len(),
        report.streams,
        report.checkpoint_problems.len(),
        report.events
    );
    Ok(ExitCode::from(1))
}

pub async fn audit_checkpoint(db: DbArgs) -> Result<ExitCode> {
    let store = open(&db).await?;
    let sealer = checked_sealer(&store, &db).await?;
    let app = AppState::new(store, Arc::new(SystemClock)).with_sealer(sealer);
    match yingji_app::ticker::checkpoint(&app)
        .await
        .map_err(app_error)?
    {
        Some(c) => println!(
            "checkpoint #{} of {}: {} heads moved, {} streams recorded; signature {}",
            c.id, c.at, c.heads, c.streams, c.sig
        ),
        None => match app.store.last_checkpoint().await.map_err(app_error)? {
            Some(c) => println!(
                "nothing moved since checkpoint #{} of {} ({} streams); signature {}",
                c.id, c.at, c.streams, c.sig
            ),
            None => println!("no stream to record yet"),
        },
    }
    Ok(ExitCode::SUCCESS)
}

fn sealer(db: &DbArgs) -> Result<yingji_app::sealer::Sealer> {
    let dir = db.database_url.is_none().then_some(db.data.as_path());
    yingji_app::sealer::Sealer::load(db.data_key_file.as_deref(), dir)
}

/// The data key for a database that may already hold sealed data: a server never starts on
/// data sealed with a key it does not hold (after a restore without the key, say), and never
/// makes a new key for such data — the values would be unreadable and new ones sealed with
/// a key that the old backups know nothing of.
async fn checked_sealer(
    store: &yingji_store::Store,
    db: &DbArgs,
) -> Result<yingji_app::sealer::Sealer> {
    let samples = store
        .sealed_samples()
        .await
        .map_err(|e| anyhow::anyhow!("reading the database: {e}"))?;
    let last = store
        .last_checkpoint()
        .await
        .map_err(|e| anyhow::anyhow!("reading the database: {e}"))?;
    let mut needed: std::collections::BTreeSet<&str> = samples
        .iter()
        .filter_map(|s| yingji_app::sealer::Sealer::key_id_of(s))
        .collect();
    // The audit record is signed with a key derived from the data key.
    if let Some(id) = last.as_ref().and_then(|c| c.sig.split(':').next()) {
        needed.insert(id);
    }
    let default_key = db.database_url.is_none().then(|| db.data.join("data.key"));
    let no_key_given = std::env::var("YINGJI_DATA_KEY").map_or(true, |v| v.trim().is_empty())
        && db.data_key_file.is_none();
    if !needed.is_empty() && no_key_given && default_key.as_ref().is_some_and(|k| !k.exists()) {
        anyhow::bail!(
            "the database holds data sealed with key {} but no data key is here ({} is missing): \
             give the key that sealed it (YINGJI_DATA_KEY or --data-key-file). A new key will \
             not be made for sealed data.",
            needed.iter().copied().collect::<Vec<_>>().join(", "),
            default_key
                .map(|k| k.display().to_string())
                .unwrap_or_default()
        );
    }
    let sealer = sealer(db)?;
    let held = sealer.key_ids();
    let missing: Vec<&str> = needed
        .into_iter()
        .filter(|id| !held.iter().any(|h| h == id))
        .collect();
    if !missing.is_empty() {
        anyhow::bail!(
            "the database holds data sealed with key {} which this server does not hold (it \
             holds {}): give the key that sealed it (YINGJI_DATA_KEY or --data-key-file; \
             docs/security.md)",
            missing.join(", "),
            held.join(", ")
        );
    }
    Ok(sealer)
}

pub async fn backup(db: DbArgs, out: std::path::PathBuf) -> Result<ExitCode> {
    let progress = crate::progress::Display::new("backup: opening the database");
    let store = open_to_read(&db).await?;
    if let Some(p) = &progress {
        p.attach(&store);
    }
    // A SQLite deployment's attachments are files beside the database: they go into the backup.
    let attachments = db
        .database_url
        .is_none()
        .then(|| db.data.join("attachments"));
    let s = store
        .backup_with(&out, attachments.as_deref())
        .await
        .map_err(|e| anyhow::anyhow!("backup failed: {e}"))?;
    drop(progress);
    println!(
        "backup of {} written to {}: {} rows in {} tables (the data key is NOT in it; keep it separately)",
        store.location(),
        out.display(),
        s.rows(),
        s.tables.len()
    );
    Ok(ExitCode::SUCCESS)
}

pub async fn restore(db: DbArgs, file: std::path::PathBuf) -> Result<ExitCode> {
    let progress = crate::progress::Display::new("restore: opening the database");
    let store = open(&db).await?;
    if let Some(p) = &progress {
        p.attach(&store);
    }
    let s = store
        .restore(&file)
        .await
        .map_err(|e| anyhow::anyhow!("restore failed: {e}"))?;
    drop(progress);
    println!(
        "restored {} rows in {} tables into {}",
        s.rows(),
        s.tables.len(),
        store.location()
    );
    audit_verify(db, false).await
}

pub async fn rekey(db: DbArgs) -> Result<ExitCode> {
    let progress = crate::progress::Display::new("rekey: opening the database");
    let store = open(&db).await?;
    if let Some(p) = &progress {
        p.attach(&store);
    }
    let sealer = sealer(&db)?;
    let state = AppState::new(store, Arc::new(SystemClock)).with_sealer(sealer);
    let people = yingji_app::directory::rekey_phones(&state)
        .await
        .map_err(app_error)?;
    let keys = yingji_app::subjects::rewrap_subject_keys(&state)
        .await
        .map_err(app_error)?;
    let petitioners = yingji_app::cases::rekey_petitioners(&state)
        .await
        .map_err(app_error)?;
    let secrets = yingji_app::secrets::rekey_deployment_secrets(&state.store, &state.sealer)
        .await
        .map_err(app_error)?;
    if let Some(p) = &progress {
        p.report("rekey: re-signing stream heads", 0, None, "");
    }
    let heads = state.store.resign_heads().await.map_err(app_error)?;
    drop(progress);
    println!(
        "re-sealed {} value(s) with key {} ({people} phone(s) of people, {keys} subject key(s) re-wrapped, {petitioners} petitioner value(s) moved under their case's key, {secrets} deployment secret(s))",
        people + keys + petitioners + secrets,
        state.sealer.current_key_id()
    );
    println!(
        "re-signed {heads} stream head(s) with key {}; checkpoints keep the key that signed them",
        state.sealer.current_key_id()
    );
    Ok(ExitCode::SUCCESS)
}

/// `yingji purge`: erase petitioners' sealed values past the retention period.
pub async fn purge(
    db: DbArgs,
    trust: Option<std::path::PathBuf>,
    retention_days: Option<i64>,
    before: Option<&str>,
    dry_run: bool,
) -> Result<ExitCode> {
    let cfg = match &trust {
        None => yingji_app::trust::TrustConfig::default(),
        Some(f) => yingji_app::trust::TrustConfig::from_json(
            &std::fs::read_to_string(f).with_context(|| format!("reading {}", f.display()))?,
        )
        .with_context(|| format!("{}", f.display()))?,
    };
    let now = jiff::Timestamp::now();
    let (cutoff, days) = match before {
        Some(b) => {
            let t = match b.parse::<jiff::Timestamp>() {
                Ok(t) => t,
                Err(_) => b
                    .parse::<jiff::civil::Date>()
                    .ok()
                    .and_then(|d| d.in_tz("Asia/Shanghai").ok())
                    .map(|z| z.timestamp())
                    .with_context(|| {
                        format!("--before `{b}` is not an RFC 3339 time or a YYYY-MM-DD date")
                    })?,
            };
            (t, None)
        }
        None => {
            let days = retention_days.unwrap_or(cfg.retention_days);
            if !(0..=36_500).contains(&days) {
                anyhow::bail!("--retention-days must be from 0 to 36500");
            }
            let t = now
                .checked_sub(jiff::SignedDuration::from_hours(days * 24))
                .context("retention period out of range")?;
            (t, Some(days))
        }
    };
    let progress = crate::progress::Display::new("purge: opening the database");
    let store = open(&db).await?;
    if let Some(p) = &progress {
        p.attach(&store);
    }
    // The data key: the purge's event is signed like every other.
    let sealer = checked_sealer(&store, &db).await?;
    let state = AppState::new(store, Arc::new(SystemClock)).with_sealer(sealer);
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .unwrap_or_else(|_| "unknown".into());
    // The system actor, named after the operator who ran it (recorded in the event).
    let mut actor = yingji_app::Actor::system();
    actor.name = format!("yingji purge (OS user {user})");
    let cmd = yingji_app::cases::PurgePetitioners {
        cutoff,
        retention_days: days,
        dry_run,
    };
    let (r, erased) = yingji_app::cases::purge(&state, &actor, &cmd)
        .await
        .map_err(app_error)?;
    drop(progress);
    let what = match days {
        Some(d) => format!("no longer open and unchanged for {d} day(s) (before {cutoff})"),
        None => format!("no longer open and unchanged since before {cutoff}"),
    };
    if dry_run {
        println!(
            "dry run: would purge the personal data of {} petitioner(s) in {} case(s) {what}, the parties' names of {} closed dispute(s), and the personal intake values of {} closed incident(s)",
            r.petitioners, r.cases, r.disputes, r.incidents
        );
    } else {
        println!(
            "purged the personal data of {} petitioner(s) in {} case(s) {what}, the parties' names of {} closed dispute(s), and the personal intake values of {} closed incident(s){}",
            r.petitioners,
            r.cases,
            r.disputes,
            r.incidents,
            r.event_stream
                .map(|s| format!("; recorded in purge stream {s}"))
                .unwrap_or_default()
        );
    }
    match erased {
        Ok(true) => Ok(ExitCode::SUCCESS),
        Ok(false) => {
            eprintln!(
                "warning: the WAL could not be emptied while another process was reading the database; run `yingji purge` again when it is idle to finish erasing"
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!(
                "error: the purge is committed, but vacuuming the database files failed (old copies may remain in them until it succeeds; run `yingji purge` again): {e}"
            );
            Ok(ExitCode::FAILURE)
        }
    }
}

/// The case configuration and calendar named on the command line, or the built-in ones.
fn case_rules(args: &ServeArgs) -> Result<yingji_app::CaseRules> {
    let mut rules = yingji_app::CaseRules::default();
    if let Some(f) = &args.case_config {
        let src = std::fs::read_to_string(f)
            .with_context(|| format!("reading the case configuration {}", f.display()))?;
        rules.config = yingji_domain::case::CaseConfig::parse(&src)
            .map_err(|e| anyhow::anyhow!("{}: {e}", f.display()))?;
        eprintln!(
            "case rules from {} ({} jurisdiction entries)",
            f.display(),
            rules.config.by_jurisdiction.len()
        );
    }
    if let Some(dir) = &args.calendars {
        let (calendar, lines) = load_calendar(Some(dir))?;
        rules.calendar = calendar;
        eprintln!("working-day calendar: {}", lines.summary);
    }
    Ok(rules)
}

/// The document templates named on the command line laid over the built-in ones (every file
/// checked; all problems reported together).
fn templates(args: &ServeArgs) -> Result<yingji_app::documents::Templates> {
    let Some(dir) = &args.templates else {
        return Ok(Default::default());
    };
    let t = yingji_app::documents::Templates::load(dir)
        .map_err(|problems| anyhow::anyhow!("document templates:\n{}", problems.join("\n")))?;
    eprintln!(
        "document templates from {} ({} replaced)",
        dir.display(),
        t.replaced()
    );
    Ok(t)
}

/// Where the years of a working-day calendar come from.
pub struct CalendarSources {
    /// One line per covered year: the year, its source, what it does to the built-in set.
    pub years: Vec<String>,
    /// One line: built-in years, added ones, replaced ones.
    pub summary: String,
}

/// The working-day calendar: the built-in years plus every `*.toml` file of `dir` (a year the
/// built-in set lacks is added; a year it has is replaced by the file). A bad file is refused
/// with its name; two files giving one year are refused.
pub fn load_calendar(
    dir: Option<&std::path::Path>,
) -> Result<(yingji_domain::calendar::Calendar, CalendarSources)> {
    use yingji_domain::calendar::Calendar;
    let mut files: Vec<std::path::PathBuf> = match dir {
        None => vec![],
        Some(dir) => std::fs::read_dir(dir)
            .with_context(|| format!("reading the calendar directory {}", dir.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect(),
    };
    files.sort();
    let mut texts = Vec::new();
    let mut from_file = std::collections::BTreeMap::new();
    for p in &files {
        let text =
            std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
        let one = Calendar::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?;
        for y in one.years() {
            if let Some(other) = from_file.insert(y, p.clone()) {
                anyhow::bail!(
                    "{} and {} both give the year {y}; keep one file per year",
                    other.display(),
                    p.display()
                );
            }
        }
        texts.push(text);
    }
    let where_ = dir.map_or(String::new(), |d| d.display().to_string());
    let (cal, layering) = Calendar::builtin_with(texts.iter().map(String::as_str))
        .map_err(|e| anyhow::anyhow!("{where_}: {e}"))?;
    let years = cal
        .years()
        .into_iter()
        .map(|y| {
            let source = match from_file.get(&y) {
                None => "built-in".to_string(),
                Some(p) if layering.replaced.contains(&y) => {
                    format!("{} (replaces the built-in year)", p.display())
                }
                Some(p) => format!("{} (added)", p.display()),
            };
            format!(
                "{y}\t{source}\t{}\t{} days off, {} working weekend days",
                cal.name_of(y).unwrap_or_default(),
                cal.holidays_in(y).len(),
                cal.working_weekends_in(y).len()
            )
        })
        .collect();
    let mut summary = format!("built-in years {:?}", layering.builtin);
    if dir.is_some() {
        summary.push_str(&format!(
            "; from {where_}: added {:?}, replaced {:?}",
            layering.added, layering.replaced
        ));
    }
    Ok((cal, CalendarSources { years, summary }))
}

/// `yingji calendar check`: the years the calendar knows and where each comes from.
pub fn calendar_check(dir: Option<&std::path::Path>) -> Result<ExitCode> {
    let (cal, sources) = load_calendar(dir)?;
    for line in &sources.years {
        println!("{line}");
    }
    let known: Vec<String> = yingji_domain::calendar::FIXED_DATE_HOLIDAYS
        .iter()
        .filter(|h| h.until == i16::MAX)
        .map(|h| format!("{} {:02}-{:02}", h.name, h.month, h.day))
        .collect();
    println!(
        "other years: weekly rest days and, by rule, {}; due dates there are provisional",
        known.join(", ")
    );
    eprintln!("working-day calendar: {} ({})", sources.summary, cal.name);
    Ok(ExitCode::SUCCESS)
}

/// The notification configuration: the file when given, else defaults. The address in links:
/// `--public-url`, else the file's `base_url`, else the listening address. The link-signing
/// secret: the file's, `YINGJI_SECRET`, the key kept in the data directory by earlier versions
/// (SQLite), or else the deployment's, made once and kept in the database (`secrets.rs`), so
/// that every process of one database signs and accepts the same links.
async fn notify_config(
    args: &ServeArgs,
    addr: &SocketAddr,
    store: &Store,
    sealer: &yingji_app::sealer::Sealer,
) -> Result<yingji_notify::NotifyConfig> {
    let mut cfg = match &args.notify_config {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("reading notification config {}", p.display()))?;
            yingji_notify::NotifyConfig::from_toml(&text)
                .map_err(|e| anyhow::anyhow!("notification config {}: {e}", p.display()))?
        }
        None => yingji_notify::NotifyConfig::default(),
    };
    if let Some(u) = public_url(args)? {
        cfg.base_url = u;
    } else if cfg.base_url.trim().is_empty() {
        cfg.base_url = format!("http://{addr}");
    }
    if cfg.secret.is_empty() {
        let legacy = args.db.data.join("notify-secret");
        if let Ok(s) = std::env::var("YINGJI_SECRET")
            && !s.is_empty()
        {
            cfg.secret = s;
        } else if let Some(s) = args
            .db
            .database_url
            .is_none()
            .then(|| std::fs::read_to_string(&legacy).ok())
            .flatten()
            .filter(|s| !s.trim().is_empty())
        {
            cfg.secret = s.trim().to_string();
        } else {
            cfg.secret = yingji_app::secrets::deployment_secret(
                store,
                sealer,
                yingji_app::secrets::ACK_LINKS,
                jiff::Timestamp::now(),
            )
            .await
            .map_err(app_error)?;
        }
    }
    if !cfg.holidays.is_empty() {
        eprintln!(
            "warning: `holidays` in the notification configuration is deprecated: duty rosters now \
             use the working-day calendar's public holidays (docs/calendars.md); the {} listed \
             day(s) still count as holidays for rosters, in addition. Move them into a calendar \
             file (--calendars) so that case due dates see them too.",
            cfg.holidays.len()
        );
    }
    Ok(cfg)
}

/// The public address from `--public-url` (checked: an http or https URL, no trailing slash).
fn public_url(args: &ServeArgs) -> Result<Option<String>> {
    let Some(u) = args
        .public_url
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty())
    else {
        return Ok(None);
    };
    if !(u.starts_with("http://") || u.starts_with("https://")) || u.contains(char::is_whitespace) {
        anyhow::bail!(
            "--public-url `{u}` is not an http:// or https:// address such as https://yingji.example.gov.cn"
        );
    }
    Ok(Some(u.trim_end_matches('/').to_string()))
}

/// `yingji roster gaps`.
pub async fn roster_gaps(
    db: DbArgs,
    jurisdiction: uuid::Uuid,
    plan: &str,
    from: &str,
    to: &str,
    json: bool,
) -> Result<ExitCode> {
    let store = open(&db).await?;
    let state = AppState::new(store, Arc::new(SystemClock));
    let parse = |s: &str, what: &str| -> Result<jiff::Timestamp> {
        s.parse::<jiff::Timestamp>()
            .with_context(|| format!("--{what} `{s}` is not an RFC 3339 time"))
    };
    // The operator on the server's machine acts as yingji itself.
    let v = yingji_app::notify::gaps_between(
        &state,
        &yingji_app::Actor::system(),
        jurisdiction,
        plan,
        parse(from, "from")?,
        parse(to, "to")?,
        jiff::SignedDuration::from_mins(15),
    )
    .await
    .map_err(anyhow::Error::new)?;
    let items = &v.items;
    if json {
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else if items.is_empty() {
        println!(
            "no gaps: every one of the {} posts of {plan} is held throughout",
            v.posts_checked
        );
    } else {
        for g in items {
            println!("{}\t{}\t{} – {}", g.post, g.post_name, g.from, g.until);
        }
        println!("{} gap(s) in {} posts", items.len(), v.posts_checked);
    }
    Ok(if items.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

pub async fn serve(args: ServeArgs) -> Result<ExitCode> {
    init_logs();
    let addr: SocketAddr = args.listen.parse().with_context(|| {
        format!(
            "--listen `{}` is not an address such as 127.0.0.1:8080",
            args.listen
        )
    })?;
    let store = open_migrating(&args.db, !args.no_migrate).await?;
    let trust = match &args.trust {
        None => yingji_app::trust::TrustConfig::default(),
        Some(f) => yingji_app::trust::TrustConfig::from_json(
            &std::fs::read_to_string(f).with_context(|| format!("reading {}", f.display()))?,
        )
        .with_context(|| format!("{}", f.display()))?,
    };
    let sealer = checked_sealer(&store, &args.db).await?;
    let cfg = notify_config(&args, &addr, &store, &sealer).await?;
    let console_key = yingji_app::secrets::deployment_secret(
        &store,
        &sealer,
        yingji_app::secrets::CONSOLE,
        jiff::Timestamp::now(),
    )
    .await
    .map_err(app_error)?;
    let state = AppState::with_notify(store.clone(), Arc::new(SystemClock), cfg)?
        .with_trust(trust)
        .with_sealer(sealer)
        .with_case_rules(case_rules(&args)?)
        .with_templates(templates(&args)?)
        .with_attachments(yingji_app::attachments::Settings {
            storage: attachment_storage(&args)?,
            max_bytes: args.attachment_max_bytes,
        })
        .with_console_key(yingji_app::secrets::key_of(&console_key));
    // What the other processes on this database commit reaches this one's live pages.
    state.join_bus().await.map_err(|e| anyhow::anyhow!("{e}"))?;
    // Processes starting at once on an empty database seed it once.
    let first_start = store
        .start_lock()
        .await
        .map_err(|e| anyhow::anyhow!("taking the first-start lock: {e}"))?;
    if yingji_server::demo::is_empty(&state)
        .await
        .map_err(app_error)?
    {
        if args.no_demo {
            // 256 bits from the operating system's generator.
            let token = std::env::var("YINGJI_ADMIN_TOKEN")
                .unwrap_or_else(|_| yingji_app::accounts::random_token());
            yingji_server::demo::bootstrap(&state, "根辖区", &token)
                .await
                .map_err(app_error)?;
            eprintln!("first start: created the root jurisdiction and an administrator");
            eprintln!("administrator token (shown once): {token}");
        } else {
            yingji_server::demo::load_demo(&state)
                .await
                .map_err(app_error)?;
            yingji_server::demo::load_demo_extras(&state)
                .await
                .map_err(app_error)?;
            eprintln!(
                "first start: loaded the demo (fictional jurisdictions, people, plans and incidents)"
            );
        }
    }
    if let Some(dir) = &args.plans {
        load_plan_dir(&state, dir).await?;
    }
    drop(first_start);
    // A database from before the search index (migration 0015): its records are indexed once,
    // in the background (searches find them as they are indexed).
    if yingji_app::search::index_is_empty(&state)
        .await
        .map_err(app_error)?
    {
        let app = state.clone();
        tokio::spawn(async move {
            match yingji_app::search::reindex(&app).await {
                Ok(0) => {}
                Ok(n) => eprintln!("search index: indexed {n} earlier record(s)"),
                Err(e) => tracing::warn!(error = %e, "indexing earlier records failed"),
            }
        });
    }
    // Due dates computed as provisional are computed again with the calendar loaded now.
    {
        let app = state.clone();
        tokio::spawn(async move {
            match yingji_app::cases::recompute_provisional(&app).await {
                Ok(0) => {}
                Ok(n) => eprintln!("recomputed the provisional due dates of {n} case(s)"),
                Err(e) => tracing::warn!(error = %e, "recomputing provisional due dates failed"),
            }
        });
    }
    yingji_server::spawn_ticker(state.clone(), Duration::from_secs(args.tick_seconds.max(1)));
    // Records written in the last second enter the search index together.
    yingji_app::search::spawn_indexer(state.clone(), Duration::from_secs(1));
    state.notify.clone().spawn();
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("listening on {addr}"))?;
    eprintln!(
        "yingji serving on http://{addr}  (data: {})",
        store.location()
    );
    // The demo's sign-in tokens, only where they work (not after `--no-demo`).
    let mut demo_tokens = Vec::new();
    for (token, _) in yingji_server::demo::DEMO_TOKENS {
        if let Ok(Some(_)) = yingji_app::Actor::from_token(&state, token).await {
            demo_tokens.push(*token);
        }
    }
    if !demo_tokens.is_empty() {
        eprintln!("demo tokens: {}", demo_tokens.join(", "));
    }
    let nofile = raise_descriptor_limit();
    let limits = yingji_server::listen::Limits {
        max_connections: args.max_connections.max(1),
        header_timeout: Duration::from_secs(args.header_timeout_seconds.max(1)),
        drain: Duration::from_secs(args.drain_seconds),
    }
    .within_descriptors(nofile);
    tracing::info!(
        max_connections = limits.max_connections,
        descriptors = ?nofile,
        "serving"
    );
    // On SIGTERM readiness turns false and live streams end; requests in flight are answered.
    let stopping = state.clone();
    yingji_server::listen::serve(listener, yingji_server::app(state), limits, async move {
        shutdown_signal().await;
        stopping.start_draining();
    })
    .await;
    eprintln!("yingji stopped: requests in flight were answered");
    Ok(ExitCode::SUCCESS)
}

/// SIGTERM (a service manager's stop) or Ctrl-C.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("installing the SIGTERM handler");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Raises the soft limit on open descriptors to the hard limit (a default of 256 or 1024 is
/// too few for a server); answers the limit in force.
fn raise_descriptor_limit() -> Option<u64> {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(n) => Some(n),
        Err(e) => {
            tracing::warn!(error = %e, "could not raise the open-descriptor limit");
            rlimit::getrlimit(rlimit::Resource::NOFILE)
                .ok()
                .map(|(s, _)| s)
        }
    }
}

/// Loads every plan file of a directory: checked, versioned when changed, owned by the
/// jurisdiction whose 行政区划代码 or name the plan's [meta] gives (else the root).
async fn load_plan_dir(state: &AppState, dir: &std::path::Path) -> Result<()> {
    let jurisdictions = state
        .store
        .list_jurisdictions("/")
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let root = jurisdictions
        .iter()
        .find(|j| j.parent_id.is_none())
        .context("no root jurisdiction")?;
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| format!("reading plan directory {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    let mut read = Vec::new();
    for f in files {
        let bytes = std::fs::File::open(&f)
            .and_then(yingji_plan::read_limited)
            .with_context(|| format!("reading {}", f.display()))?;
        // Too large or not UTF-8: reported like `plan check` does, and not loaded.
        let source = yingji_plan::Source::from_bytes(f.display().to_string(), bytes);
        if source.refused() {
            let checked = yingji_plan::load_source(&source);
            for d in
                yingji_plan::diag::Located::all(&source.file, &source.text, &checked.diagnostics)
            {
                eprintln!(
                    "{}:{}:{}: {} {}",
                    d.file,
                    d.line.unwrap_or(0),
                    d.column.unwrap_or(0),
                    d.code,
                    d.message
                );
            }
            eprintln!("{}: not loaded", source.file);
            continue;
        }
        read.push((f, source.text));
    }
    // A parent before its children: an upload is checked against the stored plans, so a child
    // loaded first would not find its parent (P0301).
    let texts: Vec<&str> = read.iter().map(|(_, t)| t.as_str()).collect();
    let order = yingji_plan::parents_first(&texts);
    for i in order {
        let (f, text) = &read[i];
        let text = text.as_str();
        let file = f.display().to_string();
        let checked = yingji_plan::load(text);
        let owner = checked
            .plan
            .as_ref()
            .and_then(|p| {
                jurisdictions.iter().find(|j| {
                    (p.meta.jurisdiction_code.is_some() && j.code == p.meta.jurisdiction_code)
                        || p.meta.jurisdiction.as_deref() == Some(j.name.as_str())
                })
            })
            .unwrap_or(root);
        match yingji_app::plans::load_file(state, owner.id, text, &file).await {
            Ok(loaded) => eprintln!("{file}: {}", loaded.describe()),
            Err(e) => {
                eprintln!("{file}: not loaded: {e}");
                for d in e.details["diagnostics"].as_array().into_iter().flatten() {
                    eprintln!(
                        "{}:{}:{}: {} {}",
                        d["file"].as_str().unwrap_or_default(),
                        d["line"].as_u64().unwrap_or(0),
                        d["column"].as_u64().unwrap_or(0),
                        d["code"].as_str().unwrap_or_default(),
                        d["message"].as_str().unwrap_or_default()
                    );
                }
            }
        }
    }
    Ok(())
}

/// Where attachments are kept (`--attachment-store`): beside SQLite on disk, in PostgreSQL's
/// database, or in an S3-compatible object store, checked before the server starts.
fn attachment_storage(args: &crate::ServeArgs) -> Result<yingji_app::attachments::Storage> {
    use yingji_app::attachments::Storage;
    if args.attachment_store == "s3" {
        let need = |v: &Option<String>, flag: &str| {
            v.clone()
                .ok_or_else(|| anyhow::anyhow!("--attachment-store s3 needs {flag}"))
        };
        let key = |name: &str| std::env::var(name).unwrap_or_default();
        let s3 = yingji_app::s3::S3::new(yingji_app::s3::S3Config {
            endpoint: need(&args.s3_endpoint, "--s3-endpoint")?,
            bucket: need(&args.s3_bucket, "--s3-bucket")?,
            region: args.s3_region.clone(),
            access_key: key("YINGJI_S3_ACCESS_KEY"),
            secret_key: key("YINGJI_S3_SECRET_KEY"),
            prefix: args.s3_prefix.clone(),
        })
        .map_err(|e| anyhow::anyhow!(e))?;
        return Ok(Storage::S3(Box::new(s3)));
    }
    Ok(match &args.db.database_url {
        Some(_) => Storage::Database,
        None => Storage::Disk(args.db.data.join("attachments")),
    })
}
