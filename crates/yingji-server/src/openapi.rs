//! The OpenAPI document, served at `/api/v1/openapi.json`.

use axum::response::IntoResponse;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::{directory, incidents, notify_api, plans};

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
        description = "Emergency plans run as data: incidents, tasks, plans and the directory. Every request carries `Authorization: Bearer <token>`. Errors use one envelope: {\"error\":{\"code\",\"message\",\"details\"}} with stable snake_case codes. Creates and commands accept an `Idempotency-Key` header.",
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
        plans::upload_plan,
        plans::list_plans,
        plans::get_plan,
        plans::get_plan_version,
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
        incidents::NewIncidentRequest,
        incidents::ActionRequest,
        incidents::AttachmentRequest,
        incidents::CorrectiveActionRequest,
        directory::NewJurisdictionRequest,
        directory::NewPersonRequest,
        directory::AssignHolderRequest,
        plans::UploadPlanRequest,
        notify_api::SmsReply,
        notify_api::ChannelEntry,
        notify_api::ChannelsRequest,
    ))
)]
pub struct ApiDoc;

pub async fn openapi_json() -> impl IntoResponse {
    axum::Json(ApiDoc::openapi())
}
