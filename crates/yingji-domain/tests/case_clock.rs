//! Due dates of petition cases, written by hand from the rules (民法典 第二百零一条至第二百零三条;
//! 004-C: 60 days, one extension of at most 30 days approved by the post the rules name) and the
//! 2026 calendar (春节 15–23 February off; Saturdays 14 and 28 February working).

use jiff::Timestamp;
use jiff::civil::{Date, date};
use uuid::Uuid;
use yingji_domain::calendar::{Calendar, DayUnit, PeriodRules};
use yingji_domain::case::{
    CaseConfig, CaseSettings, Channel, Command, Ctx, Form, NewCase, Origin, Petitioner, apply_all,
    decide,
};
use yingji_domain::{ActorRef, PersonRef};

struct Row {
    what: &'static str,
    accepted: Date,
    days: u32,
    unit: DayUnit,
    count_first_day: bool,
    roll: bool,
    last_day: Date,
}

#[test]
fn due_dates_by_hand() {
    let cal = yingji_domain::calendar::Calendar::builtin();
    use DayUnit::*;
    let rows = [
        Row {
            what: "60 calendar days from Friday 6 March: 5 May is 劳动节, so Wednesday 6 May",
            accepted: date(2026, 3, 6),
            days: 60,
            unit: Calendar,
            count_first_day: false,
            roll: true,
            last_day: date(2026, 5, 6),
        },
        Row {
            what: "the same without moving off holidays: 5 May",
            accepted: date(2026, 3, 6),
            days: 60,
            unit: Calendar,
            count_first_day: false,
            roll: false,
            last_day: date(2026, 5, 5),
        },
        Row {
            what: "the same counting the day of acceptance: 4 May",
            accepted: date(2026, 3, 6),
            days: 60,
            unit: Calendar,
            count_first_day: true,
            roll: false,
            last_day: date(2026, 5, 4),
        },
        Row {
            what: "1 calendar day from a Friday ends on Saturday, moved to Monday",
            accepted: date(2026, 3, 6),
            days: 1,
            unit: Calendar,
            count_first_day: false,
            roll: true,
            last_day: date(2026, 3, 9),
        },
        Row {
            what: "2 calendar days from a Friday end on Sunday, moved to Monday",
            accepted: date(2026, 3, 6),
            days: 2,
            unit: Calendar,
            count_first_day: false,
            roll: true,
            last_day: date(2026, 3, 9),
        },
        Row {
            what: "5 working days from a Friday: Monday 9 … Friday 13 March",
            accepted: date(2026, 3, 6),
            days: 5,
            unit: Working,
            count_first_day: false,
            roll: true,
            last_day: date(2026, 3, 13),
        },
        Row {
            what: "5 working days counting the Friday itself: Thursday 12 March",
            accepted: date(2026, 3, 6),
            days: 5,
            unit: Working,
            count_first_day: true,
            roll: true,
            last_day: date(2026, 3, 12),
        },
        Row {
            what: "5 working days from Friday 13 Feb: Sat 14 (调休), Tue 24, Wed 25, Thu 26, Fri 27",
            accepted: date(2026, 2, 13),
            days: 5,
            unit: Working,
            count_first_day: false,
            roll: true,
            last_day: date(2026, 2, 27),
        },
        Row {
            what: "7 working days from Friday 13 Feb: … Sat 28 Feb (调休), Mon 2 March",
            accepted: date(2026, 2, 13),
            days: 7,
            unit: Working,
            count_first_day: false,
            roll: true,
            last_day: date(2026, 3, 2),
        },
        Row {
            what: "10 calendar days from 5 Feb end on 15 Feb (春节), moved past the holiday to 24 Feb",
            accepted: date(2026, 2, 5),
            days: 10,
            unit: Calendar,
            count_first_day: false,
            roll: true,
            last_day: date(2026, 2, 24),
        },
        Row {
            what: "15 calendar days from Friday 13 Feb end on Saturday 28 Feb, a 调休 working day",
            accepted: date(2026, 2, 13),
            days: 15,
            unit: Calendar,
            count_first_day: false,
            roll: true,
            last_day: date(2026, 2, 28),
        },
        Row {
            what: "3 working days from Wednesday 30 Sep: 国庆 1–7 Oct off, Thu 8, Fri 9, Sat 10 (调休)",
            accepted: date(2026, 9, 30),
            days: 3,
            unit: Working,
            count_first_day: false,
            roll: true,
            last_day: date(2026, 10, 10),
        },
    ];
    for r in rows {
        let end = cal.period_end(
            r.accepted,
            r.days,
            r.unit,
            PeriodRules {
                count_first_day: r.count_first_day,
                roll_to_working_day: r.roll,
            },
        );
        assert_eq!(end.last_day, r.last_day, "{}", r.what);
        assert!(!end.provisional, "{}", r.what);
    }
    // A period reaching a year the calendar does not cover is computed with weekends only and
    // flagged: 15 Dec 2026 + 60 days = Saturday 13 Feb 2027 → Monday 15 Feb 2027, provisional.
    let end = cal.period_end(
        date(2026, 12, 15),
        60,
        DayUnit::Calendar,
        PeriodRules::default(),
    );
    assert_eq!((end.last_day, end.provisional), (date(2027, 2, 15), true));
}

