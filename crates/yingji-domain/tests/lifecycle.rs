//! The incident lifecycle against the Linxiang example plan, with time driven by hand.

use std::collections::BTreeMap;
use std::sync::Mutex;

use jiff::{SignedDuration, Timestamp};
use uuid::Uuid;
use yingji_domain::incident::*;
use yingji_domain::{ActorRef, PersonRef};
use yingji_plan::Plan;

fn plan() -> Plan {
    let text = include_str!("../../../examples/plans/linxiang-city.toml");
    yingji_plan::load(text).plan.unwrap()
}

struct World {
    plan: Plan,
    now: Timestamp,
    state: Option<Incident>,
    log: Vec<Event>,
    ids: Mutex<u128>,
}

fn person(n: u128, name: &str) -> PersonRef {
    PersonRef {
        person_id: Uuid::from_u128(n),
        name: name.into(),
    }
}

fn holders(post: &str) -> Vec<PersonRef> {
    match post {
        "deputy-secretary" => vec![person(1, "林副书记")],
        "petition-bureau-director" => vec![person(2, "周局长")],
        "police-commissar" => vec![person(3, "吴政委")],
        "plac-deputy-secretary" => vec![person(4, "郑副书记")],
        _ => vec![],
    }
}

impl World {
    fn new() -> Self {
        World {
            plan: plan(),
            now: "2026-03-02T02:00:00Z".parse().unwrap(), // 10:00 in Shanghai
            state: None,
            log: vec![],
            ids: Mutex::new(1000),
        }
    }

    fn run(&mut self, cmd: Command) -> Result<Vec<Event>, IncidentError> {
        let actor = ActorRef {
            person_id: Uuid::from_u128(9),
            name: "值班员王某".into(),
        };
        self.run_as(actor, cmd)
    }

    fn run_as(&mut self, actor: ActorRef, cmd: Command) -> Result<Vec<Event>, IncidentError> {
        let next = || {
            let mut n = self.ids.lock().unwrap();
            *n += 1;
            Uuid::from_u128(*n)
        };
        let ctx = Ctx {
            now: self.now,
            actor: &actor,
            plan: &self.plan,
            holders: &holders,
            new_id: &next,
        };
        let events = decide(self.state.as_ref(), &cmd, &ctx)?;
        for e in &events {
            self.state = apply(self.state.take(), e, self.now, &actor);
        }
        self.log.extend(events.clone());
        Ok(events)
    }

    fn inc(&self) -> &Incident {
        self.state.as_ref().unwrap()
    }

    fn later(&mut self, mins: i64) {
        self.now = self
            .now
            .checked_add(SignedDuration::from_mins(mins))
            .unwrap();
    }
}

fn report(headcount: u32) -> NewReport {
    let fields: BTreeMap<String, serde_json::Value> = [
        ("unit", "某某村"),
        ("address", "市政府东门"),
        ("time", "2026-03-02 09:40"),
        ("demands", "征地补偿款未按期发放"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), serde_json::json!(v)))
    .collect();
    NewReport {
        id: Uuid::from_u128(77),
        jurisdiction_id: Uuid::from_u128(5),
        plan_id: "linxiang-city-mass-petition".into(),
        plan_version: 1,
        kind: IncidentKind::Event,
        drill: false,
        title: "某某村群众反映征地补偿问题".into(),
        headcount,
        venue: None,
        behaviours: vec![],
        location: Some("市政府东门".into()),
        fields,
        source_incident: None,
    }
}

