//! First start: the demo (a fictional jurisdiction tree, invented people, the example plans and a
//! few incidents in different states), or, without the demo, a root jurisdiction and an
//! administrator. Every name and number here is invented.

use std::collections::BTreeMap;

use crate::Command as AppCommand;
use crate::accounts::{ChangeGrant, SetAccount};
use crate::directory::{
    AssignHolderRequest, ChangeHolder, CreateJurisdiction, CreatePerson, NewJurisdictionRequest,
    NewPersonRequest,
};
use crate::incidents::{IncidentAction, NewIncidentRequest, OnIncident, ReportIncident};
use jiff::SignedDuration;
use serde_json::json;
use uuid::Uuid;
use yingji_domain::incident::{Command, ObligationKind, TaskAction};
use yingji_store::JurisdictionRow;

use crate::actor::token_hash;
use crate::cases::{NewCaseRequest, PetitionerRequest, RegisterCase};
use crate::{App, AppError};

/// The example plans, embedded so that the binary runs from anywhere.
pub const EXAMPLE_PLANS: &[(&str, &str)] = &[
    (
        "linxiang-city.toml",
        include_str!("../../../examples/plans/linxiang-city.toml"),
    ),
    (
        "ceshan-street.toml",
        include_str!("../../../examples/plans/ceshan-street.toml"),
    ),
    (
        "industrial-park.toml",
        include_str!("../../../examples/plans/industrial-park.toml"),
    ),
    (
        "lincang-npc-office.toml",
        include_str!("../../../examples/plans/lincang-npc-office.toml"),
    ),
    (
        "township-inspection-period.toml",
        include_str!("../../../examples/plans/township-inspection-period.toml"),
    ),
    (
        "township-special-period.toml",
        include_str!("../../../examples/plans/township-special-period.toml"),
    ),
    (
        "town-holiday-period.toml",
        include_str!("../../../examples/plans/town-holiday-period.toml"),
    ),
];

/// Demo sign-in tokens (documented in the README; demo data only).
pub const DEMO_TOKENS: &[(&str, &str)] = &[
    ("demo-province-admin", "江川省信访局 管理员"),
    ("demo-city-duty", "云岭市 值班员"),
    ("demo-city-commander", "云岭市 带班领导（结束上报记录）"),
    ("demo-duty-officer", "临溪市 值班员"),
    ("demo-commander", "临溪市 市委分管副书记（指挥部组长）"),
    (
        "demo-group-member",
        "临溪市 公安局政委（现场秩序维护组组长）",
    ),
    ("demo-petition-clerk", "临溪市信访局 登记员"),
    ("demo-secretary-general", "临溪市 秘书长（拟办意见审批）"),
    ("demo-town-duty", "青石镇 值班员"),
    ("demo-street-duty", "东湖街道 值班员"),
    ("demo-auditor", "临溪市 审计员"),
    ("demo-plac-secretary", "临溪市 政法委书记（Ⅱ、Ⅲ级指挥长）"),
    (
        "demo-grid-worker",
        "枫林村 党支部书记、村委会主任（每日报告、排查报告）",
    ),
];

/// Runs a command as `actor` on the command path and gives its fresh output.
async fn run<C: AppCommand>(
    state: &App,
    actor: &crate::Actor,
    cmd: C,
) -> Result<C::Output, AppError> {
    state
        .execute(actor, None, &cmd)
        .await?
        .output()
        .ok_or_else(|| AppError::internal("a demo command was replayed"))
}

/// Seeds the directory through the directory and account commands, each leaving its event:
/// as yingji itself for the root and its first administrator, then as that administrator.
struct Seed<'a> {
    state: &'a App,
    actor: crate::Actor,
    /// Invented phone numbers are numbered from here.
    phones: usize,
}

/// A demo person: their jurisdiction, name, demo token, the posts they hold there (post id,
/// deputy), the roles they have there and their login (the demo password).
struct DemoPerson<'a> {
    j: &'a JurisdictionRow,
    name: &'static str,
    token: Option<&'static str>,
    posts: &'static [(&'static str, bool)],
    roles: &'static [&'static str],
    login: Option<&'static str>,
}