/// In a year no calendar file covers, the weekly rest days and the holidays fixed by date in the
/// national rules (元旦 1 January, 劳动节 1–2 May, 国庆节 1–3 October) are known; the result is
/// provisional.
#[test]
fn due_dates_in_a_year_without_a_file() {
    let cal = Calendar::builtin();
    assert!(!cal.covers(date(2027, 1, 1)));
    let rules = PeriodRules::default();
    let rows = [
        (
            "60 days from Monday 2 Nov 2026 end on Friday 1 Jan 2027 (元旦), then the weekend: Monday 4 Jan",
            date(2026, 11, 2),
            60,
            DayUnit::Calendar,
            date(2027, 1, 4),
        ),
        (
            "2 working days from Wednesday 30 Dec 2026: Thursday 31 Dec, (1 Jan 元旦), Monday 4 Jan",
            date(2026, 12, 30),
            2,
            DayUnit::Working,
            date(2027, 1, 4),
        ),
        (
            "10 days from Thursday 21 Sep 2028 end on Sunday 1 Oct; 2–3 Oct are 国庆节: Wednesday 4 Oct",
            date(2028, 9, 21),
            10,
            DayUnit::Calendar,
            date(2028, 10, 4),
        ),
        (
            "3 working days from Thursday 27 Apr 2028: Fri 28 Apr, (1–2 May 劳动节), Wed 3, Thu 4 May",
            date(2028, 4, 27),
            3,
            DayUnit::Working,
            date(2028, 5, 4),
        ),
    ];
    for (what, accepted, days, unit, last_day) in rows {
        let end = cal.period_end(accepted, days, unit, rules);
        assert_eq!(end.last_day, last_day, "{what}");
        assert!(
            end.provisional,
            "{what}: a year without a file is provisional"
        );
    }
    // A period wholly inside covered years stays firm.
    let firm = cal.period_end(date(2026, 10, 1), 30, DayUnit::Calendar, rules);
    assert!(!firm.provisional);
}

#[test]
fn a_case_due_in_a_year_without_a_file_is_provisional_and_skips_new_year() {
    let w = World::new();
    // Received Monday 2 November 2026 at 10:00 in Shanghai: 60 days → Friday 1 January 2027,
    // 元旦 by rule though 2027 has no file → Monday 4 January, provisional.
    let c = w.case_received(None, "2026-11-02T02:00:00Z");
    assert_eq!(c.due.last_day, date(2027, 1, 4));
    assert!(c.due.provisional);
    assert_eq!(c.due_at, ts("2027-01-04T16:00:00Z"));
    // Received in March 2026, due in May 2026: firm.
    let c = w.case(None);
    assert!(!c.due.provisional);
}

fn actor(n: u128, name: &str) -> ActorRef {
    ActorRef {
        person_id: Uuid::from_u128(n),
        name: name.into(),
    }
}

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

struct World {
    cal: Calendar,
    settings: CaseSettings,
    own: Uuid,
    upper: Uuid,
}

impl World {
    fn new() -> World {
        World {
            cal: Calendar::builtin(),
            settings: CaseSettings::default(),
            own: Uuid::from_u128(100),
            upper: Uuid::from_u128(200),
        }
    }