#[test]
fn a_report_of_120_runs_through_the_whole_loop() {
    let mut w = World::new();
    w.run(Command::Report(report(120))).unwrap();
    assert_eq!(w.inc().status, Status::Reported);
    assert_eq!(
        w.inc()
            .proposal
            .as_ref()
            .unwrap()
            .level
            .as_ref()
            .unwrap()
            .id,
        "II"
    );
    assert_eq!(
        w.inc().tasks.len(),
        3,
        "first-response items for an actual event"
    );

    w.later(5);
    w.run(Command::Verify {
        note: Some("电话核实属实".into()),
    })
    .unwrap();
    w.run(Command::Assess {
        level: None,
        reason: None,
    })
    .unwrap();
    assert_eq!(w.inc().level.as_ref().unwrap().id, "II");
    w.run(Command::Activate { level: None }).unwrap();
    let inc = w.inc();
    assert_eq!(inc.status, Status::Active);
    let order = inc.tasks.iter().find(|t| t.group == "order").unwrap();
    assert_eq!(order.assignees, vec![person(3, "吴政委")]);
    assert_eq!(
        order.due_at,
        "2026-03-02T02:35:00Z".parse::<Timestamp>().unwrap()
    );
    assert!(!order.overdue);
    let order_id = order.id;

    // Nobody acknowledges the order group's task for 31 minutes: tick marks it overdue, once.
    w.later(31);
    let ev = w.run(Command::Tick).unwrap();
    assert!(
        ev.iter()
            .any(|e| matches!(e, Event::TaskOverdue { id, .. } if *id == order_id))
    );
    assert!(
        w.inc()
            .tasks
            .iter()
            .find(|t| t.id == order_id)
            .unwrap()
            .overdue
    );
    let again = w.run(Command::Tick).unwrap();
    assert!(
        !again
            .iter()
            .any(|e| matches!(e, Event::TaskOverdue { id, .. } if *id == order_id))
    );

    w.run(Command::Task {
        id: order_id,
        action: TaskAction::Acknowledge,
        reason: None,
    })
    .unwrap();
    let err = w
        .run(Command::Task {
            id: order_id,
            action: TaskAction::Acknowledge,
            reason: None,
        })
        .unwrap_err();
    assert_eq!(err.code().as_str(), "illegal_task_transition");

    // The crowd grows past 500: the plan proposes Ⅰ; the commander accepts; Ⅰ adds no tasks
    // beyond Ⅱ's but calls the parent.
    let ev = w
        .run(Command::Update(Update {
            headcount: Some(520),
            grievances: vec!["要求公开补偿标准".into()],
            care: vec!["已提供饮用水".into()],
            ..Default::default()
        }))
        .unwrap();
    assert!(
        ev.iter()
            .any(|e| matches!(e, Event::RegradeProposed { proposal } if proposal.to.id == "I"))
    );
    w.run(Command::AcceptRegrade).unwrap();
    assert_eq!(w.inc().level.as_ref().unwrap().id, "I");
    assert_eq!(w.inc().grievances.len(), 1);
    assert_eq!(w.inc().care.len(), 1);

    // Police need the approval of the post the plan names.
    let wrong = w
        .run(Command::RequestCoerciveStep {
            id: Uuid::now_v7(),
            step: "police".into(),
            approver: person(2, "周局长"),
            reason: "有人冲击大门".into(),
        })
        .unwrap_err();
    assert_eq!(wrong.code().as_str(), "wrong_approver");
    let no_reason = w
        .run(Command::RequestCoerciveStep {
            id: Uuid::now_v7(),
            step: "police".into(),
            approver: person(1, "林副书记"),
            reason: " ".into(),
        })
        .unwrap_err();
    assert_eq!(no_reason.code().as_str(), "reason_required");
    // The plan names a consultation (会商) before police: none recorded yet.
    let request = |id: Uuid| Command::RequestCoerciveStep {
        id,
        step: "police".into(),
        approver: person(1, "林副书记"),
        reason: "有人冲击大门".into(),
    };
    let rid = Uuid::from_u128(77);
    let no_consult = w.run(request(rid)).unwrap_err();
    assert_eq!(no_consult.code().as_str(), "consultation_required");
    w.run(Command::RecordConsultation {
        id: Uuid::from_u128(78),
        step: "police".into(),
        participants: vec!["市信访局".into(), "市公安局".into()],
        conclusion: "劝离无效，报请调集警力".into(),
    })
    .unwrap();
    // The approver cannot request a step naming himself.
    let lin = ActorRef {
        person_id: Uuid::from_u128(1),
        name: "林副书记".into(),
    };
    let own = w
        .run_as(lin.clone(), request(Uuid::from_u128(79)))
        .unwrap_err();
    assert_eq!(own.code().as_str(), "self_approval");
    w.run(request(rid)).unwrap();
    let r = &w.inc().coercive_steps[0];
    assert_eq!(r.approver_post, "deputy-secretary");
    assert_eq!(r.state, CoerciveState::Pending);
    assert_eq!(r.consultation_id, Some(Uuid::from_u128(78)));
    // Neither the requester nor anyone else but the named approver may decide it.
    let decide = |approve: bool| Command::DecideCoerciveStep {
        id: rid,
        approve,
        reason: None,
    };
    let by_requester = w.run(decide(true)).unwrap_err();
    assert_eq!(by_requester.code().as_str(), "not_the_approver");
    let zhou = ActorRef {
        person_id: Uuid::from_u128(2),
        name: "周局长".into(),
    };
    let by_other = w.run_as(zhou, decide(true)).unwrap_err();
    assert_eq!(by_other.code().as_str(), "not_the_approver");
    let no_reason = w.run_as(lin.clone(), decide(false)).unwrap_err();
    assert_eq!(no_reason.code().as_str(), "reason_required");
    w.run_as(lin.clone(), decide(true)).unwrap();
    let r = &w.inc().coercive_steps[0];
    assert_eq!(r.state, CoerciveState::Approved);
    assert_eq!(r.decided_by.as_ref().unwrap().name, "林副书记");
    let twice = w.run_as(lin, decide(false)).unwrap_err();
    assert_eq!(twice.code().as_str(), "coercive_already_decided");

    w.later(60);
    let open_before: Vec<Uuid> = w
        .inc()
        .tasks
        .iter()
        .filter(|t| !t.state.is_finished())
        .map(|t| t.id)
        .collect();
    assert!(!open_before.is_empty());
    let ended_at = w.now;
    w.run(Command::EndResponse {
        reason: "群众已散去".into(),
        open_tasks: CloseReason::NotNeeded,
    })
    .unwrap();
    // The response's open tasks are closed with the reason, never as done…
    for id in &open_before {
        let t = w.inc().tasks.iter().find(|t| t.id == *id).unwrap();
        assert_eq!(t.state, TaskState::Closed);
        assert_eq!(t.closed_reason, Some(CloseReason::NotNeeded));
        assert!(t.done_at.is_none());
    }
    // …the plan's aftermath duties become tasks with the plan's times, and the review is due
    // within `review_within` (7d).
    let week = ended_at
        .checked_add(SignedDuration::from_hours(24 * 7))
        .unwrap();
    assert_eq!(w.inc().review_due_at, Some(week));
    let duties: Vec<&Task> = w.inc().tasks.iter().filter(|t| t.aftermath).collect();
    assert_eq!(duties.len(), 4);
    assert!(
        duties
            .iter()
            .all(|t| t.due_at == week && t.state == TaskState::Open)
    );
    let township = duties.iter().find(|t| t.group == "township-head").unwrap();
    assert_eq!(township.post.as_deref(), Some("township-head"));
    assert_eq!(
        w.run(Command::Activate { level: None })
            .unwrap_err()
            .code()
            .as_str(),
        "illegal_transition"
    );

    // Aftermath: a commitment and a written reply, each tracked to its deadline.
    let past = w.now.checked_sub(SignedDuration::from_mins(1)).unwrap();
    let err = w
        .run(Command::AddObligation {
            id: Uuid::from_u128(500),
            kind: ObligationKind::Commitment,
            text: "十日内公布补偿标准".into(),
            owner: "市自然资源局".into(),
            due_at: Some(past),
        })
        .unwrap_err();
    assert_eq!(err.code().as_str(), "deadline_in_past");
    let due = w
        .now
        .checked_add(SignedDuration::from_hours(24 * 10))
        .unwrap();
    w.run(Command::AddObligation {
        id: Uuid::from_u128(500),
        kind: ObligationKind::Commitment,
        text: "十日内公布补偿标准".into(),
        owner: "市自然资源局".into(),
        due_at: Some(due),
    })
    .unwrap();
    // Without a deadline, a reply is due within the plan's `reply_within` (15d).
    w.run(Command::AddObligation {
        id: Uuid::from_u128(501),
        kind: ObligationKind::Reply,
        text: "向上访代表书面答复".into(),
        owner: "市信访局".into(),
        due_at: None,
    })
    .unwrap();
    assert_eq!(
        w.inc().obligations[1].due_at,
        w.now
            .checked_add(SignedDuration::from_hours(24 * 15))
            .unwrap()
    );
    w.later(16 * 24 * 60);
    let ev = w.run(Command::Tick).unwrap();
    assert_eq!(
        ev.iter()
            .filter(|e| matches!(e, Event::ObligationOverdue { .. }))
            .count(),
        2
    );
    // Closed tasks never turn overdue; the aftermath's and the review do.
    for e in &ev {
        if let Event::TaskOverdue { id, .. } = e {
            assert!(!open_before.contains(id), "a closed task turned overdue");
        }
    }
    assert!(ev.iter().any(|e| matches!(e, Event::ReviewOverdue { .. })));
    assert!(w.inc().review_overdue);
    assert_eq!(
        w.run(Command::FulfilObligation {
            id: Uuid::from_u128(501),
            channel: None,
            outcome: None
        })
        .unwrap_err()
        .code()
        .as_str(),
        "channel_required"
    );
    w.run(Command::FulfilObligation {
        id: Uuid::from_u128(501),
        channel: Some("挂号信".into()),
        outcome: Some("已答复".into()),
    })
    .unwrap();

    // The review is available once the response has ended (the aftermath's tasks still
    // open); it measures the times.
    let ca_due = w
        .now
        .checked_add(SignedDuration::from_hours(24 * 30))
        .unwrap();
    w.run(Command::Review {
        summary: "处置及时".into(),
        lessons: vec!["夜间到岗偏慢".into()],
        corrective_actions: vec![CorrectiveAction {
            id: Uuid::nil(),
            title: "完善夜间值班".into(),
            owner: "联席会议办公室主任".into(),
            owner_person: None,
            owner_post: Some("township-head".into()),
            due_at: Some(ca_due),
            done: false,
            done_at: None,
            overdue: false,
            plan_revision: None,
        }],
        measured: None,
    })
    .unwrap();
    let open: Vec<Uuid> = w
        .inc()
        .tasks
        .iter()
        .filter(|t| !t.state.is_finished())
        .map(|t| t.id)
        .collect();
    for id in open {
        w.run(Command::Task {
            id,
            action: TaskAction::Done,
            reason: None,
        })
        .unwrap();
    }
    let m = &w.inc().review.as_ref().unwrap().measured;
    assert_eq!(m.report_to_verify_s, Some(300));
    assert_eq!(m.report_to_activate_s, Some(300));
    assert_eq!(m.activate_to_end_s, Some(91 * 60));
    let t = m.tasks.iter().find(|t| t.task_id == order_id).unwrap();
    assert_eq!(t.to_ack_s, Some(31 * 60));
    assert!(t.overdue);
    // The corrective action: an owner post, a deadline, overdue by the tick, then done and
    // linked to the plan revision that answers it.
    let ca = w.inc().review.as_ref().unwrap().corrective_actions[0].clone();
    assert!(!ca.id.is_nil());
    w.later(31 * 24 * 60);
    let ev = w.run(Command::Tick).unwrap();
    assert!(ev.contains(&Event::CorrectiveActionOverdue {
        id: ca.id,
        due_at: ca_due
    }));
    w.run(Command::LinkCorrectiveAction {
        id: ca.id,
        revision: PlanRevision {
            plan_id: "linxiang-city-mass-petition".into(),
            version: 2,
        },
    })
    .unwrap();
    w.run(Command::CorrectiveActionDone { id: ca.id }).unwrap();
    assert_eq!(
        w.run(Command::CorrectiveActionDone { id: ca.id })
            .unwrap_err()
            .code()
            .as_str(),
        "already_fulfilled"
    );
    let ca = &w.inc().review.as_ref().unwrap().corrective_actions[0];
    assert!(ca.done && ca.overdue);
    assert_eq!(ca.plan_revision.as_ref().unwrap().version, 2);
    // The commitment is still owed: the record stays open until it is fulfilled.
    assert_eq!(
        w.run(Command::Close).unwrap_err().code().as_str(),
        "open_obligations"
    );
    w.run(Command::FulfilObligation {
        id: Uuid::from_u128(500),
        channel: None,
        outcome: Some("已公布".into()),
    })
    .unwrap();
    w.run(Command::Close).unwrap();
    assert_eq!(w.inc().status, Status::Closed);
    assert_eq!(w.run(Command::Tick).unwrap(), vec![]);
}

