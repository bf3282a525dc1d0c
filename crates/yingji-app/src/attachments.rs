//! Attachments (附件): real files — letters, minutes, written replies, photos — on incidents,
//! cases, disputes and drills. A file is checked by its content (PDF, JPEG, PNG, .docx, .xlsx,
//! UTF-8 text; its name and declared type are not trusted) and against the deployment's size
//! limit, hashed (SHA-256, in the `attachment_added` event of its own stream), and kept on disk
//! beside a SQLite database or in the database (`attachment_blobs`), as base64 text — sealed
//! when it is personal (every file on a petition case is): with its record's subject key (a
//! case's, an incident's or a dispute's, so `yingji purge` erases it with the record's other
//! personal data: its download then answers 410 `attachment_erased`), a drill's with the data
//! key. Downloading a
//! personal file needs the right to handle its record and is logged as a disclosure; the hash
//! is checked on every download. Command: `attachment.add`.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use uuid::Uuid;
use yingji_domain::ActorRef;
use yingji_store::{RecordWrite, Row, WriteSet, fmt_ts};

use crate::command::{Command as AppCommand, Decided};
use crate::write::{Item, append};
use crate::{Actor, App, AppError, ErrorCode, JsonText, Permission};

/// The record kind and stream kind of an attachment.
pub const KIND: &str = "attachment";

/// The default largest attachment: 10 MiB.
pub const DEFAULT_MAX_BYTES: usize = 10 * 1024 * 1024;

/// Where attachments' bytes are kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Storage {
    /// In the database (`attachment_blobs`): a PostgreSQL deployment's default.
    Database,
    /// In a directory (a SQLite deployment's default: `attachments/` in its data directory).
    Disk(PathBuf),
    /// In a bucket of an S3-compatible object store (a PostgreSQL deployment, by
    /// configuration: `serve --attachment-store s3`), one object `<prefix><id>.att` each.
    S3(Box<crate::s3::S3>),
}

/// The attachment settings of a deployment.
#[derive(Debug, Clone)]
pub struct Settings {
    pub storage: Storage,
    pub max_bytes: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            storage: Storage::Database,
            max_bytes: DEFAULT_MAX_BYTES,
        }
    }
}

/// An attachment as recorded (its bytes apart).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(as = AttachmentFile)]
pub struct Attachment {
    pub id: Uuid,
    /// `incident`, `case`, `dispute` or `drill`.
    pub subject_kind: String,
    pub subject_id: Uuid,
    pub jurisdiction_id: Uuid,
    pub file_name: String,
    /// The type its content shows (not the one declared).
    pub media_type: String,
    pub size: u64,
    /// SHA-256 of the file, hex.
    pub sha256: String,
    /// Sealed at rest; downloading it is logged.
    pub personal: bool,
    /// `database` or `disk`.
    pub storage: String,
    pub by: ActorRef,
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
}

/// The query of an upload (`POST /attachments`; the body is the file itself).
#[derive(Debug, Clone, Deserialize, ToSchema, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct UploadQuery {
    /// `incident`, `case`, `dispute` or `drill`.
    pub subject_kind: String,
    pub subject_id: Uuid,
    pub file_name: String,
    /// Seal it as personal data (always so on a case).
    #[serde(default)]
    pub personal: bool,
}

/// The subjects attachments may be on: their record's path and the permissions to read it and
/// to add to it.
pub(crate) struct Subject {
    pub(crate) kind: &'static str,
    pub(crate) path: String,
    pub(crate) jurisdiction_id: Uuid,
    pub(crate) view: Permission,
    pub(crate) handle: Permission,
    always_personal: bool,
}

impl Subject {
    /// The kind of subject key the record's personal data is sealed with (a drill has none: its
    /// personal files are sealed with the data key).
    fn key_kind(&self) -> Option<&'static str> {
        match self.kind {
            k @ ("case" | "incident" | "dispute") => Some(k),
            _ => None,
        }
    }
}

