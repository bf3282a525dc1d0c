//! The `yingji` binary: a thin command line over the library crates.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand, ValueEnum};
use yingji_plan::diag::{Located, render, summary};
use yingji_plan::{Input, Source};

mod progress;
mod serve;

#[derive(Parser)]
#[command(name = "yingji", version, about = "yingji (应急): run emergency plans", long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server: JSON API under /api/v1 and the web console at /. With no configuration it creates ./yingji-data/
    /// (SQLite) and, on first start, loads the demo.
    Serve(Box<ServeArgs>),
    /// Create or upgrade the database schema, then exit.
    Migrate(DbArgs),
    /// Check, dry-run and compare plan files.
    #[command(subcommand)]
    Plan(PlanCommand),
    /// The tamper-evident record.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Write a consistent backup of the whole database to FILE while the server keeps serving.
    Backup {
        #[command(flatten)]
        db: DbArgs,
        #[arg(long)]
        out: PathBuf,
    },
    /// Restore a backup FILE into an empty database (either backend), then verify it.
    Restore {
        #[command(flatten)]
        db: DbArgs,
        file: PathBuf,
    },
    /// Re-seal every sealed personal value with the current data key (after adding a new key).
    Rekey(DbArgs),
    /// Erase petitioners' sealed personal data (contact, address, ID number) of cases no longer
    /// open for longer than the retention period. Cases, events and statistics stay; one
    /// `personal_data_purged` event records the run.
    Purge {
        #[command(flatten)]
        db: DbArgs,
        /// Sign-in and role settings (JSON) whose `retention_days` applies (default 1095).
        #[arg(long, env = "YINGJI_TRUST")]
        trust: Option<PathBuf>,
        /// Override `retention_days`.
        #[arg(long)]
        retention_days: Option<i64>,
        /// Purge cases whose last change is before this time instead (RFC 3339, or YYYY-MM-DD
        /// meaning 00:00 Beijing time).
        #[arg(long, conflicts_with = "retention_days")]
        before: Option<String>,
        /// Only print how many cases and petitioners would be purged.
        #[arg(long)]
        dry_run: bool,
    },
    /// Duty rosters: who holds the posts a plan needs.
    #[command(subcommand)]
    Roster(RosterCommand),
    /// Working-day calendars (public holidays and 调休), for case due dates and duty rosters.
    #[command(subcommand)]
    Calendar(CalendarCommand),
}