#[test]
fn a_missing_required_intake_field_is_refused() {
    let mut w = World::new();
    let mut r = report(30);
    r.fields.remove("demands");
    let err = w.run(Command::Report(r)).unwrap_err();
    assert_eq!(
        err,
        IncidentError::MissingIntakeField {
            field: "demands".into(),
            label: "反映的主要问题和要求".into()
        }
    );
    assert!(w.state.is_none());
}

#[test]
fn illegal_transitions_are_refused() {
    let mut w = World::new();
    w.run(Command::Report(report(30))).unwrap();
    for cmd in [
        Command::Activate { level: None },
        Command::EndResponse {
            reason: "x".into(),
            open_tasks: CloseReason::NotNeeded,
        },
        Command::Close,
        Command::Review {
            summary: "x".into(),
            lessons: vec![],
            corrective_actions: vec![],
            measured: None,
        },
    ] {
        let err = w.run(cmd).unwrap_err();
        assert_eq!(err.code().as_str(), "illegal_transition", "{err}");
    }
    assert_eq!(w.inc().status, Status::Reported);
}

#[test]
fn overriding_the_proposed_level_needs_a_reason() {
    let mut w = World::new();
    w.run(Command::Report(report(30))).unwrap();
    w.run(Command::Verify { note: None }).unwrap();
    assert_eq!(
        w.run(Command::Assess {
            level: Some("III".into()),
            reason: None
        })
        .unwrap_err()
        .code()
        .as_str(),
        "reason_required"
    );
    w.run(Command::Assess {
        level: Some("III".into()),
        reason: Some("现场情绪激动，很难控制".into()),
    })
    .unwrap();
    assert_eq!(w.inc().level.as_ref().unwrap().id, "III");
    assert_eq!(
        w.run(Command::Assess {
            level: Some("V".into()),
            reason: None
        })
        .unwrap_err()
        .code()
        .as_str(),
        "unknown_level"
    );
}