/// The record an attachment, instruction, meeting or sanction is about: its path and the
/// permissions to read it and to work it.
pub(crate) async fn subject(app: &App, kind: &str, id: Uuid) -> Result<Subject, AppError> {
    let missing = || AppError::not_found(kind);
    Ok(match kind {
        "incident" => {
            let r = app.store.get_incident(id).await?.ok_or_else(missing)?;
            Subject {
                kind: "incident",
                path: r.jurisdiction_path,
                jurisdiction_id: r.jurisdiction_id,
                view: Permission::ViewIncidents,
                handle: Permission::UpdateIncident,
                always_personal: false,
            }
        }
        "case" => {
            let r = app.store.get_case(id).await?.ok_or_else(missing)?;
            Subject {
                kind: "case",
                path: r.jurisdiction_path,
                jurisdiction_id: r.jurisdiction_id,
                view: Permission::ViewCases,
                handle: Permission::HandleCase,
                always_personal: true,
            }
        }
        "dispute" => {
            let r = app.store.get_dispute(id).await?.ok_or_else(missing)?;
            Subject {
                kind: "dispute",
                path: r.jurisdiction_path,
                jurisdiction_id: r.jurisdiction_id,
                view: Permission::ViewDisputes,
                handle: Permission::ScreenDisputes,
                always_personal: false,
            }
        }
        "drill" => {
            let r = app
                .store
                .get_record(crate::drills::KIND, id)
                .await?
                .ok_or_else(missing)?;
            Subject {
                kind: "drill",
                path: r.jurisdiction_path,
                jurisdiction_id: r.jurisdiction_id,
                view: Permission::ViewIncidents,
                handle: Permission::HandleIncident,
                always_personal: false,
            }
        }
        other => {
            return Err(AppError::field(
                ErrorCode::InvalidKind,
                "subject_kind",
                format!("`{other}` cannot have attachments; use incident, case, dispute or drill"),
            ));
        }
    })
}

/// The type a file's content shows, or why it is refused.
pub fn sniff(bytes: &[u8]) -> Result<&'static str, AppError> {
    let has = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
    let t = if bytes.starts_with(b"%PDF-") {
        "application/pdf"
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        "image/png"
    } else if bytes.starts_with(b"\xFF\xD8\xFF") {
        "image/jpeg"
    } else if bytes.starts_with(b"PK\x03\x04") && has(b"word/document.xml") {
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    } else if bytes.starts_with(b"PK\x03\x04") && has(b"xl/workbook.xml") {
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    } else if !bytes.is_empty()
        && std::str::from_utf8(bytes).is_ok_and(|s| {
            !s.chars()
                .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        })
    {
        "text/plain; charset=utf-8"
    } else {
        return Err(AppError::new(
            ErrorCode::AttachmentType,
            "the file is not a PDF, JPEG, PNG, .docx, .xlsx or UTF-8 text file (judged by its content)",
        ));
    };
    Ok(t)
}

/// The associated data that binds a sealed file to its attachment.
fn aad(id: Uuid) -> String {
    format!("attachment:{id}")
}

fn disk_path(dir: &Path, id: Uuid) -> PathBuf {
    dir.join(object_name(id))
}

/// An attachment's file name on disk and object name in a bucket.
fn object_name(id: Uuid) -> String {
    format!("{id}.att")
}

/// Writes a file durably: a temporary file synced, renamed into place, the directory synced.
fn write_durably(dir: &Path, id: Uuid, text: &str) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!("{id}.tmp"));
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, disk_path(dir, id))?;
    std::fs::File::open(dir)?.sync_all()
}

/// A file name as stored: the last path component, without control characters, at most 200
/// characters.
fn clean_name(name: &str) -> Result<String, AppError> {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("").trim();
    let s: String = base.chars().filter(|c| !c.is_control()).take(200).collect();
    if s.is_empty() || s == "." || s == ".." {
        return Err(AppError::field(
            ErrorCode::InvalidField,
            "file_name",
            "`file_name` must name the file",
        ));
    }
    Ok(s)
}

/// Adds an attachment (`attachment.add`). The id is chosen first, so that a retried attempt
/// writes the same file.
pub struct AddAttachment {
    pub id: Uuid,
    pub query: UploadQuery,
    pub bytes: Vec<u8>,
}

