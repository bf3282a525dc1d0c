//! The OpenAPI document, served at `/api/v1/openapi.json`.

use axum::response::IntoResponse;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::{cases, directory, disputes, incidents, notify_api, plans, reports, trust};

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

#[derive(OpenApi)]
#[openapi(
    info(
        title = "yingji API",
        description = "Emergency plans run as data: incidents, tasks, plans and the directory; petition cases with statutory clocks, dispute screening and scheduled reports. Every request carries `Authorization: Bearer <token>` (an API token) or the session cookie from `POST /api/v1/session` plus, on changes, the session's `X-CSRF-Token`. Roles granted per jurisdiction subtree decide what an actor may do: outside their subtree everything is 404, inside it a missing role is 403 `forbidden`. Errors use one envelope: {\"error\":{\"code\",\"message\",\"details\"}} with stable snake_case codes. Creates and commands accept an `Idempotency-Key` header.",
        version = "1"
    ),
    modifiers(&Security),
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
        trust::audit_verify,
        cases::create_case,
        cases::list_cases,
        cases::get_case,
        cases::case_timeline,
        cases::case_action,
        cases::case_stats,
        cases::reveal_petitioner,
        disputes::open_round,
        disputes::get_round,
        disputes::submit_round,
        disputes::create_dispute,
        disputes::list_disputes,
        disputes::get_dispute,
        disputes::dispute_action,
        reports::report_board,
        reports::submit_report,
        notify_api::incident_calls,
        notify_api::ack_call,
        notify_api::inbox,
        notify_api::ack_inbox,
        notify_api::list_deliveries,
        notify_api::retry_delivery,
        notify_api::sms_inbound,
        notify_api::put_channels,
        notify_api::get_channels,
        notify_api::put_roster,
        notify_api::list_rosters,
        notify_api::resolve_post,
        notify_api::gaps,
    ),
    components(schemas(
        yingji_app::incidents::NewIncidentRequest,
        yingji_app::incidents::ActionRequest,
        yingji_app::incidents::AttachmentRequest,
        yingji_app::incidents::CorrectiveActionRequest,
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
        plans::UploadPlanRequest,
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
        yingji_app::trust::BrokenLink,
        cases::NewCaseRequest,
        cases::CaseActionRequest,
        cases::CaseRevealRequest,
        disputes::OpenRoundRequest,
        disputes::RoundSubmissionRequest,
        disputes::NewDisputeRequest,
        disputes::DisputeActionRequest,
        reports::ReportSubmissionRequest,
        notify_api::SmsReply,
        notify_api::ChannelEntry,
        notify_api::ChannelsRequest,
    ))
)]
pub struct ApiDoc;

pub async fn openapi_json() -> impl IntoResponse {
    axum::Json(ApiDoc::openapi())
}