#[test]
fn drills_mark_every_task_and_obligation() {
    let mut w = World::new();
    let mut r = report(60);
    r.drill = true;
    w.run(Command::Report(r)).unwrap();
    w.run(Command::Verify { note: None }).unwrap();
    w.run(Command::Assess {
        level: None,
        reason: None,
    })
    .unwrap();
    w.run(Command::Activate { level: None }).unwrap();
    let due = w.now.checked_add(SignedDuration::from_hours(24)).unwrap();
    w.run(Command::AddObligation {
        id: Uuid::from_u128(600),
        kind: ObligationKind::Reply,
        text: "答复".into(),
        owner: "信访局".into(),
        due_at: Some(due),
    })
    .unwrap();
    assert!(w.inc().tasks.iter().all(|t| t.drill));
    assert!(w.inc().obligations.iter().all(|o| o.drill));
}

#[test]
fn an_unfounded_report_closes_its_tasks_and_they_never_turn_overdue() {
    let mut w = World::new();
    w.run(Command::Report(report(30))).unwrap();
    assert!(!w.inc().tasks.is_empty(), "first-response tasks");
    w.run(Command::MarkUnfounded {
        reason: "经核实，无人聚集".into(),
    })
    .unwrap();
    assert!(
        w.inc().tasks.iter().all(
            |t| t.state == TaskState::Closed && t.closed_reason == Some(CloseReason::NotNeeded)
        )
    );
    w.later(24 * 60);
    assert_eq!(w.run(Command::Tick).unwrap(), vec![]);
}

