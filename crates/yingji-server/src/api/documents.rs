//! Documents and statistics files: a .docx issued from an incident or a case (each issue a
//! command: the timeline records it), and the statistics as JSON, .xlsx and CSV.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use uuid::Uuid;
use yingji_app::cases::{self as app_cases, CaseStats, StatsQuery};
use yingji_app::documents::{DOCX, DocumentRequest, IssueCaseDocument, IssueIncidentDocument};
use yingji_app::statistics::{self, IncidentStats, PeriodQuery, ReportStats, ScreeningStats};
use yingji_app::{Actor as AppActor, ErrorBody, ErrorCode};
use yingji_docs::xlsx::Cell;

use crate::AppState;
use crate::auth::Actor;
use crate::error::{ApiError, JsonBody};
use crate::exports::{self, CASE_BY, INCIDENT_BY, XLSX};
use crate::pages::Lang;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/incidents/{id}/documents", post(incident_document))
        .route("/cases/{id}/documents", post(case_document))
        .route("/statistics/incidents", get(incident_stats))
        .route("/statistics/incidents.xlsx", get(incident_xlsx))
        .route("/statistics/incidents.csv", get(incident_csv))
        .route("/statistics/cases.xlsx", get(case_xlsx))
        .route("/statistics/cases.csv", get(case_csv))
        .route("/statistics/screening", get(screening_stats))
        .route("/statistics/screening.xlsx", get(screening_xlsx))
        .route("/statistics/screening.csv", get(screening_csv))
        .route("/statistics/reports", get(report_stats))
        .route("/statistics/reports.xlsx", get(report_xlsx))
        .route("/statistics/reports.csv", get(report_csv))
}

/// A file download: its bytes, media type and name (RFC 6266/5987 encoded).
pub fn file_response(
    status: StatusCode,
    media: &str,
    filename: &str,
    bytes: Vec<u8>,
    extra: &[(&'static str, String)],
) -> Response {
    let mut resp = (status, bytes).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(media)
            .unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    let ascii: String = filename
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || ".-_".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = form_urlencoded::byte_serialize(filename.as_bytes()).collect();
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=\"{ascii}\"; filename*=UTF-8''{}",
        encoded.replace('+', "%20")
    )) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    for (k, v) in extra {
        if let Ok(v) = HeaderValue::from_str(v) {
            h.insert(*k, v);
        }
    }
    resp
}

/// Runs an issue command and answers the file (never replayed: each call issues a document).
async fn issue<C>(state: &AppState, actor: &AppActor, cmd: C) -> Result<Response, ApiError>
where
    C: yingji_app::Command<Output = yingji_app::documents::IssuedFile>,
{
    let out = state
        .execute(actor, None, &cmd)
        .await?
        .output()
        .ok_or_else(|| ApiError::internal("a document was replayed"))?;
    let d = &out.document;
    Ok(file_response(
        StatusCode::CREATED,
        DOCX,
        &out.filename,
        out.bytes,
        &[
            ("x-document-id", d.id.to_string()),
            ("x-document-sha256", d.sha256.clone()),
            ("x-document-number", {
                let n: String = form_urlencoded::byte_serialize(d.number.as_bytes()).collect();
                n
            }),
        ],
    ))
}

#[utoipa::path(post, path = "/api/v1/incidents/{id}/documents", tag = "documents",
    params(("id" = Uuid, Path)), request_body = DocumentRequest,
    responses((status = 201, description = "the .docx (Content-Disposition names it; X-Document-Sha256 is the hash the timeline's `document_issued` event records). Every call issues a new document: no Idempotency-Key replay",
               content_type = "application/vnd.openxmlformats-officedocument.wordprocessingml.document", body = Vec<u8>),
              (status = 409, description = "document_not_ready: no review yet, or the upward report not submitted", body = ErrorBody),
              (status = 422, description = "invalid_field (kind), missing_field (report_id), not_found (report_id)", body = ErrorBody)))]
pub async fn incident_document(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    body: JsonBody<DocumentRequest>,
) -> Result<Response, ApiError> {
    issue(
        &state,
        &actor,
        IssueIncidentDocument {
            id,
            request: body.value,
        },
    )
    .await
}

#[utoipa::path(post, path = "/api/v1/cases/{id}/documents", tag = "documents",
    params(("id" = Uuid, Path)), request_body = DocumentRequest,
    responses((status = 201, description = "the .docx: a written reply (处理意见书), an extension notice or a referral notice. Every call issues a new document: no Idempotency-Key replay",
               content_type = "application/vnd.openxmlformats-officedocument.wordprocessingml.document", body = Vec<u8>),
              (status = 409, description = "document_not_ready: no reply, no approved extension or no routing yet", body = ErrorBody),
              (status = 422, description = "invalid_field (kind, report_id)", body = ErrorBody)))]
