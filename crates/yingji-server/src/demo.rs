//! First start: the demo (a fictional jurisdiction tree, invented people, the example plans and a
//! few incidents in different states), or, without the demo, a root jurisdiction and an
//! administrator. Every name and number here is invented.

use std::collections::BTreeMap;

use jiff::SignedDuration;
use serde_json::json;
use uuid::Uuid;
use yingji_domain::ActorRef;
use yingji_domain::incident::{Command, ObligationKind, TaskAction};
use yingji_store::{JurisdictionRow, PersonRow, PostHolderRow, Row, Stmt, WriteSet, args, fmt_ts};

use crate::AppState;
use crate::auth::token_hash;
use crate::directory::phone_aad;
use crate::error::ApiError;
use crate::incidents::{NewIncidentRequest, report_core, run_as};
use crate::plans::load_plan;
use crate::trust::demo_password_hash;
use crate::write::{Item, append};

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
];

struct Seed {
    ws: WriteSet,
    actor: ActorRef,
    now: jiff::Timestamp,
    sealer: std::sync::Arc<crate::sealer::Sealer>,
    /// Accounts and role grants, written after the people they refer to.
    trust: Vec<Row>,
}

impl Seed {
    /// A role for a person in a jurisdiction's subtree.
    fn grant(&mut self, person: Uuid, role: &str, j: &JurisdictionRow) {
        self.trust.push(Row::Sql(Stmt::new(
            "INSERT INTO role_grants (person_id, role, jurisdiction_id, jurisdiction_path, granted_at) VALUES (?, ?, ?, ?, ?)",
            args![person, role, j.id, &j.path, self.now],
        )));
    }

    /// A password sign-in with the documented demo password.
    fn account(&mut self, person: Uuid, login: &str) {
        self.trust.push(Row::Sql(Stmt::new(
            "INSERT INTO accounts (person_id, login, password_hash, disabled, password_changed_at, created_at) VALUES (?, ?, ?, FALSE, ?, ?)",
            args![person, login, demo_password_hash(), self.now, self.now],
        )));
    }

    fn jurisdiction(
        &mut self,
        parent: Option<&JurisdictionRow>,
        name: &str,
        kind: &str,
        code: Option<&str>,
    ) -> JurisdictionRow {
        let id = Uuid::now_v7();
        let row = JurisdictionRow {
            id,
            parent_id: parent.map(|p| p.id),
            name: name.into(),
            kind: kind.into(),
            code: code.map(str::to_string),
            path: format!("{}{}/", parent.map_or("/", |p| p.path.as_str()), id),
            created_at: fmt_ts(self.now),
        };
        append(
            &mut self.ws,
            id,
            "jurisdiction",
            id,
            0,
            None,
            &self.actor,
            self.now,
            vec![Item::new(
                "jurisdiction_created",
                &json!({ "name": name, "kind": kind, "parent_id": row.parent_id }),
                None,
            )],
        );
        self.ws.rows.push(Row::Jurisdiction(row.clone()));
        row
    }

    /// A person with optional token and the posts they hold in their jurisdiction.
    fn person(
        &mut self,
        j: &JurisdictionRow,
        name: &str,
        token: Option<&str>,
        posts: &[(&str, bool)],
    ) -> Uuid {
        let id = Uuid::now_v7();
        let phone = format!("1990000{:04}", (id.as_u128() % 10_000) as u32);
        let mut items = vec![Item::new(
            "person_created",
            &json!({ "name": name, "jurisdiction_id": j.id }),
            None,
        )];
        for (post, deputy) in posts {
            items.push(Item::new(
                "post_assigned",
                &json!({ "post_id": post, "jurisdiction_id": j.id, "deputy": deputy }),
                None,
            ));
            self.ws.rows.push(Row::PostHolder(PostHolderRow {
                jurisdiction_id: j.id,
                post_id: post.to_string(),
                person_id: id,
                deputy: *deputy,
            }));
        }
        append(
            &mut self.ws,
            id,
            "person",
            j.id,
            0,
            None,
            &self.actor,
            self.now,
            items,
        );
        // People before their post assignments (foreign keys).
        self.ws.rows.insert(
            0,
            Row::Person(PersonRow {
                id,
                jurisdiction_id: j.id,
                name: name.into(),
                phone: Some(self.sealer.seal(&phone, &phone_aad(id))),
                email: None,
                token_hash: token.map(token_hash),
                created_at: fmt_ts(self.now),
            }),
        );
        id
    }
}

fn fields(pairs: &[(&str, &str)]) -> BTreeMap<String, serde_json::Value> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), json!(v)))
        .collect()
}

/// Whether the database has never been set up.
pub async fn is_empty(state: &AppState) -> Result<bool, ApiError> {
    Ok(state.store.jurisdiction_count().await? == 0)
}

