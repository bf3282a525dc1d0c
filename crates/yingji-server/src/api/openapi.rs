//! The OpenAPI document, served at `/api/v1/openapi.json`.

use axum::response::IntoResponse;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
use utoipa::{Modify, OpenApi, ToSchema};
use yingji_app::ErrorBody;

use crate::api::{
    attachments, cases, directory, disputes, documents, drills, followups, incidents, notify,
    plans, releases, reports, representatives, reserves, trust,
};

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The error answers any operation can give for reasons that are not its own: each is the
/// `ErrorBody` envelope. An operation's annotation names the statuses it answers for its own
/// reasons (with the codes in the description); these fill in the rest, so that every status the
/// server can answer is documented with its schema.
struct ErrorResponses;

impl ErrorResponses {
    /// Every operation: the request could not be read, no credential, no permission, not found
    /// or out of scope, the server failed.
    const ALWAYS: &[(&str, &str)] = &[
        (
            "400",
            "the request could not be read: a path or query parameter, a header or the body (bad_request, invalid_path, invalid_query, invalid_idempotency_key, malformed_json, invalid_request…)",
        ),
        (
            "401",
            "no credential, or one that is unknown, expired or of a disabled account (unauthenticated, account_disabled)",
        ),
        (
            "403",
            "the actor holds no role with the permission this needs here (forbidden; details.permission), or a session change without its CSRF token (csrf_failed)",
        ),
        (
            "404",
            "not found, or outside the actor's jurisdiction (the two are not told apart)",
        ),
        ("500", "internal: logged with its cause on the server"),
        ("503", "unavailable: storage cannot be reached; retry later"),
    ];

    /// Operations that change something: a concurrent change or the same key in flight, and a
    /// key reused for another request.
    const CHANGES: &[(&str, &str)] = &[
        (
            "409",
            "a concurrent change got there first (conflict), or a request with the same Idempotency-Key is being handled (idempotency_race)",
        ),
        (
            "422",
            "a field is missing or not valid (missing_field, invalid_field…), or the Idempotency-Key was used for a different request (idempotency_key_reused)",
        ),
    ];

    /// Operations with a JSON body.
    const WITH_BODY: &[(&str, &str)] = &[
        (
            "413",
            "payload_too_large: the body is larger than the limit",
        ),
        (
            "415",
            "unsupported_media_type: the body is not sent as application/json",
        ),
    ];
}

impl Modify for ErrorResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let body = Ref::from_schema_name(ErrorBody::name());
        for item in openapi.paths.paths.values_mut() {
            let ops = [
                (&mut item.get, false),
                (&mut item.put, true),
                (&mut item.post, true),
                (&mut item.delete, true),
                (&mut item.patch, true),
            ];
            for (op, changes) in ops {
                let Some(op) = op else { continue };
                let mut add: Vec<(&str, &str)> = Self::ALWAYS.to_vec();
                if changes {
                    add.extend(Self::CHANGES);
                }
                if op.request_body.is_some() {
                    add.extend(Self::WITH_BODY);
                }
                for (status, description) in add {
                    op.responses
                        .responses
                        .entry(status.to_string())
                        .or_insert_with(|| {
                            RefOr::T(
                                ResponseBuilder::new()
                                    .description(description)
                                    .content(
                                        "application/json",
                                        ContentBuilder::new().schema(Some(body.clone())).build(),
                                    )
                                    .build(),
                            )
                        });
                }
            }
        }
    }
}

/// The path parameters that name an action or a decision list the names the server accepts
/// (from the application's own lists, so the document cannot drift from them).
struct ActionNames;