#[test]
fn a_task_signed_for_its_assignee_is_recorded_as_on_their_behalf() {
    let mut w = World::new();
    w.run(Command::Report(report(60))).unwrap();
    w.run(Command::Verify { note: None }).unwrap();
    w.run(Command::Assess {
        level: None,
        reason: None,
    })
    .unwrap();
    w.run(Command::Activate { level: None }).unwrap();
    let t = w
        .inc()
        .tasks
        .iter()
        .find(|t| !t.assignees.is_empty())
        .unwrap()
        .clone();
    let ev = w
        .run(Command::Task {
            id: t.id,
            action: TaskAction::Acknowledge,
            reason: None,
        })
        .unwrap();
    assert_eq!(
        ev,
        vec![Event::TaskAcknowledged {
            id: t.id,
            on_behalf_of: t.assignees.clone()
        }]
    );
    let after = w.inc().tasks.iter().find(|x| x.id == t.id).unwrap();
    assert_eq!(after.acknowledged_for, t.assignees);
}

/// The example plan with a final report (终报) added to level IV.
fn plan_with_final() -> Plan {
    let text = include_str!("../../../examples/plans/linxiang-city.toml").replace(
        "# 4.1 先期处置: before any grading.",
        "[[levels.reports]]\nkind = \"final\"\nto = \"市委、市政府\"\nby = \"office\"\nwithin = \"1h\"\nfields = [\"处置结果\"]\n\n# 4.1 先期处置: before any grading.",
    );
    let loaded = yingji_plan::load(&text);
    loaded.plan.unwrap()
}