/// Creates a root jurisdiction and its administrator; returns the administrator's token.
pub async fn bootstrap(
    state: &AppState,
    root_name: &str,
    admin_token: &str,
) -> Result<Uuid, ApiError> {
    let mut s = Seed {
        ws: WriteSet::default(),
        actor: crate::system_actor(),
        now: state.clock.now(),
        sealer: state.sealer.clone(),
        trust: Vec::new(),
    };
    // Jurisdictions must be inserted before people refer to them.
    let root = s.jurisdiction(None, root_name, "province", None);
    let rows = std::mem::take(&mut s.ws.rows);
    let admin = s.person(&root, "系统管理员", Some(admin_token), &[]);
    s.grant(admin, "administrator", &root);
    let people = std::mem::take(&mut s.ws.rows);
    let trust = std::mem::take(&mut s.trust);
    s.ws.rows = rows.into_iter().chain(people).chain(trust).collect();
    state.store.commit(s.ws).await?;
    Ok(admin)
}

/// Loads the demo: jurisdictions, people with posts, the example plans and four incidents.
pub async fn load_demo(state: &AppState) -> Result<(), ApiError> {
    let mut s = Seed {
        ws: WriteSet::default(),
        actor: crate::system_actor(),
        now: state.clock.now(),
        sealer: state.sealer.clone(),
        trust: Vec::new(),
    };
    let province = s.jurisdiction(None, "江川省", "province", Some("990000"));
    let city = s.jurisdiction(Some(&province), "云岭市", "city", Some("990100"));
    let county = s.jurisdiction(Some(&city), "临溪市", "county", Some("990181"));
    let town = s.jurisdiction(Some(&county), "青石镇", "township", Some("990181101"));
    let _village = s.jurisdiction(Some(&town), "枫林村", "village", None);
    let street = s.jurisdiction(Some(&county), "东湖街道", "street", Some("990181001"));
    let park = s.jurisdiction(Some(&county), "临溪工业园", "body", None);
    let npc = s.jurisdiction(Some(&city), "云岭市人大常委会办公室", "body", None);
    let jurisdiction_rows = std::mem::take(&mut s.ws.rows);

    let admin = s.person(&province, "陈思远", Some("demo-province-admin"), &[]);
    s.grant(admin, "administrator", &province);
    s.account(admin, "province-admin");
    let city_duty = s.person(&city, "何静怡", Some("demo-city-duty"), &[]);
    s.grant(city_duty, "duty_officer", &city);
    s.account(city_duty, "city-duty");
    let duty = s.person(&county, "王晓明", Some("demo-duty-officer"), &[]);
    s.grant(duty, "duty_officer", &county);
    s.grant(duty, "plan_author", &county);
    s.account(duty, "duty-officer");
    // The headquarters' leader also deputises for the post that commands level Ⅰ, so that he
    // may end a response the plan puts under that post.
    let commander = s.person(
        &county,
        "林建国",
        Some("demo-commander"),
        &[
            ("deputy-secretary", false),
            ("party-deputy-secretary", true),
            ("petition-deputy", false),
        ],
    );
    // The petition office: a registrar, and the 秘书长 who approves the 拟办意见 after the
    // 分管领导 (林建国, post `petition-deputy`).
    let clerk = s.person(&county, "高文静", Some("demo-petition-clerk"), &[]);
    s.grant(clerk, "petition_clerk", &county);
    s.account(clerk, "petition-registrar");
    let secretary_general = s.person(
        &county,
        "罗志远",
        Some("demo-secretary-general"),
        &[("secretary-general", false)],
    );
    s.grant(secretary_general, "approver", &county);
    s.account(secretary_general, "secretary-general");
    s.grant(commander, "commander", &county);
    s.grant(commander, "approver", &county);
    s.account(commander, "commander");
    let auditor = s.person(&county, "许清", Some("demo-auditor"), &[]);
    s.grant(auditor, "auditor", &county);
    s.account(auditor, "auditor");
    s.person(
        &county,
        "赵文华",
        None,
        &[("party-deputy-secretary", false)],
    );
    // Commands levels Ⅱ–Ⅲ of the Linxiang plan, so he may end those responses.
    let plac = s.person(
        &county,
        "钱立新",
        Some("demo-plac-secretary"),
        &[("plac-secretary", false)],
    );
    s.grant(plac, "commander", &county);
    s.account(plac, "plac-secretary");
    s.person(
        &county,
        "孙海燕",
        None,
        &[("vice-mayor", false), ("executive-vice-mayor", false)],
    );
    let clerk = s.person(
        &county,
        "周敏",
        None,
        &[("petition-bureau-director", false)],
    );
    s.grant(clerk, "petition_clerk", &county);
    s.account(clerk, "petition-clerk");
    s.person(&county, "吴志强", None, &[("plac-deputy-secretary", false)]);
    let member = s.person(
        &county,
        "郑国平",
        Some("demo-group-member"),
        &[("police-commissar", false)],
    );
    s.grant(member, "group_member", &county);
    s.account(member, "group-member");
    s.person(
        &county,
        "冯磊",
        None,
        &[("police-commissar", true), ("police-deputy", false)],
    );
    s.person(&county, "褚晓丽", None, &[("health-bureau-deputy", false)]);
    let town_duty = s.person(&town, "刘洋", Some("demo-town-duty"), &[]);
    s.grant(town_duty, "duty_officer", &town);
    s.account(town_duty, "town-duty");
    s.person(&town, "卫东升", None, &[("party-secretary", false)]);
    let street_duty = s.person(&street, "蒋雨桐", Some("demo-street-duty"), &[]);
    s.grant(street_duty, "duty_officer", &street);
    s.account(street_duty, "street-duty");
    s.person(
        &street,
        "沈建华",
        None,
        &[("party-secretary", false), ("director", false)],
    );
    s.person(&park, "韩立", None, &[]);
    s.person(&npc, "杨帆", None, &[("secretary-general", false)]);
    let people_rows = std::mem::take(&mut s.ws.rows);
    let trust = std::mem::take(&mut s.trust);
    s.ws.rows = jurisdiction_rows
        .into_iter()
        .chain(people_rows)
        .chain(trust)
        .collect();
    state.store.commit(s.ws).await?;

    let owner = |file: &str| match file {
        "linxiang-city.toml" => county.id,
        "ceshan-street.toml" => street.id,
        "industrial-park.toml" => park.id,
        "lincang-npc-office.toml" => npc.id,
        _ => town.id,
    };
    let system = crate::system_actor();
    for (file, text) in EXAMPLE_PLANS {
        load_plan(state, &system, owner(file), text, file, None).await?;
    }

    let as_duty = ActorRef {
        person_id: duty,
        name: "王晓明".into(),
    };
    let as_commander = ActorRef {
        person_id: commander,
        name: "林建国".into(),
    };
    let as_member = ActorRef {
        person_id: member,
        name: "郑国平".into(),
    };

    // 1. An active level Ⅱ response in 临溪市, one task acknowledged.
    let big = report_core(
        state,
        &as_duty,
        &county,
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
        None,
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
    report_core(
        state,
        &as_duty,
        &county,
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
        None,
    )
    .await?;

    // 3. A drill at level Ⅲ in 临溪市, active.
    let drill = report_core(
        state,
        &as_duty,
        &county,
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
        None,
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
    let ended = report_core(
        state,
        &as_duty,
        &county,
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
        None,
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
        &as_commander,
        ended.id,
        Command::EndResponse {
            reason: "业主代表已与住建局达成约谈安排，群众已散去".into(),
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
            due_at: now
                .checked_add(SignedDuration::from_hours(24 * 14))
                .expect("in range"),
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
            due_at: now
                .checked_add(SignedDuration::from_hours(24 * 30))
                .expect("in range"),
        },
    )
    .await?;

    // 5. Petition cases in 临溪市: a letter just registered, and a collective visit linked to the
    //    active incident.
    let as_clerk = ActorRef {
        person_id: clerk,
        name: "高文静".into(),
    };
    let petition = |channel, form, headcount, names: &[&str], title: &str, grievance: &str| {
        yingji_domain::case::NewCase {
            jurisdiction_id: county.id,
            case_number: String::new(),
            channel,
            form,
            headcount,
            petitioners: names
                .iter()
                .map(|n| yingji_domain::case::Petitioner {
                    name: n.to_string(),
                    contact: None,
                    address: None,
                    id_number: None,
                })
                .collect(),
            title: title.into(),
            grievance: grievance.into(),
            case_type: "general".into(),
            received_at: now,
            origin: None,
            related_cases: vec![],
            incident_id: None,
        }
    };
    use yingji_domain::case::{Channel, Form};
    crate::cases::register(
        state,
        &as_clerk,
        county.id,
        &county,
        petition(
            Channel::Letter,
            Form::Single,
            1,
            &["李某"],
            "来信反映小区供暖不达标",
            "要求供热公司整改并退还部分供暖费",
        ),
        None,
        &|_, _| {},
    )
    .await?;
    let mut visit = petition(
        Channel::Visit,
        Form::Collective,
        35,
        &["张某", "王某"],
        "集体来访反映拖欠工程款",
        "要求建筑公司支付拖欠的工程款",
    );
    visit.incident_id = Some(big.id);
    crate::cases::register(
        state,
        &as_clerk,
        county.id,
        &county,
        visit,
        None,
        &|_, _| {},
    )
    .await?;
    Ok(())
}

/// More demo data for the console's case, dispute and roster pages, loaded by `yingji serve`
/// after [`load_demo`] (the tests keep the smaller demo): two older petitions, one near its due
/// date and one past it; this month's dispute screening round in 临溪市 with one township's
/// return; a dispute; and a day/night duty roster for a post the demo leaves vacant. Everything
/// goes through the same functions as the API.
pub async fn load_demo_extras(state: &AppState) -> Result<(), ApiError> {
    use axum::extract::{Path, State};
    use axum::http::HeaderMap;
    use yingji_domain::case::{Channel, Form, NewCase, Petitioner};

    use crate::auth::Actor;
    use crate::error::JsonBody;

    let find = |name: &'static str| async move {
        state
            .store
            .list_jurisdictions("/")
            .await?
            .into_iter()
            .find(|j| j.name == name)
            .ok_or_else(|| ApiError::not_found(name))
    };
    let county = find("临溪市").await?;
    let town = find("青石镇").await?;
    let person = |token: &'static str| async move {
        state
            .store
            .person_by_token(&token_hash(token))
            .await?
            .ok_or_else(|| ApiError::not_found(token))
    };
    let clerk = person("demo-petition-clerk").await?;
    let duty = person("demo-duty-officer").await?;
    let town_duty = person("demo-town-duty").await?;
    let lead = person("demo-commander").await?;
    let as_clerk = ActorRef {
        person_id: clerk.id,
        name: clerk.name.clone(),
    };
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
        let n = NewCase {
            jurisdiction_id: county.id,
            case_number: String::new(),
            channel: if days_ago > 60 {
                Channel::Online
            } else {
                Channel::Phone
            },
            form: Form::Single,
            headcount: 1,
            // Invented contact details, sealed at rest and shown masked.
            petitioners: vec![Petitioner {
                name: names.into(),
                contact: (days_ago < 60).then(|| "13700002468".to_string()),
                address: (days_ago < 60).then(|| "临溪市青石镇柳塘村三组".to_string()),
                id_number: None,
            }],
            title: title.into(),
            grievance: grievance.into(),
            case_type: "general".into(),
            received_at: now
                .checked_sub(SignedDuration::from_hours(24 * days_ago))
                .expect("in range"),
            origin: None,
            related_cases: vec![],
            incident_id: None,
        };
        crate::cases::register(state, &as_clerk, county.id, &county, n, None, &|_, _| {}).await?;
    }
    crate::cases::tick_cases(state).await?;

    let duty_actor = Actor::load(state, duty.id, None).await?;
    let town_actor = Actor::load(state, town_duty.id, None).await?;
    fn body<T>(value: T) -> JsonBody<T> {
        JsonBody {
            value,
            sha256: String::new(),
        }
    }
    let resp = crate::disputes::open_round(
        State(state.clone()),
        duty_actor.clone(),
        HeaderMap::new(),
        body(crate::disputes::OpenRoundRequest {
            jurisdiction_id: county.id,
            date: None,
        }),
    )
    .await?;
    let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20)
        .await
        .map_err(ApiError::internal)?;
    let round: serde_json::Value = serde_json::from_slice(&bytes).map_err(ApiError::internal)?;
    let round_id: Uuid = round["id"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| ApiError::internal("round without id"))?;
    crate::disputes::submit_round(
        State(state.clone()),
        town_actor.clone(),
        HeaderMap::new(),
        Path(round_id),
        body(crate::disputes::RoundSubmissionRequest {
            unit_id: town.id,
            nil: false,
            disputes_found: 1,
            note: Some("排查出土地流转纠纷一起".into()),
        }),
    )
    .await?;
    crate::disputes::create_dispute(
        State(state.clone()),
        town_actor,
        HeaderMap::new(),
        body(crate::disputes::NewDisputeRequest {
            jurisdiction_id: town.id,
            round_id: Some(round_id),
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

    let roster: yingji_domain::roster::Roster = serde_json::from_value(json!({
        "time_zone": "Asia/Shanghai",
        "shifts": [
            {"id": "day", "name": "白班", "start": "08:30", "end": "17:30"},
            {"id": "night", "name": "夜班", "start": "17:30", "end": "08:30"}
        ],
        "start_date": now.to_zoned(jiff::tz::TimeZone::get("Asia/Shanghai").map_err(ApiError::internal)?).date().to_string(),
        "rotation": [
            {"person_id": duty.id, "name": duty.name},
            {"person_id": clerk.id, "name": clerk.name},
            {"person_id": lead.id, "name": lead.name}
        ]
    }))
    .map_err(ApiError::internal)?;
    let _stored = crate::notify_api::put_roster(
        State(state.clone()),
        duty_actor,
        Path((county.id, "party-office-director".to_string())),
        body(roster),
    )
    .await?;
    Ok(())
}