pub async fn case_document(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    body: JsonBody<DocumentRequest>,
) -> Result<Response, ApiError> {
    issue(
        &state,
        &actor,
        IssueCaseDocument {
            id,
            request: body.value,
        },
    )
    .await
}

/// A statistics file's query: the period, the jurisdiction, the grouping (CSV) and the
/// language of the headers.
#[derive(Debug, Clone, Deserialize)]
pub struct ExportQuery {
    pub jurisdiction_id: Option<Uuid>,
    pub year: i16,
    pub quarter: Option<u8>,
    pub by: Option<String>,
    pub lang: Option<String>,
}

impl ExportQuery {
    fn period(&self) -> PeriodQuery {
        PeriodQuery {
            jurisdiction_id: self.jurisdiction_id,
            year: self.year,
            quarter: self.quarter,
        }
    }

    fn lang(&self) -> &'static Lang {
        self.lang
            .as_deref()
            .and_then(Lang::by_code)
            .unwrap_or_else(Lang::default_lang)
    }

    fn by(&self, allowed: &[&str], default: &str) -> Result<String, ApiError> {
        let by = self.by.clone().unwrap_or_else(|| default.to_string());
        if allowed.contains(&by.as_str()) {
            Ok(by)
        } else {
            Err(ApiError::new(
                ErrorCode::InvalidQuery,
                format!("`by` must be one of: {}", allowed.join(", ")),
            ))
        }
    }
}

fn query<T>(q: Result<Query<T>, axum::extract::rejection::QueryRejection>) -> Result<T, ApiError> {
    q.map(|Query(q)| q)
        .map_err(|e| ApiError::new(ErrorCode::InvalidQuery, e.body_text()))
}

fn now_text(state: &AppState) -> String {
    state
        .clock
        .now()
        .to_zoned(statistics::zone())
        .strftime("%Y-%m-%d %H:%M")
        .to_string()
}

fn period_text(l: &Lang, year: i16, quarter: Option<u8>) -> String {
    match quarter {
        Some(q) => l.f2("stats.period_quarter", year, q),
        None => l.f1("stats.period_year", year),
    }
}

fn csv_response(name: &str, rows: &[Vec<Cell>]) -> Response {
    file_response(
        StatusCode::OK,
        "text/csv; charset=utf-8",
        name,
        yingji_docs::csv::write(rows).into_bytes(),
        &[],
    )
}

/// The case statistics of every grouping (the workbook's sheets, the page's tables).
pub async fn case_groupings(
    state: &AppState,
    actor: &AppActor,
    q: &PeriodQuery,
) -> Result<Vec<CaseStats>, ApiError> {
    let mut out = vec![];
    for by in CASE_BY {
        out.push(
            app_cases::stats(
                state,
                actor,
                &StatsQuery {
                    jurisdiction_id: q.jurisdiction_id,
                    year: q.year,
                    quarter: q.quarter,
                    by: Some(by.to_string()),
                },
            )
            .await?,
        );
    }
    Ok(out)
}

/// The name of the jurisdiction statistics are asked for (the actor's own by default).
async fn scope_name(
    state: &AppState,
    actor: &AppActor,
    id: Option<Uuid>,
) -> Result<String, ApiError> {
    let id = id.unwrap_or(actor.jurisdiction_id);
    Ok(state
        .scoped_jurisdiction(actor, id, "jurisdiction")
        .await?
        .name)
}

#[utoipa::path(get, path = "/api/v1/statistics/incidents", tag = "statistics",
    params(("jurisdiction_id" = Option<Uuid>, Query, description = "this jurisdiction and below (default: the actor's)"),
           ("year" = i32, Query), ("quarter" = Option<u8>, Query, description = "1–4; omit for the year")),
    responses((status = 200, description = "incidents reported in the period by level, month, jurisdiction and type (drills and escalation records left out)", body = IncidentStats)))]
pub async fn incident_stats(
    State(state): State<AppState>,
    actor: Actor,
    q: Result<Query<PeriodQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<axum::Json<IncidentStats>, ApiError> {
    let q = query(q)?;
    Ok(axum::Json(statistics::incidents(&state, &actor, &q).await?))
}

#[utoipa::path(get, path = "/api/v1/statistics/incidents.xlsx", tag = "statistics",
    params(("jurisdiction_id" = Option<Uuid>, Query), ("year" = i32, Query), ("quarter" = Option<u8>, Query),
           ("lang" = Option<String>, Query, description = "zh-CN (default) or en: the headers' language")),
    responses((status = 200, description = "the incident statistics workbook: an about sheet (period, scope, source, definitions) and one sheet per grouping",
               content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = Vec<u8>)))]