/// A level IV response (30 people), activated at 10:05.
fn active_iv(plan: Plan) -> World {
    let mut w = World::new();
    w.plan = plan;
    w.run(Command::Report(report(30))).unwrap();
    w.later(5);
    w.run(Command::Verify { note: None }).unwrap();
    w.run(Command::Assess {
        level: None,
        reason: None,
    })
    .unwrap();
    assert_eq!(w.inc().level.as_ref().unwrap().id, "IV");
    w.run(Command::Activate { level: None }).unwrap();
    w
}

fn follow_up_values(r: &UpwardReport) -> BTreeMap<String, String> {
    r.fields
        .iter()
        .map(|f| (f.clone(), format!("{f}情况")))
        .collect()
}

fn open_of(w: &World, kind: UpwardKind) -> Vec<UpwardReport> {
    w.inc()
        .upward_reports
        .iter()
        .filter(|r| r.kind == kind && r.is_open())
        .cloned()
        .collect()
}

#[test]
fn reports_owed_upward_are_due_as_simulate_computes_them() {
    let w = active_iv(plan());
    let activated = w.now;
    let sim = yingji_plan::simulate(
        &w.plan,
        &yingji_plan::classify::Input {
            headcount: 30,
            venue: None,
            behaviours: &[],
        },
        &activated,
    );
    let reports = &w.inc().upward_reports;
    assert_eq!(reports.len(), sim.reports.len());
    for (r, s) in reports.iter().zip(&sim.reports) {
        assert_eq!(r.to, s.to);
        let due: Timestamp = s.due_at.parse().unwrap();
        assert_eq!(r.due_at, Some(due), "{:?}", r.kind);
    }
    let first = &reports[0];
    assert_eq!(first.kind, UpwardKind::First);
    assert_eq!(
        first.due_at,
        Some(activated + SignedDuration::from_mins(30))
    );
    // `by = "office"`: the office head; the level's commanders may submit too.
    assert_eq!(first.posts, vec!["petition-bureau-director".to_string()]);
    assert_eq!(
        first.commanders,
        vec![
            "petition-bureau-director".to_string(),
            "plac-deputy-secretary".to_string()
        ]
    );
    assert_eq!(first.deliver_to.as_deref(), Some("command"));
    // The ticker wakes by then (earlier for the first response's tasks).
    assert!(next_due(w.inc()) <= first.due_at);
}

#[test]
fn a_late_report_is_marked_once_and_fields_are_required() {
    let mut w = active_iv(plan());
    let first = open_of(&w, UpwardKind::First)[0].clone();
    w.later(31);
    let ev = w.run(Command::Tick).unwrap();
    assert!(
        ev.iter()
            .any(|e| matches!(e, Event::UpwardReportLate { id, .. } if *id == first.id))
    );
    assert!(w.inc().upward_reports[0].late);
    let again = w.run(Command::Tick).unwrap();
    assert!(
        !again
            .iter()
            .any(|e| matches!(e, Event::UpwardReportLate { .. })),
        "late once"
    );
    // A first report without fields needs its text.
    let err = w
        .run(Command::SubmitUpwardReport {
            id: first.id,
            values: BTreeMap::new(),
            text: None,
        })
        .unwrap_err();
    assert!(matches!(err, IncidentError::MissingReportField { .. }));
    w.run(Command::SubmitUpwardReport {
        id: first.id,
        values: BTreeMap::new(),
        text: Some("现场约30人，情绪平稳".into()),
    })
    .unwrap();
    let err = w
        .run(Command::SubmitUpwardReport {
            id: first.id,
            values: BTreeMap::new(),
            text: Some("again".into()),
        })
        .unwrap_err();
    assert_eq!(err, IncidentError::UpwardReportSubmitted);
    let err = w
        .run(Command::SubmitUpwardReport {
            id: Uuid::from_u128(424242),
            values: BTreeMap::new(),
            text: Some("x".into()),
        })
        .unwrap_err();
    assert!(matches!(err, IncidentError::UnknownUpwardReport { .. }));
    // The follow-up's plan fields must each be given.
    let follow = open_of(&w, UpwardKind::FollowUp)[0].clone();
    let mut values = follow_up_values(&follow);
    values.remove("起因");
    let err = w
        .run(Command::SubmitUpwardReport {
            id: follow.id,
            values,
            text: None,
        })
        .unwrap_err();
    assert_eq!(
        err,
        IncidentError::MissingReportField {
            field: "起因".into()
        }
    );
}