impl Seed<'_> {
    /// A jurisdiction below `parent`, or the root.
    async fn jurisdiction(
        &self,
        parent: Option<&JurisdictionRow>,
        name: &str,
        kind: &str,
        code: Option<&str>,
    ) -> Result<JurisdictionRow, AppError> {
        let cmd = match parent {
            None => CreateJurisdiction::root(name, kind, code),
            Some(p) => CreateJurisdiction::from(NewJurisdictionRequest {
                parent_id: p.id,
                name: name.into(),
                kind: kind.into(),
                code: code.map(str::to_string),
            }),
        };
        run(self.state, &self.actor, cmd).await
    }

    /// A demo person with an invented phone and their demo token if any, the posts they hold
    /// and the roles they have in their jurisdiction, and their password sign-in.
    async fn person(&self, p: &DemoPerson<'_>, phone: usize) -> Result<Uuid, AppError> {
        let req = NewPersonRequest {
            jurisdiction_id: p.j.id,
            name: p.name.into(),
            phone: Some(format!("1990000{phone:04}")),
            email: None,
            token: p.token.map(str::to_string),
        };
        let id = run(self.state, &self.actor, CreatePerson::demo(req))
            .await?
            .row
            .id;
        for (post, deputy) in p.posts {
            let req = AssignHolderRequest {
                post_id: post.to_string(),
                person_id: id,
                deputy: *deputy,
            };
            run(self.state, &self.actor, ChangeHolder::assign(p.j.id, req)).await?;
        }
        for role in p.roles {
            self.grant(id, role, p.j).await?;
        }
        if let Some(login) = p.login {
            self.account(id, login).await?;
        }
        Ok(id)
    }

    /// Several people at once (each one's commands in order; different people's commands are
    /// committed together). Their ids by name.
    async fn people(
        &self,
        people: &[DemoPerson<'_>],
    ) -> Result<std::collections::HashMap<&'static str, Uuid>, AppError> {
        let ids = futures_util::future::try_join_all(
            people
                .iter()
                .enumerate()
                .map(|(i, p)| self.person(p, self.phones + i)),
        )
        .await?;
        Ok(people.iter().map(|p| p.name).zip(ids).collect())
    }

    /// A role for a person in a jurisdiction's subtree.
    async fn grant(&self, person: Uuid, role: &str, j: &JurisdictionRow) -> Result<(), AppError> {
        run(
            self.state,
            &self.actor,
            ChangeGrant::grant(person, role, j.id),
        )
        .await
    }

    /// A password sign-in with the documented demo password.
    async fn account(&self, person: Uuid, login: &str) -> Result<(), AppError> {
        run(self.state, &self.actor, SetAccount::demo(person, login)).await
    }
}

fn fields(pairs: &[(&str, &str)]) -> BTreeMap<String, serde_json::Value> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), json!(v)))
        .collect()
}

/// Whether the database has never been set up.
/// Records a report as `actor`, on the command path.
async fn report(
    state: &App,
    actor: &crate::Actor,
    req: NewIncidentRequest,
) -> Result<yingji_domain::incident::Incident, AppError> {
    let out = state.execute(actor, None, &ReportIncident(req)).await?;
    out.output()
        .map(|o| o.incident)
        .ok_or_else(|| AppError::internal("a demo report was replayed"))
}

/// Runs an incident command as `actor`, on the command path.
async fn run_as(
    state: &App,
    actor: &crate::Actor,
    id: Uuid,
    cmd: Command,
) -> Result<yingji_domain::incident::Incident, AppError> {
    let action = IncidentAction::Decide(cmd);
    let out = state
        .execute(
            actor,
            None,
            &OnIncident {
                id: id.into(),
                action,
            },
        )
        .await?;
    out.output()
        .map(|o| o.incident)
        .ok_or_else(|| AppError::internal("a demo command was replayed"))
}

/// Registers a petition as `actor`, on the command path.
async fn register_as(
    state: &App,
    actor: &crate::Actor,
    req: NewCaseRequest,
) -> Result<(), AppError> {
    state.execute(actor, None, &RegisterCase(req)).await?;
    Ok(())
}