pub async fn incident_xlsx(
    State(state): State<AppState>,
    actor: Actor,
    q: Result<Query<ExportQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let q = query(q)?;
    let s = statistics::incidents(&state, &actor, &q.period()).await?;
    let wb = exports::incident_workbook(q.lang(), &s, &now_text(&state));
    Ok(file_response(
        StatusCode::OK,
        XLSX,
        &format!("incidents-{}.xlsx", s.period),
        wb.to_bytes(),
        &[],
    ))
}

#[utoipa::path(get, path = "/api/v1/statistics/incidents.csv", tag = "statistics",
    params(("jurisdiction_id" = Option<Uuid>, Query), ("year" = i32, Query), ("quarter" = Option<u8>, Query),
           ("by" = Option<String>, Query, description = "level, month (default), jurisdiction or kind"),
           ("lang" = Option<String>, Query)),
    responses((status = 200, description = "one grouping as CSV (UTF-8 with a byte-order mark, a header row, a total row)", content_type = "text/csv", body = String)))]
pub async fn incident_csv(
    State(state): State<AppState>,
    actor: Actor,
    q: Result<Query<ExportQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let q = query(q)?;
    let by = q.by(INCIDENT_BY, "month")?;
    let s = statistics::incidents(&state, &actor, &q.period()).await?;
    Ok(csv_response(
        &format!("incidents-{}-{by}.csv", s.period),
        &exports::incident_rows(q.lang(), &s, &by),
    ))
}

#[utoipa::path(get, path = "/api/v1/statistics/cases.xlsx", tag = "statistics",
    params(("jurisdiction_id" = Option<Uuid>, Query), ("year" = i32, Query), ("quarter" = Option<u8>, Query),
           ("lang" = Option<String>, Query, description = "zh-CN (default) or en: the headers' language")),
    responses((status = 200, description = "the petition statistics workbook (004-C 第十条): an about sheet and one sheet per grouping (total, jurisdiction, department, category, channel)",
               content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = Vec<u8>)))]
pub async fn case_xlsx(
    State(state): State<AppState>,
    actor: Actor,
    q: Result<Query<ExportQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let q = query(q)?;
    let p = q.period();
    p.days()?;
    let groupings = case_groupings(&state, &actor, &p).await?;
    let l = q.lang();
    let scope = scope_name(&state, &actor, q.jurisdiction_id).await?;
    let wb = exports::case_workbook(
        l,
        &period_text(l, q.year, q.quarter),
        &scope,
        &now_text(&state),
        &groupings,
    );
    Ok(file_response(
        StatusCode::OK,
        XLSX,
        &format!("cases-{}.xlsx", p.label()),
        wb.to_bytes(),
        &[],
    ))
}

#[utoipa::path(get, path = "/api/v1/statistics/cases.csv", tag = "statistics",
    params(("jurisdiction_id" = Option<Uuid>, Query), ("year" = i32, Query), ("quarter" = Option<u8>, Query),
           ("by" = Option<String>, Query, description = "total (default), jurisdiction, department, category or channel"),
           ("lang" = Option<String>, Query)),
    responses((status = 200, description = "one grouping of the petition statistics as CSV (UTF-8 with a byte-order mark)", content_type = "text/csv", body = String)))]
pub async fn case_csv(
    State(state): State<AppState>,
    actor: Actor,
    q: Result<Query<ExportQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let q = query(q)?;
    let by = q.by(CASE_BY, "total")?;
    let p = q.period();
    p.days()?;
    let s = app_cases::stats(
        &state,
        &actor,
        &StatsQuery {
            jurisdiction_id: q.jurisdiction_id,
            year: q.year,
            quarter: q.quarter,
            by: Some(by.clone()),
        },
    )
    .await?;
    Ok(csv_response(
        &format!("cases-{}-{by}.csv", p.label()),
        &exports::case_rows(q.lang(), &s),
    ))
}

#[utoipa::path(get, path = "/api/v1/statistics/screening", tag = "statistics",
    params(("jurisdiction_id" = Option<Uuid>, Query, description = "this jurisdiction and below (default: the actor's)"),
           ("year" = i32, Query), ("quarter" = Option<u8>, Query, description = "1–4; omit for the year")),
    responses((status = 200, description = "the screening rounds opened in the period: units owing a return, returned, nil, not returned, disputes found", body = ScreeningStats)))]
