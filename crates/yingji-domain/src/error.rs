//! Every error code yingji answers with, as one closed list.
//!
//! The API's envelope (`{"error":{"code","message","details"}}`), the console (whose message
//! catalogue has an `error.<code>` entry in every language for each), the CLI, `docs/api.md` and
//! the OpenAPI document all use this list; tests check that each code has its catalogue entries
//! and its line in `docs/api.md`. Each code has one HTTP status.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

macro_rules! codes {
    ($( $(#[doc = $doc:literal])* $variant:ident = $code:literal, $status:literal; )*) => {
        /// A stable snake_case error code.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum ErrorCode {
            $( $(#[doc = $doc])* $variant, )*
        }

        impl ErrorCode {
            /// Every code, in declaration order.
            pub const ALL: &'static [ErrorCode] = &[ $(ErrorCode::$variant),* ];

            /// The code as it appears in the envelope.
            pub fn as_str(self) -> &'static str {
                match self { $(ErrorCode::$variant => $code),* }
            }

            /// The HTTP status this code is answered with.
            pub fn status(self) -> u16 {
                match self { $(ErrorCode::$variant => $status),* }
            }

            /// What the code means, in English (for `docs/api.md` and the OpenAPI document).
            pub fn meaning(self) -> &'static str {
                match self { $(ErrorCode::$variant => concat!($($doc),*).trim_ascii()),* }
            }

            pub fn parse(s: &str) -> Option<ErrorCode> {
                match s { $($code => Some(ErrorCode::$variant),)* _ => None }
            }
        }
    };
}

codes! {
    // --- the request itself (400)
    /// The request could not be read (a malformed header, path or body).
    BadRequest = "bad_request", 400;
    /// The body could not be read (for example, not UTF-8 or cut short).
    InvalidBody = "invalid_body", 400;
    /// The body is not well-formed JSON; `details` give the line and column.
    MalformedJson = "malformed_json", 400;
    /// The JSON is well-formed but does not have the request's shape (an unknown key, a value of
    /// the wrong type); `details` give the line and column.
    InvalidRequest = "invalid_request", 400;
    /// A query parameter is not valid; the message names it.
    InvalidQuery = "invalid_query", 400;
    /// The console's form of a grave step (activating the plan's most severe level) was sent
    /// without its confirmation box ticked.
    ConfirmationRequired = "confirmation_required", 400;
    /// A path parameter is not valid (for example, not a UUID).
    InvalidPath = "invalid_path", 400;
    /// The Idempotency-Key header is empty, too long or not visible ASCII.
    InvalidIdempotencyKey = "invalid_idempotency_key", 400;
    /// A period (quarter, month) is not valid.
    InvalidPeriod = "invalid_period", 400;
    /// A state filter names no state.
    InvalidState = "invalid_state", 400;
    /// A person's channel address (a webhook or robot URL) points at an address outbound
    /// messages may not reach: loopback, private, link-local, metadata or another non-public
    /// range, or a name of the server itself, and the operator's `allow_destinations` does not
    /// allow it. `details`: `address`, `host`, `reason`.
    DestinationNotAllowed = "destination_not_allowed", 400;
    /// A form was posted without the page's current CSRF token.
    CsrfFailed = "csrf_failed", 403;

    // --- who is asking (401, 403, 429)
    /// No credential, or one that is not known or has ended.
    Unauthenticated = "unauthenticated", 401;
    /// The account has been disabled.
    AccountDisabled = "account_disabled", 401;
    /// The login or the password is wrong.
    InvalidCredentials = "invalid_credentials", 401;
    /// An acknowledgement link's signature does not check out, or the link has expired.
    BadSignature = "bad_signature", 401;
    /// Too many wrong passwords: the login is locked for a while.
    SignInLocked = "sign_in_locked", 429;
    /// Too many sign-in or intake requests from one address; retry after `Retry-After`
    /// seconds (`details.retry_after_s`).
    RateLimited = "rate_limited", 429;
    /// The actor holds no role with the permission this action needs in this jurisdiction;
    /// `details.permission` names it.
    Forbidden = "forbidden", 403;
    /// The step must be approved or decided by a post the plan or the rules name, which the
    /// actor does not hold.
    WrongApprover = "wrong_approver", 403;
    /// Only the person a coercive-step request names as approver may approve or refuse it; the
    /// requester never may.
    NotTheApprover = "not_the_approver", 403;
    /// The current password given to change it is wrong.
    WrongPassword = "wrong_password", 403;
    /// The actor is not among the people this call went to.
    NotARecipient = "not_a_recipient", 403;
    /// A report owed upward is submitted by the holders of its responsible post or of the
    /// level's commander posts; `details.posts` names them.
    NotReportOwner = "not_report_owner", 403;

    // --- what is addressed (404)
    /// No such record, or it lies outside the actor's jurisdiction (the two are not told apart).
    NotFound = "not_found", 404;
    /// The incident has no task with this id.
    UnknownTask = "unknown_task", 404;
    /// The incident has no commitment or reply with this id.
    UnknownObligation = "unknown_obligation", 404;
    /// The incident has no coercive-step request with this id.
    UnknownCoerciveRequest = "unknown_coercive_request", 404;
    /// The incident's review has no corrective action with this id.
    UnknownCorrectiveAction = "unknown_corrective_action", 404;
    /// The incident's calls have no call with this id.
    UnknownCall = "unknown_call", 404;
    /// The incident owes no report upward with this id.
    UnknownUpwardReport = "unknown_upward_report", 404;
    /// The HTTP method is not allowed on this path.
    MethodNotAllowed = "method_not_allowed", 405;

    // --- the state of the record (409)
    /// A concurrent change got there first; retry.
    Conflict = "conflict", 409;
    /// A request with the same Idempotency-Key is being handled.
    IdempotencyRace = "idempotency_race", 409;
    /// The action is not allowed in the record's current state; the message names both.
    IllegalTransition = "illegal_transition", 409;
    /// The coercive-step request has already been approved or refused.
    CoerciveAlreadyDecided = "coercive_already_decided", 409;
    /// The plan names a consultation (会商) before this coercive step and none is recorded yet.
    ConsultationRequired = "consultation_required", 409;
    /// The task's current state does not allow this action.
    IllegalTaskTransition = "illegal_task_transition", 409;
    /// The commitment, reply or corrective action is already fulfilled (done).
    AlreadyFulfilled = "already_fulfilled", 409;
    /// The incident has already been escalated to its parent.
    AlreadyEscalated = "already_escalated", 409;
    /// There is no re-grade proposal to accept or decline.
    NoRegradePending = "no_regrade_pending", 409;
    /// Tasks are still open; finish or cancel them first.
    OpenTasks = "open_tasks", 409;
    /// Commitments or replies are still owed; fulfil them first.
    OpenObligations = "open_obligations", 409;
    /// There is no warning to lift.
    NoWarning = "no_warning", 409;
    /// The call was already acknowledged.
    AlreadyAcknowledged = "already_acknowledged", 409;
    /// The approval chain is complete; there is nothing to approve.
    NothingToApprove = "nothing_to_approve", 409;
    /// The proposal must be approved along the whole chain first.
    NotApproved = "not_approved", 409;
    /// A reserve item has less on hand than a movement takes.
    InsufficientStock = "insufficient_stock", 409;
    /// An attachment is larger than the deployment allows.
    AttachmentTooLarge = "attachment_too_large", 413;
    /// An attachment's content is not of a type the deployment accepts.
    AttachmentType = "attachment_type", 415;
    /// A personal attachment whose record `yingji purge` erased: its key is destroyed.
    AttachmentErased = "attachment_erased", 410;
    /// The case has been extended once already.
    ExtensionAlreadyUsed = "extension_already_used", 409;
    /// An extension request is already waiting for a decision.
    ExtensionPending = "extension_pending", 409;
    /// There is no extension request to decide.
    NoExtensionPending = "no_extension_pending", 409;
    /// An extension is asked for and decided before the due date only.
    ExtensionAfterDue = "extension_after_due", 409;
    /// The dispute has already been reported upward.
    AlreadyReported = "already_reported", 409;
    /// This report or screening return is already in.
    AlreadySubmitted = "already_submitted", 409;
    /// A screening round for this period already exists.
    RoundExists = "round_exists", 409;
    /// The token is taken; choose another.
    TokenTaken = "token_taken", 409;
    /// The login is taken; choose another.
    LoginTaken = "login_taken", 409;
    /// An administrator cannot disable their own account.
    CannotDisableSelf = "cannot_disable_self", 409;
    /// The delivery is not dead (only dead deliveries are retried).
    DeliveryNotDead = "delivery_not_dead", 409;
    /// A plan with this id belongs to another jurisdiction.
    PlanOwnedElsewhere = "plan_owned_elsewhere", 409;
    /// The record does not have what the document reports yet (no review, no reply…).
    DocumentNotReady = "document_not_ready", 409;

    // --- the content (422)
    /// A required field is missing or empty; `details.field` names it.
    MissingField = "missing_field", 422;
    /// A field's value is not valid; `details.field` names it.
    InvalidField = "invalid_field", 422;
    /// A time is not an RFC 3339 time; `details.field` names it.
    InvalidTime = "invalid_time", 422;
    /// A petition's `received_at` is older than the configuration allows without a
    /// `backdate_reason`.
    ReceivedTooLongAgo = "received_too_long_ago", 422;
    /// A deadline is not after now.
    DeadlineInPast = "deadline_in_past", 422;
    /// A reason is required for this action.
    ReasonRequired = "reason_required", 422;
    /// A coercive step cannot be requested naming the requester as its approver.
    SelfApproval = "self_approval", 422;
    /// The report lacks an intake field the plan requires; `details.field` names it.
    MissingIntakeField = "missing_intake_field", 422;
    /// The report has an intake field the plan does not define.
    UnknownIntakeField = "unknown_intake_field", 422;
    /// An intake field's value does not match its type in the plan.
    InvalidIntakeField = "invalid_intake_field", 422;
    /// The plan has no level with this id.
    UnknownLevel = "unknown_level", 422;
    /// The incident has no level yet; assess it first.
    NoLevel = "no_level", 422;
    /// The plan does not name this (a post, a group, a behaviour…).
    NotInPlan = "not_in_plan", 422;
    /// The plan's list of coercive steps does not include this step.
    UnknownCoerciveStep = "unknown_coercive_step", 422;
    /// A written reply is recorded with the channel it was sent by.
    ChannelRequired = "channel_required", 422;
    /// The report kind is not `early_sign` or `event`.
    InvalidKind = "invalid_kind", 422;
    /// The plan is not loaded.
    UnknownPlan = "unknown_plan", 422;
    /// The plan belongs to a jurisdiction that is neither this one nor above it.
    PlanNotApplicable = "plan_not_applicable", 422;
    /// No version of the plan has taken effect yet (every version's `effective_on` is ahead).
    PlanNotInForce = "plan_not_in_force", 422;
    /// The plan file does not pass `plan check`; `details.diagnostics` lists why.
    PlanCheckFailed = "plan_check_failed", 422;
    /// The jurisdiction has no parent to escalate to.
    NoParent = "no_parent", 422;
    /// The jurisdiction is not below the actor's own.
    NotLowerJurisdiction = "not_lower_jurisdiction", 422;
    /// The person is not known in this jurisdiction.
    UnknownPerson = "unknown_person", 422;
    /// The role is not one of the configured roles.
    UnknownRole = "unknown_role", 422;
    /// A name is empty or too long.
    InvalidName = "invalid_name", 422;
    /// A login is not 3–64 letters, digits, `.`, `_` or `-`.
    InvalidLogin = "invalid_login", 422;
    /// A phone number is not a valid number.
    InvalidPhone = "invalid_phone", 422;
    /// A channel's address is not valid for the channel.
    InvalidAddress = "invalid_address", 422;
    /// The channel is not one of the configured channels.
    UnknownChannel = "unknown_channel", 422;
    /// The post is not valid here.
    InvalidPost = "invalid_post", 422;
    /// The password is too short or too long.
    WeakPassword = "weak_password", 422;
    /// The token is too short.
    WeakToken = "weak_token", 422;
    /// There is nothing to acknowledge (no call, or not addressed to the actor).
    NothingToAcknowledge = "nothing_to_acknowledge", 422;
    /// The Idempotency-Key was already used for a different request.
    IdempotencyKeyReused = "idempotency_key_reused", 422;
    /// The case type is not configured.
    UnknownCaseType = "unknown_case_type", 422;
    /// The topic (category) is not configured.
    UnknownTopic = "unknown_topic", 422;
    /// A petition by one person has exactly one petitioner; choose collective for several.
    SingleOnePetitioner = "single_one_petitioner", 422;
    /// A collective petition names its representatives (at least two).
    CollectiveNeedsRepresentatives = "collective_needs_representatives", 422;
    /// The petitioner is not on this case.
    UnknownPetitioner = "unknown_petitioner", 422;
    /// The case is not known (or not visible) for linking.
    UnknownCase = "unknown_case", 422;
    /// The incident is not known (or not visible) for linking.
    UnknownIncident = "unknown_incident", 422;
    /// A case cannot be linked to itself.
    SelfLink = "self_link", 422;
    /// The extension asked for is longer than the rules allow; `details` give both.
    ExtensionTooLong = "extension_too_long", 422;
    /// An extension is at least one day.
    ExtensionTooShort = "extension_too_short", 422;
    /// A reply date is before the case was accepted or after today.
    InvalidReplyDate = "invalid_reply_date", 422;
    /// The dispute is not major enough to be reported upward.
    NotMajor = "not_major", 422;
    /// No screening round is open for this period.
    UnknownRound = "unknown_round", 422;
    /// The schedule has no slot at this time.
    UnknownSlot = "unknown_slot", 422;
    /// The actor's post or unit does not owe this report.
    NotOwed = "not_owed", 422;
    /// This schedule does not accept a nil report.
    NilNotAllowed = "nil_not_allowed", 422;
    /// A time zone is not known.
    InvalidTimeZone = "invalid_time_zone", 422;
    /// A duty roster names no shift.
    RosterWithoutShift = "roster_without_shift", 422;
    /// Two shifts of a roster share a name.
    DuplicateShift = "duplicate_shift", 422;
    /// A rotation names no one.
    EmptyRotation = "empty_rotation", 422;
    /// Overrides must be in time order without overlaps.
    OverrideOrder = "override_order", 422;
    /// An override or swap names a shift the roster does not have.
    UnknownShift = "unknown_shift", 422;
    /// The value is not valid; the message says why.
    Invalid = "invalid", 422;

    // --- limits and the server (408, 413, 415, 500, 503)
    /// The request took too long.
    RequestTimeout = "request_timeout", 408;
    /// The body is larger than the limit.
    PayloadTooLarge = "payload_too_large", 413;
    /// The body is not sent as `application/json`.
    UnsupportedMediaType = "unsupported_media_type", 415;
    /// An internal error; it has been logged with its cause.
    Internal = "internal", 500;
    /// A stored value is sealed with a data key that is not in the key ring; the message names
    /// the key id (`details.key_id`). An operator adds the key (docs/security.md).
    DataKeyMissing = "data_key_missing", 500;
    /// The server cannot serve the request now (storage unavailable); retry later.
    Unavailable = "unavailable", 503;
}

impl Serialize for ErrorCode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ErrorCode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        ErrorCode::parse(&s)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown error code `{s}`")))
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The OpenAPI schema: a string enum of every code, generated from [`ErrorCode::ALL`] (so the
/// document can never miss one), with each code's status and meaning in the description.
#[cfg(feature = "schema")]
impl utoipa::PartialSchema for ErrorCode {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        let mut description =
            String::from("A stable snake_case error code. Each code has one HTTP status:\n");
        for c in ErrorCode::ALL {
            description.push_str(&format!(
                "\n- `{}` ({}): {}",
                c.as_str(),
                c.status(),
                c.meaning().split_whitespace().collect::<Vec<_>>().join(" ")
            ));
        }
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(ErrorCode::ALL.iter().map(|c| c.as_str())))
            .description(Some(description))
            .into()
    }
}

#[cfg(feature = "schema")]
impl utoipa::ToSchema for ErrorCode {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_snake_case_and_round_trip() {
        let mut seen = std::collections::HashSet::new();
        for c in ErrorCode::ALL {
            assert!(seen.insert(c.as_str()), "{} twice", c.as_str());
            assert!(
                c.as_str()
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b == b'_' || b.is_ascii_digit()),
                "{}",
                c.as_str()
            );
            assert_eq!(ErrorCode::parse(c.as_str()), Some(*c));
            assert!(!c.meaning().is_empty(), "{} has no meaning", c.as_str());
            assert!((400..600).contains(&c.status()));
        }
    }
}