    /// Holders in the case's jurisdiction: person 2 is the 分管领导 (petition-deputy).
    fn holders(post: &str) -> Vec<PersonRef> {
        if post == "petition-deputy" {
            vec![PersonRef {
                person_id: Uuid::from_u128(2),
                name: "分管领导".into(),
            }]
        } else {
            vec![]
        }
    }

    fn run(
        &self,
        case: &yingji_domain::case::Case,
        cmd: Command,
        who: &ActorRef,
        who_jurisdiction: Uuid,
        now: &str,
    ) -> Result<yingji_domain::case::Case, &'static str> {
        let ctx = Ctx {
            now: ts(now),
            actor: who,
            actor_jurisdiction: who_jurisdiction,
            settings: &self.settings,
            calendar: &self.cal,
            holders: &World::holders,
        };
        let ev = decide(Some(case), &cmd, &ctx).map_err(|e| e.code().as_str())?;
        Ok(apply_all(Some(case.clone()), case.id, &ev, ts(now), who).unwrap())
    }

    /// A case received on Friday 6 March 2026 at 10:00 in Shanghai.
    fn case(&self, origin: Option<Origin>) -> yingji_domain::case::Case {
        self.case_received(origin, "2026-03-06T02:00:00Z")
    }

    /// A case received (and registered) at `at`.
    fn case_received(&self, origin: Option<Origin>, at: &str) -> yingji_domain::case::Case {
        let clerk = actor(1, "登记员");
        let ctx = Ctx {
            now: ts(at),
            actor: &clerk,
            actor_jurisdiction: self.own,
            settings: &self.settings,
            calendar: &self.cal,
            holders: &World::holders,
        };
        let n = NewCase {
            jurisdiction_id: self.own,
            case_number: "990181-2026-000001".into(),
            channel: Channel::Letter,
            form: Form::Single,
            headcount: 1,
            petitioners: vec![Petitioner {
                name: "李某".into(),
                contact: None,
                address: None,
                id_number: None,
            }],
            title: "反映工程款拖欠".into(),
            grievance: "要求支付工程款".into(),
            case_type: "general".into(),
            received_at: ts(at),
            origin,
            related_cases: vec![],
            incident_id: None,
            backdate_reason: None,
        };
        let ev = decide(None, &Command::Register(Box::new(n)), &ctx).unwrap();
        apply_all(None, Uuid::from_u128(9), &ev, ctx.now, &clerk).unwrap()
    }
}

#[test]
fn extensions_by_hand() {
    let w = World::new();
    let clerk = actor(1, "登记员");
    let deputy = actor(2, "分管领导");
    let other = actor(3, "秘书长");
    let c = w.case(None);
    // Accepted Friday 6 March; 60 days → 5 May (劳动节) → Wednesday 6 May, ending at 24:00.
    assert_eq!(c.due.last_day, date(2026, 5, 6));
    assert_eq!(c.due_at, ts("2026-05-06T16:00:00Z"));
    let ask = |days: u32, now: &str| {
        w.run(
            &c,
            Command::RequestExtension {
                days,
                reason: "案情复杂，需补充调查".into(),
            },
            &clerk,
            w.own,
            now,
        )
    };
    // 31 days: refused. After the due time (24:00 of 6 May): refused.
    assert_eq!(
        ask(31, "2026-04-20T02:00:00Z").unwrap_err(),
        "extension_too_long"
    );
    assert_eq!(
        ask(30, "2026-05-06T16:00:00Z").unwrap_err(),
        "extension_after_due"
    );
    // Just before the due time: accepted as a request.
    assert!(ask(30, "2026-05-06T15:59:59Z").is_ok());
    let asked = ask(30, "2026-04-20T02:00:00Z").unwrap();
    let decide_ext = |who: &ActorRef, j: Uuid| {
        w.run(
            &asked,
            Command::DecideExtension {
                approve: true,
                reason: None,
            },
            who,
            j,
            "2026-04-21T02:00:00Z",
        )
    };
    // Approved by someone not holding the 分管领导 post: refused.
    assert_eq!(decide_ext(&other, w.own).unwrap_err(), "wrong_approver");
    // By the 分管领导: 6 May + 30 days = Friday 5 June.
    let extended = decide_ext(&deputy, w.own).unwrap();
    assert_eq!(extended.due.last_day, date(2026, 6, 5));
    assert_eq!(extended.due_at, ts("2026-06-05T16:00:00Z"));
    // One extension only.
    let again = w.run(
        &extended,
        Command::RequestExtension {
            days: 5,
            reason: "仍需时间".into(),
        },
        &clerk,
        w.own,
        "2026-05-20T02:00:00Z",
    );
    assert_eq!(again.unwrap_err(), "extension_already_used");
}