impl AddAttachment {
    pub fn new(query: UploadQuery, bytes: Vec<u8>) -> Self {
        AddAttachment {
            id: Uuid::now_v7(),
            query,
            bytes,
        }
    }
}

/// The refusal of a file over the limit.
pub fn too_large(size: usize, max: usize) -> AppError {
    AppError::new(
        ErrorCode::AttachmentTooLarge,
        format!("the file is {size} bytes; an attachment is at most {max} bytes"),
    )
    .details(json!({ "size": size, "max_bytes": max }))
}

impl AppCommand for AddAttachment {
    type Output = Attachment;

    fn kind(&self) -> &'static str {
        "attachment.add"
    }

    fn status(&self) -> u16 {
        201
    }

    async fn run(&self, app: &App, actor: &Actor) -> Result<Decided<Attachment>, AppError> {
        let q = &self.query;
        let s = subject(app, &q.subject_kind, q.subject_id).await?;
        let auth = app.authorize(actor, s.handle, &s.path, s.kind)?;
        let max = app.attachments.max_bytes;
        if self.bytes.len() > max {
            return Err(too_large(self.bytes.len(), max));
        }
        let media_type = sniff(&self.bytes)?;
        let file_name = clean_name(&q.file_name)?;
        let personal = q.personal || s.always_personal;
        let sha256 = hex::encode(Sha256::digest(&self.bytes));
        let b64 = base64::engine::general_purpose::STANDARD.encode(&self.bytes);
        let now = app.clock.now();
        let mut ws = WriteSet::default();
        let text = if !personal {
            format!("b64:{b64}")
        } else if let Some(kind) = s.key_kind() {
            // Sealed with its record's subject key: `yingji purge` erases it with the record's
            // other personal data, wherever a copy of it lies.
            let row = app.store.subject_key(kind, q.subject_id).await?;
            let key = match crate::subjects::unwrap_row(app, row.as_ref())? {
                Some(k) => k,
                None => crate::subjects::SubjectKey::create(
                    &mut ws,
                    &app.sealer,
                    kind,
                    q.subject_id,
                    now,
                ),
            };
            key.seal(&b64, &aad(self.id))
        } else {
            app.sealer.seal(&b64, &aad(self.id))
        };
        let a = Attachment {
            id: self.id,
            subject_kind: s.kind.to_string(),
            subject_id: q.subject_id,
            jurisdiction_id: s.jurisdiction_id,
            file_name,
            media_type: media_type.to_string(),
            size: self.bytes.len() as u64,
            sha256,
            personal,
            storage: match app.attachments.storage {
                Storage::Database => "database",
                Storage::Disk(_) => "disk",
                Storage::S3(_) => "s3",
            }
            .to_string(),
            by: actor.as_ref(),
            at: now,
        };
        match &app.attachments.storage {
            Storage::Database => ws.rows.push(Row::Record(RecordWrite::Blob {
                id: self.id,
                data: text,
            })),
            // On disk before the record that names it is committed.
            Storage::Disk(dir) => write_durably(dir, self.id, &text).map_err(|e| {
                AppError::new(
                    ErrorCode::Unavailable,
                    format!("the attachment could not be stored: {e}"),
                )
            })?,
            // Acknowledged by the object store before the record that names it is committed.
            Storage::S3(s3) => s3
                .put(&object_name(self.id), text.into_bytes())
                .await
                .map_err(|e| {
                    AppError::new(
                        ErrorCode::Unavailable,
                        format!("the attachment could not be stored: {e}"),
                    )
                })?,
        }
        append(
            &mut ws,
            self.id,
            KIND,
            s.jurisdiction_id,
            0,
            None,
            &actor.as_ref(),
            now,
            vec![Item::new("attachment_added", &a, None)],
        );
        ws.rows.push(Row::Record(RecordWrite::Put {
            id: self.id,
            kind: KIND,
            jurisdiction_id: s.jurisdiction_id,
            jurisdiction_path: s.path.clone(),
            subject_id: Some(q.subject_id),
            status: if personal { "personal" } else { "open" }.into(),
            due_at: None,
            updated_at: fmt_ts(now),
            body: serde_json::to_string(&a).map_err(AppError::internal)?,
        }));
        Ok(Decided::new(auth, ws, a))
    }

    fn respond(&self, out: &Attachment) -> JsonText {
        JsonText::of(out)
    }
}

