//! Trust policy, pure: what an actor may do (permissions), the roles that bundle them (the
//! defaults; a deployment may configure its own), and the one rule that decides whether an
//! actor's grants allow a permission in a jurisdiction. The application layer applies it to
//! every command and page; nothing here touches storage.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

/// What an actor may do. Roles are sets of these (configurable); a role is granted in a
/// jurisdiction and applies to it and everything below it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    ViewIncidents,
    ReportIncident,
    UpdateIncident,
    /// Verify, assess, warn, activate, escalate, re-grade, record obligations.
    HandleIncident,
    EndResponse,
    RecordCoerciveStep,
    ReviewIncident,
    WorkTasks,
    ViewPlans,
    UploadPlans,
    ViewDirectory,
    ManageDirectory,
    ManageUsers,
    RevealPersonalData,
    ReadAudit,
    /// Read petition cases, their timelines and statistics (personal data masked).
    ViewCases,
    /// Register a petition case.
    RegisterCase,
    /// Work a case: classify, propose, route, assign a leader, ask for an extension, reply,
    /// follow up, link.
    HandleCase,
    /// Sign an approval of the proposal or decide an extension. The domain also requires the
    /// post the rules name (or, for a referred case, the referring body).
    ApproveCase,
    /// Read screening rounds and disputes.
    ViewDisputes,
    /// Open screening rounds, submit for a unit, register and work disputes.
    ScreenDisputes,
    /// Read the scheduled-report board.
    ViewReports,
    /// Submit a scheduled report (the plan must also name the submitter's post or unit).
    SubmitReports,
    /// Read calls, deliveries, rosters, who holds a post, gaps and other people's channels.
    ViewCalls,
    /// Retry dead deliveries, set duty rosters and other people's channels.
    ManageNotifications,
    /// Read a colleague's phone in clear to call them (the duty directory); each read is
    /// logged with the reason, as every reveal is.
    CallPeople,
}

impl Permission {
    pub const ALL: &[Permission] = &[
        Permission::ViewIncidents,
        Permission::ReportIncident,
        Permission::UpdateIncident,
        Permission::HandleIncident,
        Permission::EndResponse,
        Permission::RecordCoerciveStep,
        Permission::ReviewIncident,
        Permission::WorkTasks,
        Permission::ViewPlans,
        Permission::UploadPlans,
        Permission::ViewDirectory,
        Permission::ManageDirectory,
        Permission::ManageUsers,
        Permission::RevealPersonalData,
        Permission::ReadAudit,
        Permission::ViewCases,
        Permission::RegisterCase,
        Permission::HandleCase,
        Permission::ApproveCase,
        Permission::ViewDisputes,
        Permission::ScreenDisputes,
        Permission::ViewReports,
        Permission::SubmitReports,
        Permission::ViewCalls,
        Permission::ManageNotifications,
        Permission::CallPeople,
    ];

    pub fn id(self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    }
}

/// Role id → the permissions it grants.
pub type Roles = BTreeMap<String, BTreeSet<Permission>>;

/// Whether a record in the jurisdiction at `path` is inside the scope at `scope_path` (the
/// scope's jurisdiction or one below it).
pub fn in_scope(scope_path: &str, path: &str) -> bool {
    path.starts_with(scope_path)
}

/// Whether one of `grants` — (role, path of the jurisdiction it is granted in) — allows `p`
/// in the jurisdiction at `path`: a role granted in that jurisdiction or above it whose
/// permissions include `p`.
pub fn allows<'a>(
    roles: &Roles,
    grants: impl IntoIterator<Item = (&'a str, &'a str)>,
    p: Permission,
    path: &str,
) -> bool {
    grants.into_iter().any(|(role, granted_at)| {
        in_scope(granted_at, path) && roles.get(role).is_some_and(|ps| ps.contains(&p))
    })
}

/// The roles yingji ships with (a trust file may replace them).
pub fn default_roles() -> Roles {
    use Permission::*;
    let view = [
        ViewIncidents,
        ViewPlans,
        ViewDirectory,
        ViewCases,
        ViewDisputes,
        ViewReports,
        ViewCalls,
    ];
    let role = |extra: &[Permission]| -> BTreeSet<Permission> {
        view.iter().chain(extra).copied().collect()
    };
    let mut roles = BTreeMap::new();
    roles.insert(
        "duty_officer".into(),
        role(&[
            ReportIncident,
            UpdateIncident,
            HandleIncident,
            WorkTasks,
            RegisterCase,
            HandleCase,
            ApproveCase,
            ScreenDisputes,
            SubmitReports,
            ManageNotifications,
            CallPeople,
        ]),
    );
    roles.insert(
        "commander".into(),
        role(&[
            ReportIncident,
            UpdateIncident,
            HandleIncident,
            EndResponse,
            RecordCoerciveStep,
            ReviewIncident,
            WorkTasks,
            RevealPersonalData,
            HandleCase,
            ApproveCase,
            ScreenDisputes,
            SubmitReports,
            ManageNotifications,
            CallPeople,
        ]),
    );
    roles.insert(
        "group_member".into(),
        role(&[UpdateIncident, WorkTasks, SubmitReports]),
    );
    roles.insert(
        "petition_clerk".into(),
        role(&[
            ReportIncident,
            RevealPersonalData,
            RegisterCase,
            HandleCase,
            ApproveCase,
            ScreenDisputes,
            SubmitReports,
        ]),
    );
    // Village cadres and grid workers (村干部、网格员): report what they see, send the scheduled
    // reports and screening returns their village owes, record the disputes they find.
    roles.insert(
        "grid_worker".into(),
        role(&[ReportIncident, SubmitReports, ScreenDisputes]),
    );
    roles.insert("approver".into(), role(&[RecordCoerciveStep, ApproveCase]));
    roles.insert("plan_author".into(), role(&[UploadPlans]));
    roles.insert("auditor".into(), role(&[ReadAudit]));
    roles.insert(
        "administrator".into(),
        Permission::ALL.iter().copied().collect(),
    );
    roles
}