pub async fn is_empty(state: &App) -> Result<bool, AppError> {
    Ok(state.store.jurisdiction_count().await? == 0)
}

/// Creates a root jurisdiction and its administrator (with `admin_token`, at least 16
/// characters), as yingji itself; returns the administrator's id.
pub async fn bootstrap(state: &App, root_name: &str, admin_token: &str) -> Result<Uuid, AppError> {
    let system = crate::Actor::system();
    let root = run(
        state,
        &system,
        CreateJurisdiction::root(root_name, "province", None),
    )
    .await?;
    let req = NewPersonRequest {
        jurisdiction_id: root.id,
        name: "系统管理员".into(),
        phone: None,
        email: None,
        token: Some(admin_token.into()),
    };
    let admin = run(state, &system, CreatePerson::from(req)).await?.row.id;
    run(
        state,
        &system,
        ChangeGrant::grant(admin, "administrator", root.id),
    )
    .await?;
    Ok(admin)
}

/// Loads the demo: jurisdictions, people with posts, the example plans and four incidents.
pub async fn load_demo(state: &App) -> Result<(), AppError> {
    // yingji itself creates the root and its first administrator…
    let mut s = Seed {
        state,
        actor: crate::Actor::system(),
        phones: 1,
    };
    let province = s
        .jurisdiction(None, "江川省", "province", Some("990000"))
        .await?;
    let admin = s
        .person(
            &DemoPerson {
                j: &province,
                name: "陈思远",
                token: Some("demo-province-admin"),
                posts: &[],
                roles: &["administrator"],
                login: Some("province-admin"),
            },
            0,
        )
        .await?;
    // …who sets up the rest.
    s.actor = crate::Actor::load(state, admin, None).await?;
    let city = s
        .jurisdiction(Some(&province), "云岭市", "city", Some("990100"))
        .await?;
    let county = s
        .jurisdiction(Some(&city), "临溪市", "county", Some("990181"))
        .await?;
    let town = s
        .jurisdiction(Some(&county), "青石镇", "township", Some("990181101"))
        .await?;
    let village = s
        .jurisdiction(Some(&town), "枫林村", "village", None)
        .await?;
    let street = s
        .jurisdiction(Some(&county), "东湖街道", "street", Some("990181001"))
        .await?;
    let park = s
        .jurisdiction(Some(&county), "临溪工业园", "body", None)
        .await?;
    let npc = s
        .jurisdiction(Some(&city), "云岭市人大常委会办公室", "body", None)
        .await?;

    let person = |j, name, token, posts, roles, login| DemoPerson {
        j,
        name,
        token,
        posts,
        roles,
        login,
    };
    let ids = s
        .people(&[
            person(
                &city,
                "何静怡",
                Some("demo-city-duty"),
                &[],
                &["duty_officer"],
                Some("city-duty"),
            ),
            // The city's leader on duty: ends the records reported up to the city.
            person(
                &city,
                "宋雅琴",
                Some("demo-city-commander"),
                &[],
                &["commander"],
                Some("city-commander"),
            ),
            person(
                &county,
                "王晓明",
                Some("demo-duty-officer"),
                &[],
                &["duty_officer", "plan_author"],
                Some("duty-officer"),
            ),
            // The headquarters' leader also deputises for the post that commands level Ⅰ, so
            // that he may end a response the plan puts under that post; he is the first
            // approver of petition proposals (分管领导, post `petition-deputy`).
            person(
                &county,
                "林建国",
                Some("demo-commander"),
                &[
                    ("deputy-secretary", false),
                    ("party-deputy-secretary", true),
                    ("petition-deputy", false),
                ],
                &["commander", "approver"],
                Some("commander"),
            ),
            // The petition office: a registrar, and the 秘书长 who approves the 拟办意见 after
            // the 分管领导.
            person(
                &county,
                "高文静",
                Some("demo-petition-clerk"),
                &[],
                &["petition_clerk"],
                Some("petition-registrar"),
            ),
            person(
                &county,
                "罗志远",
                Some("demo-secretary-general"),
                &[("secretary-general", false)],
                &["approver"],
                Some("secretary-general"),
            ),
            person(
                &county,
                "许清",
                Some("demo-auditor"),
                &[],
                &["auditor"],
                Some("auditor"),
            ),
            person(
                &county,
                "赵文华",
                None,
                &[("party-deputy-secretary", false)],
                &[],
                None,
            ),
            // Commands levels Ⅱ–Ⅲ of the Linxiang plan, so he may end those responses.
            person(
                &county,
                "钱立新",
                Some("demo-plac-secretary"),
                &[("plac-secretary", false)],
                &["commander"],
                Some("plac-secretary"),
            ),
            person(
                &county,
                "孙海燕",
                None,
                &[("vice-mayor", false), ("executive-vice-mayor", false)],
                &[],
                None,
            ),
            person(
                &county,
                "周敏",
                None,
                &[("petition-bureau-director", false)],
                &["petition_clerk"],
                Some("petition-clerk"),
            ),
            // Commands the lowest level of the Linxiang plan, so he ends that level's response.
            person(
                &county,
                "吴志强",
                None,
                &[("plac-deputy-secretary", false)],
                &["commander"],
                None,
            ),
            person(
                &county,
                "郑国平",
                Some("demo-group-member"),
                &[("police-commissar", false)],
                &["group_member"],
                Some("group-member"),
            ),
            person(
                &county,
                "冯磊",
                None,
                &[("police-commissar", true), ("police-deputy", false)],
                &[],
                None,
            ),
            person(
                &county,
                "褚晓丽",
                None,
                &[("health-bureau-deputy", false)],
                &[],
                None,
            ),
            person(
                &town,
                "刘洋",
                Some("demo-town-duty"),
                &[],
                &["duty_officer"],
                Some("town-duty"),
            ),
            person(
                &town,
                "卫东升",
                None,
                &[("party-secretary", false)],
                &[],
                None,
            ),
            person(
                &street,
                "蒋雨桐",
                Some("demo-street-duty"),
                &[],
                &["duty_officer"],
                Some("street-duty"),
            ),
            person(
                &street,
                "沈建华",
                None,
                &[("party-secretary", false), ("director", false)],
                &[],
                None,
            ),
            person(&park, "韩立", None, &[], &[], None),
            person(
                &npc,
                "杨帆",
                None,
                &[("secretary-general", false)],
                &[],
                None,
            ),
            // The village's secretary, also its head (一肩挑), who sends the village's daily
            // reports and screening returns.
            person(
                &village,
                "黎春梅",
                Some("demo-grid-worker"),
                &[("village-secretaries", false), ("village-heads", false)],
                &["grid_worker"],
                Some("grid-worker"),
            ),
        ])
        .await?;
    let id = |name: &str| ids[name];
    let (duty, commander, member, _clerk, plac_deputy) = (
        id("王晓明"),
        id("林建国"),
        id("郑国平"),
        id("高文静"),
        id("吴志强"),
    );

    let owner = |file: &str| match file {
        "linxiang-city.toml" => county.id,
        "ceshan-street.toml" => street.id,
        "industrial-park.toml" => park.id,
        "lincang-npc-office.toml" => npc.id,
        _ => town.id,
    };
    // The example plans are uploaded by the province's administrator, through the command
    // path, as a deployment's administrator would upload them.
    let as_admin = crate::Actor::load(state, admin, None).await?;
    for (file, text) in EXAMPLE_PLANS {
        let cmd = crate::plans::UploadPlan(crate::plans::UploadPlanRequest {
            jurisdiction_id: owner(file),
            source: text.to_string(),
            file_name: Some(file.to_string()),
        });
        state.execute(&as_admin, None, &cmd).await?;
    }

    // The demo's incidents are recorded by the demo's people, through the command path and
    // its checks, as they would record them.
    let as_duty = crate::Actor::load(state, duty, None).await?;
    let as_commander = crate::Actor::load(state, commander, None).await?;
    let as_member = crate::Actor::load(state, member, None).await?;

    // 1. An active level Ⅱ response in 临溪市, one task acknowledged.
    let big = report(
        state,
        &as_duty,
        NewIncidentRequest {
            jurisdiction_id: county.id,
            plan_id: "linxiang-city-mass-petition".into(),
            kind: "event".into(),
            title: "示例：枫林村村民反映土地补偿问题".into(),
            headcount: 120,
            venue: None,
            behaviours: vec![],
            location: Some("临溪市人民政府东门".into()),
            fields: fields(&[
                ("unit", "青石镇枫林村"),
                ("address", "临溪市人民政府东门"),
                ("time", "今日上午"),
                ("demands", "要求公开土地补偿标准，按时发放补偿款"),
            ]),
            drill: false,
        },
    )
    .await?;
    run_as(
        state,
        &as_duty,
        big.id,
        Command::Verify {
            note: Some("电话核实，情况属实".into()),
        },
    )
    .await?;
    run_as(
        state,
        &as_commander,
        big.id,
        Command::Assess {
            level: None,
            reason: None,
        },
    )
    .await?;
    run_as(
        state,
        &as_commander,
        big.id,
        Command::IssueWarning { level: None },
    )
    .await?;
    let active = run_as(
        state,
        &as_commander,
        big.id,
        Command::Activate { level: None },
    )
    .await?;
    if let Some(t) = active.tasks.iter().find(|t| t.group == "order") {
        run_as(
            state,
            &as_member,
            big.id,
            Command::Task {
                id: t.id,
                action: TaskAction::Acknowledge,
                reason: None,
            },
        )
        .await?;
    }
    run_as(
        state,
        &as_duty,
        big.id,
        Command::Update(yingji_domain::incident::Update {
            grievances: vec!["补偿标准不公开".into(), "部分补偿款逾期未发".into()],
            care: vec!["已提供饮用水和临时遮阳棚".into()],
            ..Default::default()
        }),
    )
    .await?;

    // 2. An early sign awaiting verification.
    report(
        state,
        &as_duty,
        NewIncidentRequest {
            jurisdiction_id: county.id,
            plan_id: "linxiang-city-mass-petition".into(),
            kind: "early_sign".into(),
            title: "示例：临溪工业园部分职工拟集体反映欠薪".into(),
            headcount: 30,
            venue: None,
            behaviours: vec![],
            location: None,
            fields: fields(&[
                ("unit", "临溪工业园某企业"),
                ("address", "临溪工业园"),
                ("time", "明日上午"),
                ("demands", "要求支付拖欠工资"),
            ]),
            drill: false,
        },
    )
    .await?;

    // 3. A drill at level Ⅲ in 临溪市, active.
    let drill = report(
        state,
        &as_duty,
        NewIncidentRequest {
            jurisdiction_id: county.id,
            plan_id: "linxiang-city-mass-petition".into(),
            kind: "event".into(),
            title: "演练：群众集体上访应急处置综合演练".into(),
            headcount: 60,
            venue: None,
            behaviours: vec![],
            location: Some("临溪市信访局接待大厅".into()),
            fields: fields(&[
                ("unit", "演练人员"),
                ("address", "临溪市信访局"),
                ("time", "演练当日"),
                ("demands", "演练脚本设定诉求"),
            ]),
            drill: true,
        },
    )
    .await?;
    run_as(state, &as_duty, drill.id, Command::Verify { note: None }).await?;
    run_as(
        state,
        &as_commander,
        drill.id,
        Command::Assess {
            level: None,
            reason: None,
        },
    )
    .await?;
    run_as(
        state,
        &as_commander,
        drill.id,
        Command::Activate { level: None },
    )
    .await?;

    // 4. An ended response with a commitment and a written reply owed.
    let ended = report(
        state,
        &as_duty,
        NewIncidentRequest {
            jurisdiction_id: county.id,
            plan_id: "linxiang-city-mass-petition".into(),
            kind: "event".into(),
            title: "示例：东湖小区业主反映物业问题".into(),
            headcount: 25,
            venue: None,
            behaviours: vec![],
            location: Some("临溪市住建局门前".into()),
            fields: fields(&[
                ("unit", "东湖小区业主"),
                ("address", "临溪市住建局"),
                ("time", "昨日下午"),
                ("demands", "要求更换物业公司"),
            ]),
            drill: false,
        },
    )
    .await?;
    run_as(state, &as_duty, ended.id, Command::Verify { note: None }).await?;
    run_as(
        state,
        &as_commander,
        ended.id,
        Command::Assess {
            level: None,
            reason: None,
        },
    )
    .await?;
    run_as(
        state,
        &as_commander,
        ended.id,
        Command::Activate { level: None },
    )
    .await?;
    run_as(
        state,
        &crate::Actor::load(state, plac_deputy, None).await?,
        ended.id,
        Command::EndResponse {
            reason: "业主代表已与住建局达成约谈安排，群众已散去".into(),
            open_tasks: yingji_domain::incident::CloseReason::NotNeeded,
        },
    )
    .await?;
    let now = state.clock.now();
    run_as(
        state,
        &as_duty,
        ended.id,
        Command::AddObligation {
            id: Uuid::now_v7(),
            kind: ObligationKind::Commitment,
            text: "十个工作日内组织业主代表与物业公司协调会".into(),
            owner: "临溪市住建局".into(),
            due_at: Some(
                now.checked_add(SignedDuration::from_hours(24 * 14))
                    .expect("in range"),
            ),
        },
    )
    .await?;
    run_as(
        state,
        &as_duty,
        ended.id,
        Command::AddObligation {
            id: Uuid::now_v7(),
            kind: ObligationKind::Reply,
            text: "向业主代表书面答复更换物业公司的程序".into(),
            owner: "临溪市信访局".into(),
            due_at: Some(
                now.checked_add(SignedDuration::from_hours(24 * 30))
                    .expect("in range"),
            ),
        },
    )
    .await?;

    // 5. Petition cases in 临溪市: a letter just registered, and a collective visit linked to the
    //    active incident, registered by the petition bureau's clerk (高文静) on the command path.
    let registrar = state
        .store
        .person_by_token(&token_hash("demo-petition-clerk"))
        .await?
        .ok_or_else(|| AppError::not_found("demo-petition-clerk"))?;
    let as_clerk = crate::Actor::load(state, registrar.id, None).await?;
    let petition =
        |channel: &str, form: &str, names: &[&str], title: &str, grievance: &str| NewCaseRequest {
            jurisdiction_id: county.id,
            channel: channel.into(),
            form: Some(form.into()),
            petitioners: names
                .iter()
                .map(|n| PetitionerRequest {
                    name: n.to_string(),
                    ..Default::default()
                })
                .collect(),
            title: title.into(),
            grievance: grievance.into(),
            ..Default::default()
        };
    register_as(
        state,
        &as_clerk,
        petition(
            "letter",
            "single",
            &["李某"],
            "来信反映小区供暖不达标",
            "要求供热公司整改并退还部分供暖费",
        ),
    )
    .await?;
    let mut visit = petition(
        "visit",
        "collective",
        &["张某", "王某"],
        "集体来访反映拖欠工程款",
        "要求建筑公司支付拖欠的工程款",
    );
    visit.headcount = Some(35);
    visit.incident_id = Some(big.id);
    register_as(state, &as_clerk, visit).await?;
    Ok(())
}