impl Modify for ActionNames {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        let incident: Vec<&str> = yingji_app::incidents::ACTIONS
            .iter()
            .copied()
            // The re-grade decisions have a route of their own.
            .filter(|a| !a.starts_with("regrade"))
            .collect();
        let names: &[(&str, &str, &[&str])] = &[
            ("incident_action", "action", &incident),
            (
                "regrade",
                "decision",
                yingji_app::incidents::REGRADE_DECISIONS,
            ),
            ("task_action", "action", yingji_app::incidents::TASK_ACTIONS),
            ("case_action", "action", yingji_app::cases::ACTIONS),
            ("dispute_action", "action", yingji_app::disputes::ACTIONS),
            ("release_action", "action", yingji_app::releases::ACTIONS),
        ];
        for item in openapi.paths.paths.values_mut() {
            let Some(op) = item.post.as_mut() else {
                continue;
            };
            for (id, param, values) in names {
                if op.operation_id.as_deref() != Some(*id) {
                    continue;
                }
                for p in op.parameters.iter_mut().flatten() {
                    if p.name == *param {
                        p.schema = Some(
                            ObjectBuilder::new()
                                .schema_type(Type::String)
                                .enum_values(Some(values.iter().copied()))
                                .into(),
                        );
                    }
                }
            }
        }
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "yingji API",
        description = "Emergency plans run as data: incidents, tasks, plans and the directory; petition cases with statutory clocks, dispute screening and scheduled reports. Every request carries `Authorization: Bearer <token>` (an API token) or the session cookie from `POST /api/v1/session` plus, on changes, the session's `X-CSRF-Token`. Roles granted per jurisdiction subtree decide what an actor may do: outside their subtree everything is 404, inside it a missing role is 403 `forbidden`. Errors use one envelope: {\"error\":{\"code\",\"message\",\"details\"}} with stable snake_case codes. Creates and commands accept an `Idempotency-Key` header.",
        version = "1"
    ),
    modifiers(&Security, &ErrorResponses, &ActionNames),
    security(("bearer" = [])),
    paths(
        incidents::create_incident,
        incidents::list_incidents,
        incidents::get_incident,
        incidents::get_timeline,
        incidents::get_proposal,
        incidents::incident_action,
        incidents::regrade,
        incidents::fulfil_obligation,
        incidents::decide_coercive_step,
        incidents::corrective_action,
        incidents::submit_upward_report,
        incidents::list_tasks,
        incidents::task_action,
        directory::me,
        directory::list_jurisdictions,
        directory::get_jurisdiction,
        directory::create_jurisdiction,
        directory::list_people,
        directory::create_person,
        directory::list_holders,
        directory::assign_holder,
        directory::remove_holder,
        plans::upload_plan,
        plans::list_plans,
        plans::get_plan,
        plans::get_plan_version,
        trust::sign_in,
        trust::sign_out,
        trust::change_password,
        trust::create_token,
        trust::list_tokens,
        trust::revoke_token,
        trust::set_account,
        trust::set_disabled,
        trust::list_grants,
        trust::change_grant,
        trust::reveal,
        trust::audit_disclosures,
        trust::audit_verify,
        cases::create_case,
        cases::list_cases,
        cases::get_case,
        cases::case_timeline,
        cases::case_action,
        cases::case_stats,
        cases::reveal_petitioner,
        documents::incident_document,
        documents::case_document,
        documents::incident_stats,
        documents::incident_xlsx,
        documents::incident_csv,
        documents::case_xlsx,
        documents::case_csv,
        documents::screening_stats,
        documents::screening_xlsx,
        documents::screening_csv,
        documents::report_stats,
        documents::report_xlsx,
        documents::report_csv,
        releases::draft_release,
        releases::release_action,
        releases::list_releases,
        releases::get_release,
        drills::start_drill,
        drills::stop_drill,
        drills::evaluate_drill,
        drills::list_drills,
        drills::drill_schedule,
        drills::revision_schedule,
        drills::get_drill,
        reserves::create_reserve,
        reserves::move_reserve,
        reserves::list_reserves,
        reserves::get_reserve,
        reserves::incident_reserves,
        reserves::create_team,
        reserves::set_readiness,
        reserves::list_teams,
        reserves::create_budget_line,
        reserves::spend,
        reserves::list_budget_lines,
        reserves::incident_spending,
        attachments::upload_attachment,
        attachments::list_attachments,
        attachments::download_attachment,
        followups::record_directive,
        representatives::record_representative,
        representatives::list_representatives,
        representatives::withdraw_representative,
        representatives::reveal_representative,
        followups::answer_directive,
        followups::list_directives,
        followups::record_sanction,
        followups::list_sanctions,
        disputes::open_round,
        disputes::get_round,
        disputes::submit_round,
        disputes::create_dispute,
        disputes::list_disputes,
        disputes::get_dispute,
        disputes::dispute_action,
        reports::report_board,
        reports::submit_report,
        reports::search,
        notify::incident_calls,
        notify::ack_call,
        notify::inbox,
        notify::ack_inbox,
        notify::list_deliveries,
        notify::retry_delivery,
        notify::sms_inbound,
        notify::put_channels,
        notify::get_channels,
        notify::put_roster,
        notify::list_rosters,
        notify::resolve_post,
        notify::gaps,
    ),
    components(schemas(
        yingji_app::ErrorBody,
        yingji_app::error::ErrorDetail,
        yingji_app::ErrorCode,
        yingji_app::incidents::NewIncidentRequest,
        yingji_app::incidents::ActionRequest,
        yingji_app::incidents::AttachmentRequest,
        yingji_app::incidents::CorrectiveActionRequest,
        yingji_app::incidents::UpwardReportRequest,
        yingji_app::directory::NewJurisdictionRequest,
        yingji_app::directory::NewPersonRequest,
        yingji_app::directory::AssignHolderRequest,
        yingji_app::directory::RevealRequest,
        yingji_app::directory::Jurisdiction,
        yingji_app::directory::JurisdictionList,
        yingji_app::directory::Person,
        yingji_app::directory::PersonList,
        yingji_app::directory::Holder,
        yingji_app::directory::HolderList,
        yingji_app::directory::HolderChange,
        yingji_app::directory::Me,
        yingji_app::directory::RevealResponse,
        yingji_app::accounts::SignInRequest,
        yingji_app::accounts::SignInResponse,
        yingji_app::accounts::SignedInActor,
        yingji_app::accounts::JurisdictionBrief,
        yingji_app::accounts::RoleRef,
        yingji_app::accounts::ChangePasswordRequest,
        yingji_app::accounts::NewTokenRequest,
        yingji_app::accounts::NewTokenResponse,
        yingji_app::accounts::TokenItem,
        yingji_app::accounts::TokenList,
        yingji_app::accounts::SetAccountRequest,
        yingji_app::accounts::ReasonRequest,
        yingji_app::accounts::GrantRequest,
        yingji_app::accounts::GrantList,
        yingji_app::trust::AuditReport,
        yingji_app::trust::DisclosureList,
        yingji_app::trust::Disclosure,
        yingji_app::trust::BrokenLink,
        yingji_app::incidents::IncidentList,
        yingji_app::incidents::IncidentListItem,
        yingji_app::incidents::IncidentTimeline,
        yingji_app::incidents::IncidentTimelineEvent,
        yingji_app::incidents::TaskList,
        yingji_app::incidents::TaskListItem,
        yingji_domain::incident::Incident,
        yingji_domain::incident::IncidentKind,
        yingji_domain::incident::Status,
        yingji_domain::incident::LevelRef,
        yingji_domain::incident::Proposal,
        yingji_domain::incident::Task,
        yingji_domain::incident::TaskState,
        yingji_domain::incident::Obligation,
        yingji_domain::incident::ObligationKind,
        yingji_domain::incident::Note,
        yingji_domain::incident::Attachment,
        yingji_domain::incident::CoerciveStepRecord,
        yingji_domain::incident::CoerciveState,
        yingji_domain::incident::ConsultationRecord,
        yingji_domain::incident::RegradeProposal,
        yingji_domain::incident::CorrectiveAction,
        yingji_domain::incident::UpwardReport,
        yingji_domain::incident::UpwardKind,
        yingji_domain::incident::PlanRevision,
        yingji_domain::incident::CloseReason,
        yingji_domain::incident::Review,
        yingji_domain::incident::Measured,
        yingji_domain::incident::TaskTiming,
        yingji_app::plans::UploadPlanRequest,
        yingji_app::plans::PlanVersion,
        yingji_app::plans::PlanList,
        yingji_app::cases::NewCaseRequest,
        yingji_app::cases::PetitionerRequest,
        yingji_app::cases::CaseActionRequest,
        yingji_app::cases::CaseRevealRequest,
        yingji_app::cases::CaseView,
        yingji_app::cases::CaseList,
        yingji_app::cases::CaseListItem,
        yingji_app::cases::CaseTimeline,
        yingji_app::cases::TimelineEvent,
        yingji_app::cases::TimelineActor,
        yingji_app::cases::CaseStats,
        yingji_app::documents::DocumentRequest,
        yingji_domain::document::IssuedDocument,
        yingji_app::statistics::IncidentStats,
        yingji_app::statistics::IncidentGroup,
        yingji_app::statistics::ScreeningStats,
        yingji_app::statistics::RoundLine,
        yingji_app::statistics::ReportStats,
        yingji_app::statistics::ReportLine,
        yingji_app::releases::DraftRequest,
        yingji_app::releases::DecisionRequest,
        yingji_domain::release::Release,
        yingji_domain::release::Status,
        yingji_domain::release::ReleaseKind,
        yingji_app::drills::StartRequest,
        yingji_app::drills::StopRequest,
        yingji_app::drills::EvaluateRequest,
        yingji_app::drills::DrillDuty,
        yingji_domain::drill::Drill,
        yingji_domain::drill::Status,
        yingji_domain::drill::Outcome,
        yingji_domain::drill::InjectState,
        yingji_domain::drill::Measure,
        yingji_domain::drill::Evaluation,
        yingji_app::reserves::NewItemRequest,
        yingji_app::reserves::MoveRequest,
        yingji_app::reserves::MovementLine,
        yingji_app::reserves::ItemView,
        yingji_domain::reserve::Item,
        yingji_domain::reserve::Kind,
        yingji_domain::reserve::MovementKind,
        yingji_domain::reserve::Issued,
        yingji_app::attachments::Attachment,
        yingji_app::resources::Team,
        yingji_app::resources::TeamRequest,
        yingji_app::resources::ReadinessRequest,
        yingji_app::resources::BudgetLine,
        yingji_app::resources::BudgetRequest,
        yingji_app::resources::SpendRequest,
        yingji_app::resources::Spending,
        yingji_app::followups::DirectiveRequest,
        yingji_app::representatives::RepresentativeRequest,
        yingji_app::representatives::WithdrawRepresentativeRequest,
        yingji_app::representatives::RepresentativeRevealRequest,
        yingji_app::representatives::Representative,
        yingji_app::representatives::RepresentativeReveal,
        yingji_app::followups::FollowUpRequest,
        yingji_app::followups::AnswerRequest,
        yingji_app::followups::SanctionRequest,
        yingji_app::followups::Sanction,
        yingji_domain::followup::Directive,
        yingji_domain::followup::FollowUp,
        yingji_domain::followup::Kind,
        yingji_app::cases::StatsItem,
        yingji_app::cases::SatisfactionCounts,
        yingji_app::cases::RevealView,
        yingji_app::disputes::OpenRoundRequest,
        yingji_app::disputes::RoundOpened,
        yingji_app::disputes::RoundSubmissionRequest,
        yingji_app::disputes::RoundView,
        yingji_app::disputes::UnitReturn,
        yingji_app::disputes::ReturnState,
        yingji_app::disputes::NewDisputeRequest,
        yingji_app::disputes::DisputeActionRequest,
        yingji_app::disputes::DisputeList,
        yingji_domain::dispute::Dispute,
        yingji_domain::dispute::Party,
        yingji_domain::dispute::Risk,
        yingji_domain::dispute::Status,
        yingji_app::reports::ReportSubmissionRequest,
        yingji_app::reports::ReportSubmitted,
        yingji_app::reports::Board,
        reports::SearchResults,
        yingji_app::search::Hit,
        yingji_domain::reports::BoardRow,
        yingji_domain::reports::BoardState,
        yingji_app::notify::SmsReply,
        yingji_app::notify::SmsAnswer,
        yingji_app::notify::ChannelEntry,
        yingji_app::notify::ChannelsRequest,
        yingji_app::notify::ChannelView,
        yingji_app::notify::PersonChannels,
        yingji_app::notify::CallView,
        yingji_app::notify::IncidentCalls,
        yingji_app::notify::AckAnswer,
        yingji_app::notify::InboxMessage,
        yingji_app::notify::Inbox,
        yingji_app::notify::InboxPush,
        yingji_app::notify::DeliveryView,
        yingji_app::notify::DeliveryList,
        yingji_app::notify::Retried,
        yingji_app::notify::RosterList,
        yingji_app::notify::Resolution,
        yingji_app::notify::GapItem,
        yingji_app::notify::Gaps,
        yingji_domain::PersonRef,
        yingji_domain::ActorRef,
        yingji_domain::callout::Call,
        yingji_domain::callout::Recipient,
        yingji_domain::callout::Policy,
        yingji_domain::callout::Step,
        yingji_domain::callout::Target,
        yingji_domain::roster::Roster,
        yingji_domain::roster::Shift,
        yingji_domain::roster::Override,
        yingji_domain::roster::Swap,
        yingji_domain::roster::Slot,
        yingji_domain::roster::Resolved,
        yingji_domain::roster::Via,
    ))
)]
pub struct ApiDoc;

pub async fn openapi_json() -> impl IntoResponse {
    axum::Json(ApiDoc::openapi())
}