#[test]
fn referred_cases_are_extended_by_the_referring_body() {
    let w = World::new();
    let clerk = actor(1, "登记员");
    let deputy = actor(2, "分管领导");
    let upper_officer = actor(4, "上级信访办");
    let c = w.case(Some(Origin {
        jurisdiction_id: w.upper,
        case_id: Uuid::from_u128(77),
        case_number: "990100-2026-000009".into(),
    }));
    let asked = w
        .run(
            &c,
            Command::RequestExtension {
                days: 30,
                reason: "需协调多部门".into(),
            },
            &clerk,
            w.own,
            "2026-04-20T02:00:00Z",
        )
        .unwrap();
    let approve = |who: &ActorRef, j: Uuid| {
        w.run(
            &asked,
            Command::DecideExtension {
                approve: true,
                reason: None,
            },
            who,
            j,
            "2026-04-21T02:00:00Z",
        )
    };
    // The own 分管领导 is the wrong post for a referred case.
    assert_eq!(approve(&deputy, w.own).unwrap_err(), "wrong_approver");
    let ok = approve(&upper_officer, w.upper).unwrap();
    assert_eq!(ok.due.last_day, date(2026, 6, 5));
}

#[test]
fn working_day_clock_per_case_type() {
    let mut w = World::new();
    w.settings.case_types.insert(
        "general".into(),
        yingji_domain::case::ClockRule {
            days: 5,
            unit: DayUnit::Working,
        },
    );
    let c = w.case(None);
    // Friday 6 March + 5 working days = Friday 13 March.
    assert_eq!(c.due.last_day, date(2026, 3, 13));
}

#[test]
fn the_example_configuration() {
    use yingji_domain::case::{CaseConfig, Channel};
    let cfg = CaseConfig::parse(include_str!("../../../config/cases.toml")).unwrap();
    assert_eq!(cfg.defaults.clock.days, 60);
    let town = cfg.for_keys(["990181101", "青石镇", "990181", "临溪市"]);
    assert_eq!(town.clock.unit, DayUnit::Working);
    assert_eq!(town.approval_chain, vec!["party-secretary".to_string()]);
    // Inherited from the defaults.
    assert_eq!(town.extension.max_days, 30);
    assert_eq!(
        town.number("990181101", 2026, 7, Channel::Visit),
        "QS2026V0007"
    );
    let county = cfg.for_keys(["990181", "临溪市"]);
    assert_eq!(
        county.number("990181", 2026, 42, Channel::Letter),
        "990181-2026-000042"
    );
    // Mistakes are reported, not ignored.
    assert!(CaseConfig::parse("[defaults]\nclock = { days = 0 }").is_err());
    assert!(CaseConfig::parse("[defaults]\ncase_number = \"X-{year}\"").is_err());
    assert!(CaseConfig::parse("[defaults]\nclok = { days = 60 }").is_err());
    assert!(CaseConfig::parse("[jurisdictions.\"x\"]\ntime_zone = \"Mars/Base\"").is_err());
}

/// Configurations found while writing the fuzz targets: refused, never a panic later.
#[test]
fn case_configuration_bounds_clocks_and_number_widths() {
    let e = CaseConfig::parse("[defaults]\nclock = { days = 4000000000 }\n").unwrap_err();
    assert!(e.contains("at most 3650 days"), "{e}");
    let e = CaseConfig::parse("[defaults]\nextension = { max_days = 4000000000, unit = 'calendar', approver_post = 'x' }\n").unwrap_err();
    assert!(e.contains("at most 3650 days"), "{e}");
    let e =
        CaseConfig::parse("[defaults]\ncase_number = '{code}-{seq:99999999999}'\n").unwrap_err();
    assert!(e.contains("width"), "{e}");
    let ok = CaseConfig::parse("[defaults]\ncase_number = '{code}-{year}-{seq:6}'\n").unwrap();
    assert_eq!(
        ok.defaults.number("990181", 2026, 7, Channel::Letter),
        "990181-2026-000007"
    );
}