/// More demo data for the console's case, dispute and roster pages, loaded by `yingji serve`
/// after [`load_demo`] (the tests keep the smaller demo): two older petitions, one near its due
/// date and one past it; this month's dispute screening round in 临溪市 with one township's
/// return; a dispute; and a day/night duty roster for a post the demo leaves vacant. Everything
/// goes through the same functions as the API.
pub async fn load_demo_extras(state: &App) -> Result<(), AppError> {
    use crate::disputes::{
        NewDisputeRequest, OpenRound, OpenRoundRequest, RegisterDispute, RoundSubmissionRequest,
        SubmitReturn,
    };

    use crate::Actor;

    let find = |name: &'static str| async move {
        state
            .store
            .list_jurisdictions("/")
            .await?
            .into_iter()
            .find(|j| j.name == name)
            .ok_or_else(|| AppError::not_found(name))
    };
    let county = find("临溪市").await?;
    let town = find("青石镇").await?;
    let person = |token: &'static str| async move {
        state
            .store
            .person_by_token(&token_hash(token))
            .await?
            .ok_or_else(|| AppError::not_found(token))
    };
    let clerk = person("demo-petition-clerk").await?;
    let duty = person("demo-duty-officer").await?;
    let town_duty = person("demo-town-duty").await?;
    let lead = person("demo-commander").await?;
    let as_clerk = crate::Actor::load(state, clerk.id, None).await?;
    let now = state.clock.now();
    for (days_ago, names, title, grievance) in [
        (
            57,
            "陈某",
            "来电反映农村低保资格认定问题",
            "要求重新审核家庭低保资格",
        ),
        (
            66,
            "黄某",
            "网上信访反映小区噪声扰民",
            "要求相关部门查处夜间施工噪声",
        ),
    ] {
        let received_at = now
            .checked_sub(SignedDuration::from_hours(24 * days_ago))
            .expect("in range");
        let n = NewCaseRequest {
            jurisdiction_id: county.id,
            channel: if days_ago > 60 { "online" } else { "phone" }.into(),
            form: Some("single".into()),
            // Invented contact details, sealed at rest and shown masked.
            petitioners: vec![PetitionerRequest {
                name: names.into(),
                contact: (days_ago < 60).then(|| "13700002468".to_string()),
                address: (days_ago < 60).then(|| "临溪市青石镇柳塘村三组".to_string()),
                id_number: None,
            }],
            title: title.into(),
            grievance: grievance.into(),
            received_at: Some(yingji_store::fmt_ts(received_at)),
            // Petitions accepted before the office used yingji are entered with the reason.
            backdate_reason: Some("示例：系统启用前受理的信访事项，补录入系统".into()),
            ..Default::default()
        };
        register_as(state, &as_clerk, n).await?;
    }
    crate::cases::tick_cases(state).await?;

    let duty_actor = Actor::load(state, duty.id, None).await?;
    let town_actor = Actor::load(state, town_duty.id, None).await?;
    // This month's screening round in 临溪市, as its duty officer; 青石镇's return and the
    // dispute it found, as the township's duty officer.
    let round = state
        .execute(
            &duty_actor,
            None,
            &OpenRound(OpenRoundRequest {
                jurisdiction_id: county.id,
                date: None,
            }),
        )
        .await?
        .output()
        .ok_or_else(|| AppError::internal("a fresh round was answered as a replay"))?;
    state
        .execute(
            &town_actor,
            None,
            &SubmitReturn {
                round_id: round.id,
                req: RoundSubmissionRequest {
                    unit_id: town.id,
                    nil: false,
                    disputes_found: 1,
                    note: Some("排查出土地流转纠纷一起".into()),
                },
            },
        )
        .await?;
    state
        .execute(
            &town_actor,
            None,
            &RegisterDispute(NewDisputeRequest {
                jurisdiction_id: town.id,
                round_id: Some(round.id),
                title: "示例：枫林村土地流转租金纠纷".into(),
                parties: vec![
                    yingji_domain::dispute::Party {
                        name: "承租合作社".into(),
                        role: "承租方".into(),
                    },
                    yingji_domain::dispute::Party {
                        name: "部分村民".into(),
                        role: "出租方".into(),
                    },
                ],
                nature: "土地流转".into(),
                area: "青石镇枫林村".into(),
                risk: yingji_domain::dispute::Risk::Medium,
                summary: "租金支付时间有争议".into(),
            }),
        )
        .await?;

    // The township's special-period plan, revised for the demo so that its special period
    // runs from two days ago for four weeks (a township sets the dates of each year's period by
    // revising its plan): 枫林村 owes the daily report (零报告) today, and 青石镇 screens daily.
    let tz = jiff::tz::TimeZone::get("Asia/Shanghai").map_err(AppError::internal)?;
    let today = now.to_zoned(tz).date();
    let (from, to) = (
        today
            .checked_sub(jiff::Span::new().days(2))
            .map_err(AppError::internal)?,
        today
            .checked_add(jiff::Span::new().days(26))
            .map_err(AppError::internal)?,
    );
    let special = EXAMPLE_PLANS
        .iter()
        .find(|(f, _)| *f == "township-special-period.toml")
        .map(|(_, t)| *t)
        .ok_or_else(|| AppError::internal("the special-period example plan"))?;
    let window = "windows = [{ from = 2026-08-10, to = 2026-10-31 }]";
    if !special.contains(window) {
        return Err(AppError::internal("the special-period plan's window moved"));
    }
    let revised = special.replace(
        window,
        &format!("windows = [{{ from = {from}, to = {to} }}]"),
    );
    let admin = person("demo-province-admin").await?;
    let as_admin = Actor::load(state, admin.id, None).await?;
    state
        .execute(
            &as_admin,
            None,
            &crate::plans::UploadPlan(crate::plans::UploadPlanRequest {
                jurisdiction_id: town.id,
                source: revised,
                file_name: Some("township-special-period.toml".into()),
            }),
        )
        .await?;
    // …and 青石镇's duty officer opens today's screening round for its villages.
    state
        .execute(
            &town_actor,
            None,
            &OpenRound(OpenRoundRequest {
                jurisdiction_id: town.id,
                date: None,
            }),
        )
        .await?;

    let roster: yingji_domain::roster::Roster = serde_json::from_value(json!({
        "time_zone": "Asia/Shanghai",
        "shifts": [
            {"id": "day", "name": "白班", "start": "08:30", "end": "17:30"},
            {"id": "night", "name": "夜班", "start": "17:30", "end": "08:30"}
        ],
        "start_date": now.to_zoned(jiff::tz::TimeZone::get("Asia/Shanghai").map_err(AppError::internal)?).date().to_string(),
        "rotation": [
            {"person_id": duty.id, "name": duty.name},
            {"person_id": clerk.id, "name": clerk.name},
            {"person_id": lead.id, "name": lead.name}
        ]
    }))
    .map_err(AppError::internal)?;
    let cmd = crate::notify::SetRoster {
        jurisdiction_id: county.id,
        post: "party-office-director".to_string(),
        roster,
    };
    state.execute(&duty_actor, None, &cmd).await?;

    // Reserves of 临溪市 (one already below its minimum: its keeper was told), a response team
    // and a budget line of the city plan.
    for (kind, name, unit, quantity, minimum, location) in [
        ("material", "瓶装饮用水", "箱", 120, 50, "临溪市应急物资库"),
        ("material", "折叠帐篷", "顶", 8, 10, "临溪市应急物资库"),
        ("vehicle", "应急通勤大巴", "辆", 2, 1, "市交通运输局车队"),
        ("venue", "市民中心二楼接访室", "间", 1, 0, "市民中心"),
    ] {
        let req = crate::reserves::NewItemRequest {
            jurisdiction_id: Some(county.id),
            kind: Some(kind.into()),
            name: name.into(),
            unit: unit.into(),
            quantity,
            minimum,
            location: location.into(),
            custodian_post: Some("petition-bureau-director".into()),
        };
        state
            .execute(&duty_actor, None, &crate::reserves::CreateItem(req))
            .await?;
    }
    let team = crate::resources::TeamRequest {
        jurisdiction_id: Some(county.id),
        name: "临溪市应急救援队".into(),
        leader: "市应急管理局分管负责人".into(),
        members: vec!["第一分队".into(), "第二分队".into(), "医疗保障小组".into()],
        readiness: Some("ready".into()),
    };
    state
        .execute(&duty_actor, None, &crate::resources::CreateTeam(team))
        .await?;
    let line = crate::resources::BudgetRequest {
        jurisdiction_id: Some(county.id),
        plan_id: "linxiang-city-mass-petition".into(),
        name: "群体性事件现场保障经费".into(),
        amount_fen: 5_000_000,
    };
    state
        .execute(&duty_actor, None, &crate::resources::CreateBudget(line))
        .await?;
    Ok(())
}