/// The attachments of a record, oldest first.
pub async fn of_subject(
    app: &App,
    actor: &Actor,
    kind: &str,
    id: Uuid,
) -> Result<Vec<Attachment>, AppError> {
    let s = subject(app, kind, id).await?;
    app.require(actor, s.view, &s.path, s.kind)?;
    crate::records::of_subject(app, id, KIND).await
}

/// An attachment and its bytes, for whoever may read it (a personal one: whoever may handle
/// its record, the download logged as a disclosure). The bytes must match the recorded hash.
pub async fn download(
    app: &App,
    actor: &Actor,
    id: Uuid,
) -> Result<(Attachment, Vec<u8>), AppError> {
    let rec = app
        .store
        .get_record(KIND, id)
        .await?
        .ok_or_else(|| AppError::not_found("attachment"))?;
    let a: Attachment = serde_json::from_str(&rec.body).map_err(AppError::internal)?;
    let s = subject(app, &a.subject_kind, a.subject_id).await?;
    app.require(actor, s.view, &s.path, "attachment")?;
    if a.personal {
        app.require(actor, s.handle, &s.path, "attachment")?;
    }
    // A file kept on disk is read from there; one restored from a backup (which carries the
    // files as rows of `attachment_blobs`, into either backend) is read from the database.
    let on_disk = match (&app.attachments.storage, a.storage.as_str()) {
        (Storage::Disk(dir), "disk") => match std::fs::read_to_string(disk_path(dir, id)) {
            Ok(t) => Some(t),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(AppError::internal(e)),
        },
        (Storage::S3(s3), "s3") => {
            let bytes = s3.get(&object_name(id)).await.map_err(|e| {
                AppError::new(
                    ErrorCode::Unavailable,
                    format!("the attachment could not be read: {e}"),
                )
            })?;
            match bytes {
                Some(b) => Some(String::from_utf8(b).map_err(AppError::internal)?),
                None => None,
            }
        }
        _ => None,
    };
    let text = match on_disk {
        Some(t) => t,
        None => app
            .store
            .attachment_blob(id)
            .await?
            .ok_or_else(|| match a.storage.as_str() {
                // Kept in an object store this server is not configured for.
                "s3" if !matches!(app.attachments.storage, Storage::S3(_)) => AppError::new(
                    ErrorCode::Unavailable,
                    format!(
                        "attachment {id} is kept in an S3-compatible object store; start the server with --attachment-store s3 and that store's settings"
                    ),
                ),
                _ => AppError::internal("the attachment's bytes are missing"),
            })?,
    };
    let b64 = if let Some(b) = text.strip_prefix("b64:") {
        b.to_string()
    } else if crate::subjects::is_sealed(&text) {
        let row = match s.key_kind() {
            Some(kind) => app.store.subject_key(kind, a.subject_id).await?,
            None => None,
        };
        let Some(key) = crate::subjects::unwrap_row(app, row.as_ref())? else {
            return Err(AppError::new(
                ErrorCode::AttachmentErased,
                format!(
                    "attachment {id} was personal data of {} {}, erased by `yingji purge`: it can no longer be opened",
                    a.subject_kind, a.subject_id
                ),
            ));
        };
        key.open(&text, &aad(id))
            .map_err(|e| AppError::internal(format!("the attachment does not open: {e}")))?
    } else {
        app.sealer
            .open(&text, &aad(id))
            .map_err(|e| AppError::internal(format!("the attachment does not open: {e}")))?
    };
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64.as_bytes())
        .map_err(AppError::internal)?;
    if hex::encode(Sha256::digest(&bytes)) != a.sha256 {
        return Err(AppError::internal(
            "the attachment's bytes do not match their recorded hash",
        ));
    }
    if a.personal {
        crate::trust::log_disclosure(
            app,
            actor,
            "attachment",
            id,
            a.jurisdiction_id,
            "file",
            &format!("下载附件 {}", a.file_name),
        )
        .await?;
    }
    Ok((a, bytes))
}