#[test]
fn a_submitted_follow_up_makes_the_next_one_due_every_after_it() {
    let mut w = active_iv(plan());
    let follow = open_of(&w, UpwardKind::FollowUp)[0].clone();
    assert_eq!(follow.seq, 1);
    w.later(100);
    let submitted = w.now;
    w.run(Command::SubmitUpwardReport {
        id: follow.id,
        values: follow_up_values(&follow),
        text: None,
    })
    .unwrap();
    let next = open_of(&w, UpwardKind::FollowUp);
    assert_eq!(next.len(), 1);
    assert_eq!(next[0].seq, 2);
    assert_eq!(
        next[0].due_at,
        Some(submitted + SignedDuration::from_hours(2))
    );
    // Ending the response closes the follow-up not yet due: no more follow-ups.
    w.run_as(
        ActorRef {
            person_id: Uuid::from_u128(2),
            name: "周局长".into(),
        },
        Command::EndResponse {
            reason: "群众已离开".into(),
            open_tasks: CloseReason::NotNeeded,
        },
    )
    .unwrap();
    assert!(open_of(&w, UpwardKind::FollowUp).is_empty());
    assert!(
        w.inc()
            .upward_reports
            .iter()
            .any(|r| r.seq == 2 && r.closed)
    );
}

#[test]
fn the_final_report_falls_due_at_the_end_and_stops_the_follow_ups() {
    let mut w = active_iv(plan_with_final());
    let fin = open_of(&w, UpwardKind::Final)[0].clone();
    assert_eq!(fin.due_at, None, "due only once the response ends");
    let err = w
        .run(Command::SubmitUpwardReport {
            id: fin.id,
            values: [("处置结果".to_string(), "已平息".to_string())].into(),
            text: None,
        })
        .unwrap_err();
    assert!(matches!(err, IncidentError::IllegalTransition { .. }));
    // The first follow-up is late (2h); it stays owed after the end.
    w.later(130);
    w.run(Command::Tick).unwrap();
    let late_follow = open_of(&w, UpwardKind::FollowUp)[0].clone();
    assert!(late_follow.late);
    w.run(Command::EndResponse {
        reason: "群众已离开".into(),
        open_tasks: CloseReason::NotNeeded,
    })
    .unwrap();
    let ended = w.now;
    let fin = open_of(&w, UpwardKind::Final)[0].clone();
    assert_eq!(fin.due_at, Some(ended + SignedDuration::from_hours(1)));
    assert_eq!(open_of(&w, UpwardKind::FollowUp).len(), 1);
    w.later(10);
    w.run(Command::SubmitUpwardReport {
        id: fin.id,
        values: [("处置结果".to_string(), "已平息".to_string())].into(),
        text: None,
    })
    .unwrap();
    assert!(open_of(&w, UpwardKind::FollowUp).is_empty(), "stopped");
    // Only the first report, never submitted, is still owed (late).
    assert!(
        w.inc()
            .upward_reports
            .iter()
            .all(|r| !r.is_open() || (r.kind == UpwardKind::First && r.late))
    );
    // A late follow-up submitted after the end makes no next one.
    let err = w
        .run(Command::SubmitUpwardReport {
            id: late_follow.id,
            values: follow_up_values(&late_follow),
            text: None,
        })
        .unwrap_err();
    assert_eq!(err, IncidentError::UpwardReportClosed);
}

#[test]
fn a_regrade_adds_only_the_reports_the_new_level_adds() {
    let mut w = active_iv(plan());
    assert_eq!(w.inc().upward_reports.len(), 2);
    w.run(Command::Update(Update {
        headcount: Some(600),
        ..Default::default()
    }))
    .unwrap();
    w.later(3);
    w.run(Command::AcceptRegrade).unwrap();
    assert_eq!(w.inc().level.as_ref().unwrap().id, "I");
    let added: Vec<&UpwardReport> = w.inc().upward_reports.iter().skip(2).collect();
    assert_eq!(added.len(), 1, "only the report to 云岭市");
    assert!(added[0].to.starts_with("云岭市"));
    assert_eq!(added[0].due_at, Some(w.now + SignedDuration::from_mins(30)));
    assert_eq!(added[0].posts, vec!["party-deputy-secretary".to_string()]);
    assert_eq!(added[0].deliver_to.as_deref(), Some("parent"));
}
