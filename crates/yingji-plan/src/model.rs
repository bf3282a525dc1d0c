//! The checked plan: what a plan file means once it has been read. Every reference is by id;
//! spans are kept so that later checks can point at the text.

use jiff::civil::{Date, Time};
use serde::Serialize;

use crate::diag::Span;
use crate::reader::Sp;
use crate::time::TimeLimit;

/// The reserved ids under which a task or report may name the command body or its office.
pub const COMMAND_ID: &str = "command";
pub const OFFICE_ID: &str = "office";

#[derive(Debug, Clone)]
pub struct Plan {
    pub meta: Meta,
    pub time: TimeConfig,
    pub scope: Scope,
    pub posts: Vec<Post>,
    pub command: Command,
    pub office: Option<Office>,
    pub groups: Vec<Group>,
    pub member_units: Vec<MemberUnit>,
    pub venues: Vec<Choice>,
    pub behaviours: Vec<Choice>,
    pub levels: Vec<Level>,
    pub first_response: Vec<TaskTemplate>,
    pub intake: Vec<IntakeField>,
    pub special_periods: Vec<SpecialPeriod>,
    pub schedules: Vec<Schedule>,
    pub aftermath: Aftermath,
    pub drills: Option<Cadence>,
    pub review: Option<Cadence>,
    /// What happens when a call is not acknowledged in time, per level.
    pub escalation: Vec<Escalation>,
}