#[derive(Subcommand)]
enum CalendarCommand {
    /// Load the built-in years plus the files of --calendars DIR as `serve` would, and list each
    /// year with where it comes from (exit status 2 when a file is refused).
    Check {
        /// A directory of calendar files (`*.toml`); see docs/calendars.md.
        #[arg(long, env = "YINGJI_CALENDARS")]
        calendars: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum RosterCommand {
    /// List the posts a plan needs that nobody holds in a period (exit status 1 when there are
    /// gaps).
    Gaps {
        #[command(flatten)]
        db: DbArgs,
        /// The jurisdiction (id) whose holders and rosters count.
        #[arg(long)]
        jurisdiction: uuid::Uuid,
        /// The plan id.
        #[arg(long)]
        plan: String,
        /// Start of the period (RFC 3339, e.g. 2026-10-01T00:00:00+08:00).
        #[arg(long)]
        from: String,
        /// End of the period (exclusive).
        #[arg(long)]
        to: String,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
}

#[derive(clap::Args, Clone)]
struct DbArgs {
    /// The data directory for the embedded SQLite database.
    #[arg(long, env = "YINGJI_DATA", default_value = "./yingji-data")]
    data: PathBuf,
    /// Use PostgreSQL (postgres://…) instead of the embedded database.
    #[arg(long, env = "YINGJI_DATABASE_URL")]
    database_url: Option<String>,
    /// The key file for personal data (hex keys, one a line, the last seals). Default:
    /// YINGJI_DATA_KEY, else <data>/data.key (created on first start with mode 0600).
    #[arg(long, env = "YINGJI_DATA_KEY_FILE")]
    data_key_file: Option<PathBuf>,
    /// PostgreSQL: connections this process reads with at most (it writes with two more and
    /// listens to the other processes with one). Processes on one database share its
    /// max_connections.
    #[arg(long, env = "YINGJI_DB_POOL", default_value = "10")]
    db_pool: u32,
    /// PostgreSQL: seconds an idle read connection is kept before it is closed.
    #[arg(long, env = "YINGJI_DB_IDLE_SECONDS", default_value = "60")]
    db_idle_seconds: u64,
}

#[derive(clap::Args)]
struct ServeArgs {
    #[command(flatten)]
    db: DbArgs,
    /// Address to listen on.
    #[arg(long, env = "YINGJI_LISTEN", default_value = "127.0.0.1:8080")]
    listen: String,
    /// The address people reach this deployment at (acknowledgement links), e.g.
    /// https://yingji.example.gov.cn; the same for every process behind one load balancer.
    /// Default: the notification configuration's base_url, else http://<--listen>.
    #[arg(long, env = "YINGJI_PUBLIC_URL")]
    public_url: Option<String>,
    /// Do not migrate the schema at start: it must already hold every migration of this
    /// binary (run `yingji migrate` as the deploy step); a newer schema is accepted, so that
    /// processes of the older binary keep running during a rolling upgrade (docs/deploy.md).
    #[arg(long, env = "YINGJI_NO_MIGRATE")]
    no_migrate: bool,
    /// On first start, create only a root jurisdiction and an administrator instead of the demo.
    #[arg(long, env = "YINGJI_NO_DEMO")]
    no_demo: bool,
    /// Load (and version) every plan file in this directory at start.
    #[arg(long, env = "YINGJI_PLANS")]
    plans: Option<PathBuf>,
    /// How often to mark what has fallen due, in seconds.
    #[arg(long, env = "YINGJI_TICK_SECONDS", default_value = "5")]
    tick_seconds: u64,
    /// Sign-in and role settings (JSON; see docs/security.md). Default: the built-in roles.
    #[arg(long, env = "YINGJI_TRUST")]
    trust: Option<PathBuf>,
    /// Petition-case rules per jurisdiction (case numbers, clocks, topics, approval chain,
    /// supervision); see docs/cases.md. Without it the built-in defaults apply.
    #[arg(long, env = "YINGJI_CASE_CONFIG")]
    case_config: Option<PathBuf>,
    /// A directory of working-day calendar files (one per year, `*.toml`) added to the built-in
    /// years; a file for a built-in year replaces it. See docs/calendars.md.
    #[arg(long, env = "YINGJI_CALENDARS")]
    calendars: Option<PathBuf>,
    /// A directory of document templates replacing the built-in ones: `DIR/<kind>.toml` for
    /// every jurisdiction, `DIR/<jurisdiction code or name>/<kind>.toml` for one and those below
    /// it. Checked at start (file:line:col). See docs/documents.md.
    #[arg(long, env = "YINGJI_TEMPLATES")]
    templates: Option<PathBuf>,
    /// The largest attachment accepted, in bytes (default 10 MiB). Attachments are kept in
    /// `attachments/` of the data directory with SQLite, in the database with PostgreSQL.
    #[arg(long, env = "YINGJI_ATTACHMENT_MAX_BYTES", default_value_t = yingji_app::attachments::DEFAULT_MAX_BYTES)]
    attachment_max_bytes: usize,
    /// Where attachments are kept: `default` (beside SQLite on disk, in PostgreSQL's database)
    /// or `s3`, an S3-compatible object store (`--s3-endpoint`, `--s3-bucket`; the keys in
    /// YINGJI_S3_ACCESS_KEY and YINGJI_S3_SECRET_KEY).
    #[arg(long, env = "YINGJI_ATTACHMENT_STORE", default_value = "default", value_parser = ["default", "s3"])]
    attachment_store: String,
    /// The object store's endpoint, http(s)://host[:port] (path-style addressing).
    #[arg(long, env = "YINGJI_S3_ENDPOINT")]
    s3_endpoint: Option<String>,
    /// The bucket attachments go into (it must exist).
    #[arg(long, env = "YINGJI_S3_BUCKET")]
    s3_bucket: Option<String>,
    /// The region signed for (most S3-compatible stores accept any).
    #[arg(long, env = "YINGJI_S3_REGION", default_value = "us-east-1")]
    s3_region: String,
    /// Put before every object's name, e.g. `yingji/attachments/`.
    #[arg(long, env = "YINGJI_S3_PREFIX", default_value = "")]
    s3_prefix: String,
    /// Notification configuration (TOML: base_url, channels' rate limits, smtp, sms gateway). Without it the in-app inbox and webhook/robot channels work.
    #[arg(long, env = "YINGJI_NOTIFY_CONFIG")]
    notify_config: Option<PathBuf>,
    /// Open connections at most (lowered to what the descriptor limit leaves room for); one
    /// more is closed at once.
    #[arg(long, env = "YINGJI_MAX_CONNECTIONS", default_value = "1024")]
    max_connections: usize,
    /// Seconds a client has to send a request's headers.
    #[arg(long, env = "YINGJI_HEADER_TIMEOUT", default_value = "10")]
    header_timeout_seconds: u64,
    /// Seconds a shutdown (SIGTERM, Ctrl-C) waits for requests in flight.
    #[arg(long, env = "YINGJI_DRAIN", default_value = "20")]
    drain_seconds: u64,
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Verify the whole record in one snapshot: every hash chain, every stream head's
    /// signature and every signed checkpoint (needs the data key, as `serve` does); exit status
    /// 1 when anything does not check out.
    Verify(VerifyArgs),
    /// Record a signed checkpoint of the stream heads that moved now (a server makes one every
    /// `checkpoint_seconds`); prints the newest checkpoint and its signature.
    Checkpoint(DbArgs),
}

#[derive(clap::Args)]
struct VerifyArgs {
    #[command(flatten)]
    db: DbArgs,
    /// Also rebuild every projection row (incidents, calls, disputes, cases) from its events and
    /// list each difference.
    #[arg(long)]
    projections: bool,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum Format {
    Text,
    Json,
}

#[derive(Subcommand)]
enum PlanCommand {
    /// Check plan files like a compiler: every problem, with file:line:col. Exit status 1 on any
    /// error. A directory means every *.toml file directly inside it.
    Check {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// Dry-run a plan: the level a report would get, who is called, and every deadline.
    Simulate {
        file: PathBuf,
        /// How many people (required unless --level is given).
        #[arg(long, required_unless_present = "level")]
        headcount: Option<u32>,
        /// Choose the level as a person would (for judgement-only levels, or to see another
        /// level's response); the plan's rules are not consulted.
        #[arg(long)]
        level: Option<String>,
        /// The venue tier (an id from the plan's [[venues]]).
        #[arg(long)]
        venue: Option<String>,
        /// A behaviour (an id from the plan's [[behaviours]]); repeat for several.
        #[arg(long = "behaviour")]
        behaviours: Vec<String>,
        /// When the report comes in (RFC 3339, e.g. 2026-03-02T22:00:00+08:00). Default: now.
        #[arg(long)]
        at: Option<String>,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// Show what a revision changes, per level: thresholds, commander, groups, time limits,
    /// reports.
    Diff {
        old: PathBuf,
        new: PathBuf,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
}

// glibc's allocator cost the request path about a tenth of its time under load (malloc, free and
// heap consolidation of the many small JSON and row values a report makes); mimalloc is faster
// for such short-lived allocations.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Plan(p) => run_plan(p),
        Command::Serve(a) => runtime().and_then(|rt| rt.block_on(serve::serve(*a))),
        Command::Migrate(a) => runtime().and_then(|rt| rt.block_on(serve::migrate(a))),
        Command::Audit(AuditCommand::Verify(a)) => {
            runtime().and_then(|rt| rt.block_on(serve::audit_verify(a.db, a.projections)))
        }
        Command::Audit(AuditCommand::Checkpoint(db)) => {
            runtime().and_then(|rt| rt.block_on(serve::audit_checkpoint(db)))
        }
        Command::Backup { db, out } => runtime().and_then(|rt| rt.block_on(serve::backup(db, out))),
        Command::Restore { db, file } => {
            runtime().and_then(|rt| rt.block_on(serve::restore(db, file)))
        }
        Command::Rekey(db) => runtime().and_then(|rt| rt.block_on(serve::rekey(db))),
        Command::Purge {
            db,
            trust,
            retention_days,
            before,
            dry_run,
        } => runtime().and_then(|rt| {
            rt.block_on(serve::purge(
                db,
                trust,
                retention_days,
                before.as_deref(),
                dry_run,
            ))
        }),
        Command::Calendar(CalendarCommand::Check { calendars }) => {
            serve::calendar_check(calendars.as_deref())
        }
        Command::Roster(RosterCommand::Gaps {
            db,
            jurisdiction,
            plan,
            from,
            to,
            format,
        }) => runtime().and_then(|rt| {
            rt.block_on(serve::roster_gaps(
                db,
                jurisdiction,
                &plan,
                &from,
                &to,
                format == Format::Json,
            ))
        }),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

fn plan_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut inside: Vec<PathBuf> = std::fs::read_dir(p)
                .with_context(|| format!("reading directory {}", p.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| f.is_file() && f.extension().is_some_and(|x| x == "toml"))
                .collect();
            inside.sort();
            if inside.is_empty() {
                bail!("{} holds no .toml plan files", p.display());
            }
            files.extend(inside);
        } else {
            files.push(p.clone());
        }
    }
    Ok(files)
}

/// Reads a plan file, at most `yingji_plan::MAX_SOURCE_BYTES` (+1 to notice more): a file too
/// large or not UTF-8 comes back refused (P0007, P0008), to be reported like any diagnostic.
fn read(path: &Path) -> Result<Source> {
    let bytes = std::fs::File::open(path)
        .and_then(yingji_plan::read_limited)
        .with_context(|| format!("reading plan {}", path.display()))?;
    Ok(Source::from_bytes(path.display().to_string(), bytes))
}

fn colour() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

/// Reads and checks one file; on errors prints them and returns None.
fn load_usable(path: &Path) -> Result<Option<(String, yingji_plan::Plan)>> {
    let source = read(path)?;
    let checked = yingji_plan::load_source(&source);
    if checked.has_errors() {
        let file = &source.file;
        print!(
            "{}",
            render(file, &source.text, &checked.diagnostics, colour())
        );
        let (e, w) = summary(&checked.diagnostics);
        println!("{file}: {e} error(s), {w} warning(s); fix the errors first");
        return Ok(None);
    }
    Ok(checked.plan.map(|p| (source.text, p)))
}

fn run_plan(cmd: PlanCommand) -> Result<ExitCode> {
    match cmd {
        PlanCommand::Check { paths, format } => {
            let files = plan_files(&paths)?;
            let mut sources = Vec::new();
            for f in &files {
                sources.push(read(f)?);
            }
            let results = yingji_plan::load_set(&sources);
            let (mut errors, mut warnings) = (0, 0);
            let mut located = Vec::new();
            for (src, res) in sources.iter().zip(&results) {
                let (e, w) = summary(&res.diagnostics);
                errors += e;
                warnings += w;
                match format {
                    Format::Text => {
                        print!(
                            "{}",
                            render(&src.file, &src.text, &res.diagnostics, colour())
                        )
                    }
                    Format::Json => {
                        located.extend(Located::all(&src.file, &src.text, &res.diagnostics))
                    }
                }
            }
            match format {
                Format::Text => println!(
                    "checked {} plan file(s): {errors} error(s), {warnings} warning(s)",
                    files.len()
                ),
                Format::Json => println!(
                    "{}",
                    serde_json::to_string_pretty(&serde_json::json!({
                        "files": files.len(),
                        "errors": errors,
                        "warnings": warnings,
                        "diagnostics": located,
                    }))?
                ),
            }
            Ok(if errors > 0 {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            })
        }
        PlanCommand::Simulate {
            file,
            headcount,
            venue,
            behaviours,
            at,
            format,
            level,
        } => {
            let Some((_, plan)) = load_usable(&file)? else {
                return Ok(ExitCode::from(1));
            };
            let at: jiff::Timestamp = match at {
                None => jiff::Timestamp::now(),
                Some(s) => s.parse().with_context(|| {
                    format!("--at `{s}` is not an RFC 3339 time such as 2026-03-02T22:00:00+08:00")
                })?,
            };
            if let Some(l) = &level
                && plan.level(l).is_none()
            {
                let ids: Vec<&str> = plan.levels.iter().map(|l| l.id.value.as_str()).collect();
                bail!(
                    "`{l}` is not a level of this plan; its levels are: {}",
                    ids.join(", ")
                );
            }
            let input = Input {
                headcount: headcount.unwrap_or(0),
                venue: venue.as_deref(),
                behaviours: &behaviours,
            };
            // Unknown venues and behaviours are usage errors, not "no level".
            if let Err(
                e @ (yingji_plan::NoLevel::UnknownVenue { .. }
                | yingji_plan::NoLevel::UnknownBehaviour { .. }),
            ) = yingji_plan::classify(&plan, &input)
            {
                bail!("{e}");
            }
            let sim = yingji_plan::simulate_with(&plan, &input, &at, level.as_deref());
            match format {
                Format::Text => print!("{}", yingji_plan::response::render_text(&sim)),
                Format::Json => println!("{}", serde_json::to_string_pretty(&sim)?),
            }
            Ok(ExitCode::SUCCESS)
        }
        PlanCommand::Diff { old, new, format } => {
            let (Some((_, a)), Some((_, b))) = (load_usable(&old)?, load_usable(&new)?) else {
                return Ok(ExitCode::from(1));
            };
            let changes = yingji_plan::diff::diff(&a, &b);
            match format {
                Format::Text => print!("{}", yingji_plan::diff::render_text(&changes)),
                Format::Json => println!(
                    "{}",
                    serde_json::to_string_pretty(&serde_json::json!({ "changes": changes }))?
                ),
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