pub async fn screening_stats(
    State(state): State<AppState>,
    actor: Actor,
    q: Result<Query<PeriodQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<axum::Json<ScreeningStats>, ApiError> {
    let q = query(q)?;
    Ok(axum::Json(statistics::screening(&state, &actor, &q).await?))
}

#[utoipa::path(get, path = "/api/v1/statistics/screening.xlsx", tag = "statistics",
    params(("jurisdiction_id" = Option<Uuid>, Query), ("year" = i32, Query), ("quarter" = Option<u8>, Query),
           ("lang" = Option<String>, Query, description = "zh-CN (default) or en: the headers' language")),
    responses((status = 200, description = "the screening workbook: an about sheet and the rounds with a total row",
               content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = Vec<u8>)))]
pub async fn screening_xlsx(
    State(state): State<AppState>,
    actor: Actor,
    q: Result<Query<ExportQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let q = query(q)?;
    let s = statistics::screening(&state, &actor, &q.period()).await?;
    let wb = exports::screening_workbook(q.lang(), &s, &now_text(&state));
    Ok(file_response(
        StatusCode::OK,
        XLSX,
        &format!("screening-{}.xlsx", s.period),
        wb.to_bytes(),
        &[],
    ))
}

#[utoipa::path(get, path = "/api/v1/statistics/screening.csv", tag = "statistics",
    params(("jurisdiction_id" = Option<Uuid>, Query), ("year" = i32, Query), ("quarter" = Option<u8>, Query),
           ("lang" = Option<String>, Query)),
    responses((status = 200, description = "the screening rounds as CSV (UTF-8 with a byte-order mark, a total row)", content_type = "text/csv", body = String)))]
pub async fn screening_csv(
    State(state): State<AppState>,
    actor: Actor,
    q: Result<Query<ExportQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let q = query(q)?;
    let s = statistics::screening(&state, &actor, &q.period()).await?;
    Ok(csv_response(
        &format!("screening-{}.csv", s.period),
        &exports::screening_rows(q.lang(), &s),
    ))
}

#[utoipa::path(get, path = "/api/v1/statistics/reports", tag = "statistics",
    params(("jurisdiction_id" = Option<Uuid>, Query, description = "this jurisdiction and below (default: the actor's)"),
           ("year" = i32, Query), ("quarter" = Option<u8>, Query, description = "1–4; omit for the year")),
    responses((status = 200, description = "scheduled and nil reports of the period, day by day up to today: per plan, schedule and party the slots due, on time (nil among them), late and not returned", body = ReportStats)))]
pub async fn report_stats(
    State(state): State<AppState>,
    actor: Actor,
    q: Result<Query<PeriodQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<axum::Json<ReportStats>, ApiError> {
    let q = query(q)?;
    Ok(axum::Json(statistics::reports(&state, &actor, &q).await?))
}

#[utoipa::path(get, path = "/api/v1/statistics/reports.xlsx", tag = "statistics",
    params(("jurisdiction_id" = Option<Uuid>, Query), ("year" = i32, Query), ("quarter" = Option<u8>, Query),
           ("lang" = Option<String>, Query, description = "zh-CN (default) or en: the headers' language")),
    responses((status = 200, description = "the scheduled-report workbook: an about sheet and one row per plan, schedule and party with a total",
               content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = Vec<u8>)))]
pub async fn report_xlsx(
    State(state): State<AppState>,
    actor: Actor,
    q: Result<Query<ExportQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let q = query(q)?;
    let s = statistics::reports(&state, &actor, &q.period()).await?;
    let wb = exports::report_workbook(q.lang(), &s, &now_text(&state));
    Ok(file_response(
        StatusCode::OK,
        XLSX,
        &format!("reports-{}.xlsx", s.period),
        wb.to_bytes(),
        &[],
    ))
}

#[utoipa::path(get, path = "/api/v1/statistics/reports.csv", tag = "statistics",
    params(("jurisdiction_id" = Option<Uuid>, Query), ("year" = i32, Query), ("quarter" = Option<u8>, Query),
           ("lang" = Option<String>, Query)),
    responses((status = 200, description = "the scheduled reports as CSV (UTF-8 with a byte-order mark, a total row)", content_type = "text/csv", body = String)))]
pub async fn report_csv(
    State(state): State<AppState>,
    actor: Actor,
    q: Result<Query<ExportQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let q = query(q)?;
    let s = statistics::reports(&state, &actor, &q.period()).await?;
    Ok(csv_response(
        &format!("reports-{}.csv", s.period),
        &exports::report_rows(q.lang(), &s),
    ))
}