/// An escalation policy: the steps an unanswered call takes, for the listed levels (or for
/// every level not listed by another policy, when `levels` is empty).
#[derive(Debug, Clone)]
pub struct Escalation {
    pub levels: Vec<Sp<String>>,
    /// Every recipient must acknowledge personally.
    pub every_recipient: bool,
    /// Call the recipients who have not acknowledged again this often (minutes)…
    pub repeat_every: Option<Sp<i64>>,
    /// …at most this many times.
    pub repeat_times: u32,
    pub steps: Vec<EscalationStep>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct EscalationStep {
    /// Minutes after the call.
    pub after: Sp<i64>,
    pub to: EscalationTarget,
    /// For `post` (a post of this plan) and `parent_office` (the post in the parent
    /// jurisdiction; default: this plan's office head).
    pub post: Option<Sp<String>>,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EscalationTarget {
    Deputy,
    Above,
    Post,
    ParentOffice,
}

impl EscalationTarget {
    pub fn parse(s: &str) -> Option<EscalationTarget> {
        Some(match s {
            "deputy" => EscalationTarget::Deputy,
            "above" => EscalationTarget::Above,
            "post" => EscalationTarget::Post,
            "parent_office" => EscalationTarget::ParentOffice,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone)]
pub struct Meta {
    /// Stable id of the plan; other plans name it in `parent`.
    pub id: Sp<String>,
    pub title: String,
    pub doc_number: Option<String>,
    pub issuer: Option<String>,
    pub issued_on: Option<Date>,
    pub effective_on: Option<Date>,
    pub approved_by: Option<String>,
    pub interpreted_by: Option<String>,
    pub jurisdiction: Option<String>,
    /// 行政区划代码, when the jurisdiction has one.
    pub jurisdiction_code: Option<String>,
    pub version: Option<String>,
    pub basis: Vec<String>,
    pub event_types: Vec<String>,
    /// 预案衔接: the id of the upper-level plan this one links to.
    pub parent: Option<Sp<String>>,
    /// Plans that must link to this one (free text, e.g. "村居预案").
    pub linked_below: Vec<String>,
    pub principles: Vec<String>,
    pub publicity: Option<String>,
}

#[derive(Debug, Clone)]
pub struct TimeConfig {
    /// IANA zone; Asia/Shanghai unless the plan says otherwise.
    pub zone: String,
    pub tz: jiff::tz::TimeZone,
    /// When the day starts and the night starts, for day/night time limits.
    pub day: Option<DayWindow>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayWindow {
    pub day_starts: Time,
    pub night_starts: Time,
}

impl DayWindow {
    /// Whether a wall-clock time falls in the day window.
    pub fn is_day(&self, t: Time) -> bool {
        if self.day_starts <= self.night_starts {
            t >= self.day_starts && t < self.night_starts
        } else {
            // A "day" that wraps midnight is odd but well defined.
            t >= self.day_starts || t < self.night_starts
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Scope {
    /// The plan applies only to headcounts in this range (e.g. from 20 people).
    pub headcount: Option<Sp<HeadcountRange>>,
    pub description: Option<String>,
}

impl Scope {
    /// The smallest headcount the plan applies to.
    pub fn min(&self) -> u32 {
        self.headcount
            .as_ref()
            .map_or(1, |r| r.value.lowest().unwrap_or(u32::MAX))
    }
}

/// A headcount range with explicit bounds: `at_least`/`more_than` below, `at_most`/`below` above.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct HeadcountRange {
    pub lower: Option<Bound>,
    pub upper: Option<Bound>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Bound {
    pub value: u32,
    pub inclusive: bool,
}

impl HeadcountRange {
    pub fn contains(&self, n: u32) -> bool {
        let lo_ok = match self.lower {
            None => true,
            Some(Bound { value, inclusive }) => {
                if inclusive {
                    n >= value
                } else {
                    n > value
                }
            }
        };
        let hi_ok = match self.upper {
            None => true,
            Some(Bound { value, inclusive }) => {
                if inclusive {
                    n <= value
                } else {
                    n < value
                }
            }
        };
        lo_ok && hi_ok
    }

    /// The range as inclusive `(lowest, highest)`, or None when it holds no number.
    pub fn closed(&self) -> Option<(u32, u32)> {
        let lo: i64 = match self.lower {
            None => 0,
            Some(b) => i64::from(b.value) + i64::from(!b.inclusive),
        };
        let hi: i64 = match self.upper {
            None => i64::from(u32::MAX),
            Some(b) => i64::from(b.value) - i64::from(!b.inclusive),
        };
        if lo > hi || lo > i64::from(u32::MAX) {
            None
        } else {
            Some((lo as u32, hi as u32))
        }
    }

    /// The smallest headcount inside, or None if the range is empty.
    pub fn lowest(&self) -> Option<u32> {
        self.closed().map(|c| c.0)
    }

    /// The largest headcount inside (u32::MAX when unbounded), or None if empty.
    pub fn highest(&self) -> Option<u32> {
        self.closed().map(|c| c.1)
    }

    pub fn is_empty(&self) -> bool {
        self.closed().is_none()
    }
}

impl std::fmt::Display for HeadcountRange {
    /// Written the way the plan file writes it, so that the reader can find the rule.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut parts = Vec::new();
        if let Some(b) = self.lower {
            parts.push(if b.inclusive {
                format!("at_least = {}", b.value)
            } else {
                format!("more_than = {}", b.value)
            });
        }
        if let Some(b) = self.upper {
            parts.push(if b.inclusive {
                format!("at_most = {}", b.value)
            } else {
                format!("below = {}", b.value)
            });
        }
        if parts.is_empty() {
            f.write_str("any headcount")
        } else {
            write!(f, "headcount {{ {} }}", parts.join(", "))
        }
    }
}

#[derive(Debug, Clone)]
pub struct Post {
    pub id: Sp<String>,
    pub name: String,
    /// The member unit the post belongs to, if any.
    pub unit: Option<Sp<String>>,
    /// The post above this one, where an unanswered call escalates to.
    pub above: Option<Sp<String>>,
}

#[derive(Debug, Clone)]
pub struct Command {
    pub name: String,
    /// The plan's word for the commander (指挥长, 组长…).
    pub commander_title: String,
    pub deputy_title: String,
    /// Standing leads (组长) of the command body.
    pub leads: Vec<Sp<String>>,
    pub deputies: Vec<Sp<String>>,
    pub members: Vec<Sp<String>>,
    pub duties: Vec<String>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Office {
    pub name: String,
    pub location: Option<String>,
    pub head: Option<Sp<String>>,
    pub deputies: Vec<Sp<String>>,
    pub members: Vec<Sp<String>>,
    pub duties: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Group {
    pub id: Sp<String>,
    pub name: String,
    pub lead: Option<Sp<String>>,
    pub deputies: Vec<Sp<String>>,
    pub members: Vec<Sp<String>>,
    pub units: Vec<Sp<String>>,
    pub duties: Vec<String>,
    /// The group's standing checklist, generated whenever the group is called.
    pub tasks: Vec<TaskTemplate>,
}

#[derive(Debug, Clone)]
pub struct MemberUnit {
    pub id: Sp<String>,
    pub name: String,
    pub head: Option<Sp<String>>,
    pub duties: Vec<String>,
}

/// An entry of a configurable list (venue tiers, behaviours).
#[derive(Debug, Clone)]
pub struct Choice {
    pub id: Sp<String>,
    pub name: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Colour {
    Red,
    Orange,
    Yellow,
    Blue,
}

impl Colour {
    pub fn parse(s: &str) -> Option<Colour> {
        Some(match s {
            "red" | "红" | "红色" => Colour::Red,
            "orange" | "橙" | "橙色" => Colour::Orange,
            "yellow" | "黄" | "黄色" => Colour::Yellow,
            "blue" | "蓝" | "蓝色" => Colour::Blue,
            _ => return None,
        })
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Colour::Red => "red",
            Colour::Orange => "orange",
            Colour::Yellow => "yellow",
            Colour::Blue => "blue",
        }
    }
    pub fn zh(self) -> &'static str {
        match self {
            Colour::Red => "红色",
            Colour::Orange => "橙色",
            Colour::Yellow => "黄色",
            Colour::Blue => "蓝色",
        }
    }
}

/// One grading rule: all of its conditions must hold.
#[derive(Debug, Clone)]
pub struct Rule {
    pub span: Span,
    pub headcount: Option<Sp<HeadcountRange>>,
    /// Any of these venue tiers (empty: any venue).
    pub venues: Vec<Sp<String>>,
    /// Any of these behaviours (empty: no behaviour needed).
    pub behaviours: Vec<Sp<String>>,
}

impl Rule {
    /// A base rule needs no behaviour; the coverage checks are about base rules.
    pub fn is_base(&self) -> bool {
        self.behaviours.is_empty()
    }
}

impl std::fmt::Display for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut parts = Vec::new();
        if let Some(h) = &self.headcount {
            parts.push(h.value.to_string());
        }
        if !self.venues.is_empty() {
            let v: Vec<&str> = self.venues.iter().map(|v| v.as_str()).collect();
            parts.push(format!("venue in [{}]", v.join(", ")));
        }
        if !self.behaviours.is_empty() {
            let v: Vec<&str> = self.behaviours.iter().map(|v| v.as_str()).collect();
            parts.push(format!("behaviour in [{}]", v.join(", ")));
        }
        if parts.is_empty() {
            f.write_str("always")
        } else {
            f.write_str(&parts.join(" and "))
        }
    }
}

#[derive(Debug, Clone)]
pub struct Level {
    pub id: Sp<String>,
    pub name: String,
    pub colour: Option<Colour>,
    /// Qualitative test the deciding person confirms (e.g. 经做工作可以控制).
    pub judgement: Option<String>,
    /// The level is never proposed by rules; a person chooses it.
    pub judgement_only: bool,
    pub description: Option<String>,
    pub when: Vec<Rule>,
    pub extends: Option<Sp<String>>,
    pub commander: Vec<Sp<String>>,
    pub deputies: Vec<Sp<String>>,
    pub groups: Vec<Sp<String>>,
    pub tasks: Vec<TaskTemplate>,
    pub reports: Vec<ReportDue>,
    pub coercive_steps: Vec<CoerciveStep>,
    pub parent_called: Option<bool>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct TaskTemplate {
    /// The group (or `command` / `office`) that does it; for group checklists, the group itself.
    pub group: Sp<String>,
    pub title: String,
    pub within: Sp<TimeLimit>,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReportKind {
    First,
    FollowUp,
    Final,
}

impl ReportKind {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "first" => ReportKind::First,
            "follow-up" => ReportKind::FollowUp,
            "final" => ReportKind::Final,
            _ => return None,
        })
    }
    pub fn as_str(self) -> &'static str {
        match self {
            ReportKind::First => "first",
            ReportKind::FollowUp => "follow-up",
            ReportKind::Final => "final",
        }
    }
}

/// A report owed upward when a level is activated.
#[derive(Debug, Clone)]
pub struct ReportDue {
    pub kind: ReportKind,
    /// The recipient, as the plan names it (e.g. 云岭市应急指挥部办公室).
    pub to: String,
    /// Who sends it: a group id, `command`, `office`, or a post.
    pub by: Option<Sp<String>>,
    pub within: Sp<TimeLimit>,
    /// For follow-up reports: how often after the first.
    pub every: Option<Sp<TimeLimit>>,
    pub fields: Vec<String>,
    /// Where the engine delivers the submitted report: `parent` (the parent jurisdiction's
    /// office), `command` (the level's commander posts) or a post of this plan. Default: the
    /// parent where the jurisdiction has one, else the command.
    pub deliver_to: Option<Sp<String>>,
    pub span: Span,
}

/// The `deliver_to` value naming the parent jurisdiction's office.
pub const DELIVER_PARENT: &str = "parent";

/// A coercive step (police request, dispersal order) and the post that must approve it.
#[derive(Debug, Clone)]
pub struct CoerciveStep {
    pub step: Sp<String>,
    pub name: String,
    pub approver: Sp<String>,
    /// The consultation (会商) that must be recorded before the step is requested.
    pub consultation: Option<Sp<String>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    Text,
    LongText,
    Integer,
    Datetime,
    Choice,
    Headcount,
    Venue,
    Behaviours,
}

impl FieldKind {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "text" => FieldKind::Text,
            "long_text" => FieldKind::LongText,
            "integer" => FieldKind::Integer,
            "datetime" => FieldKind::Datetime,
            "choice" => FieldKind::Choice,
            "headcount" => FieldKind::Headcount,
            "venue" => FieldKind::Venue,
            "behaviours" => FieldKind::Behaviours,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct IntakeField {
    #[serde(serialize_with = "ser_sp")]
    pub id: Sp<String>,
    pub label: String,
    pub kind: FieldKind,
    pub required: bool,
    pub options: Vec<String>,
    pub help: Option<String>,
    /// The field holds personal data (free text only): its value is sealed with the incident's
    /// own key, masked in every answer and erased by `yingji purge` (docs/security.md).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub personal: bool,
}

fn ser_sp<S: serde::Serializer>(v: &Sp<String>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&v.value)
}

#[derive(Debug, Clone)]
pub struct SpecialPeriod {
    pub id: Sp<String>,
    pub name: String,
    pub windows: Vec<(Date, Date)>,
}

impl SpecialPeriod {
    pub fn contains(&self, d: Date) -> bool {
        self.windows.iter().any(|(a, b)| *a <= d && d <= *b)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recurrence {
    /// Every day at each of these times.
    Daily(Vec<Time>),
    /// Every week on this weekday at these times.
    Weekly(jiff::civil::Weekday, Vec<Time>),
    /// Every month on this day (1–31, clamped to the month's end) at these times.
    Monthly(i8, Vec<Time>),
}

/// A scheduled report such as the daily nil report (零报告).
#[derive(Debug, Clone)]
pub struct Schedule {
    pub id: Sp<String>,
    pub name: String,
    /// Who submits: posts or member units.
    pub from: Vec<Sp<String>>,
    /// Who receives: a post, group, member unit, `command` or `office`.
    pub to: Sp<String>,
    pub recurrence: Recurrence,
    /// A "nothing to report" submission satisfies the schedule.
    pub nil_allowed: bool,
    /// Only inside this special period.
    pub period: Option<Sp<String>>,
    pub fields: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct Aftermath {
    pub duties: Vec<AftermathDuty>,
    /// The default time to give a written reply owed to petitioners.
    pub reply_within: Option<Sp<TimeLimit>>,
    /// When the after-action review is due after the response ends.
    pub review_within: Option<Sp<TimeLimit>>,
}

#[derive(Debug, Clone)]
pub struct AftermathDuty {
    pub title: String,
    /// Where the duty's title is written.
    pub span: Span,
    pub owner: Option<Sp<String>>,
    pub within: Option<Sp<TimeLimit>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Every {
    Month,
    Quarter,
    HalfYear,
    Year,
    TwoYears,
    ThreeYears,
    AsRequired,
}

impl Every {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "month" => Every::Month,
            "quarter" => Every::Quarter,
            "half-year" => Every::HalfYear,
            "year" => Every::Year,
            "two-years" => Every::TwoYears,
            "three-years" => Every::ThreeYears,
            "as-required" => Every::AsRequired,
            _ => return None,
        })
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Every::Month => "month",
            Every::Quarter => "quarter",
            Every::HalfYear => "half-year",
            Every::Year => "year",
            Every::TwoYears => "two-years",
            Every::ThreeYears => "three-years",
            Every::AsRequired => "as-required",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Cadence {
    pub every: Every,
    pub note: Option<String>,
}

impl Plan {
    pub fn id(&self) -> &str {
        &self.meta.id.value
    }

    pub fn level(&self, id: &str) -> Option<&Level> {
        self.levels.iter().find(|l| l.id.value == id)
    }

    pub fn level_index(&self, id: &str) -> Option<usize> {
        self.levels.iter().position(|l| l.id.value == id)
    }

    pub fn post(&self, id: &str) -> Option<&Post> {
        self.posts.iter().find(|p| p.id.value == id)
    }

    pub fn group(&self, id: &str) -> Option<&Group> {
        self.groups.iter().find(|g| g.id.value == id)
    }

    /// The display name of a post, group, unit, `command` or `office`.
    pub fn name_of(&self, id: &str) -> Option<&str> {
        if id == COMMAND_ID {
            return Some(&self.command.name);
        }
        if id == OFFICE_ID {
            return self.office.as_ref().map(|o| o.name.as_str());
        }
        self.post(id)
            .map(|p| p.name.as_str())
            .or_else(|| self.group(id).map(|g| g.name.as_str()))
            .or_else(|| {
                self.member_units
                    .iter()
                    .find(|u| u.id.value == id)
                    .map(|u| u.name.as_str())
            })
    }

    /// The escalation policy for a level: the one listing it, else the one listing no level.
    pub fn escalation_for(&self, level: &str) -> Option<&Escalation> {
        self.escalation
            .iter()
            .find(|e| e.levels.iter().any(|l| l.value == level))
            .or_else(|| self.escalation.iter().find(|e| e.levels.is_empty()))
    }

    /// Whether the plan grades by venue: then every report must name a venue tier.
    pub fn grades_by_venue(&self) -> bool {
        !self.venues.is_empty()
    }
}
