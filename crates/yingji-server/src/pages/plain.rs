//! A plan's rules and time limits in words from the message catalogue ("100至499人", "立即",
//! "白天30 分钟、夜间45 分钟内", "15:00前"), in place of the plan file's own notation, which the
//! plan page keeps only for the reader who looks up the file.

use yingji_plan::Plan;
use yingji_plan::model::{HeadcountRange, Rule};
use yingji_plan::time::TimeLimit;

use super::i18n::Lang;

/// A time limit as a phrase: "立即", "30分钟内", "白天30分钟、夜间45分钟内", "15:00前".
pub fn limit(l: &Lang, t: &TimeLimit) -> String {
    match *t {
        TimeLimit::Immediately => l.t("limit.immediately").to_string(),
        TimeLimit::Within(m) => l.f1("limit.within", l.minutes(m)),
        TimeLimit::DayNight { day, night } => {
            l.f2("limit.day_night", l.minutes(day), l.minutes(night))
        }
        TimeLimit::By(time) => l.f1("limit.by", time.strftime("%H:%M")),
    }
}

/// A time zone by the name people use ("北京时间" for Asia/Shanghai), else its identifier.
pub fn zone(l: &Lang, iana: &str) -> String {
    let key = format!("zone.{}", iana.replace('/', "_"));
    if l.has(&key) {
        l.t(&key).to_string()
    } else {
        iana.to_string()
    }
}

/// A headcount range in people: "100至499人", "500人以上", "不足30人", "任何人数".
pub fn headcount(l: &Lang, h: &HeadcountRange) -> String {
    let lo = h
        .lower
        .map(|b| if b.inclusive { b.value } else { b.value + 1 });
    let hi = h.upper.map(|b| {
        if b.inclusive {
            (b.value, true)
        } else {
            (b.value, false)
        }
    });
    match (lo, hi) {
        (Some(a), Some((b, true))) => l.f2("rule.between", a, b),
        (Some(a), Some((b, false))) if b > 0 => l.f2("rule.between", a, b - 1),
        (Some(a), None) => l.f1("rule.at_least", a),
        (None, Some((b, true))) => l.f1("rule.at_most", b),
        (None, Some((b, false))) => l.f1("rule.below", b),
        _ => l.t("rule.any_headcount").to_string(),
    }
}

/// A grading rule: its conditions joined ("100至499人，且场所为：党政机关").
pub fn rule(l: &Lang, plan: &Plan, r: &Rule) -> String {
    let name = |list: &[yingji_plan::model::Choice], id: &str| {
        list.iter()
            .find(|c| c.id.value == id)
            .map_or_else(|| id.to_string(), |c| c.name.clone())
    };
    let sep = l.t("rule.or");
    let mut parts = Vec::new();
    if let Some(h) = &r.headcount {
        parts.push(headcount(l, &h.value));
    }
    if !r.venues.is_empty() {
        let v: Vec<String> = r
            .venues
            .iter()
            .map(|v| name(&plan.venues, &v.value))
            .collect();
        parts.push(l.f1("rule.venue", v.join(sep)));
    }
    if !r.behaviours.is_empty() {
        let v: Vec<String> = r
            .behaviours
            .iter()
            .map(|b| name(&plan.behaviours, &b.value))
            .collect();
        parts.push(l.f1("rule.behaviour", v.join(sep)));
    }
    if parts.is_empty() {
        l.t("rule.always").to_string()
    } else {
        parts.join(l.t("rule.and"))
    }
}

/// The rule of a level proposal in words: the matched rule of the proposed level when the
/// proposal says which, else the proposal's own text.
pub fn proposal_rule(
    l: &Lang,
    plan: &Plan,
    p: &yingji_domain::incident::Proposal,
) -> Option<String> {
    let matched = p.level.as_ref().zip(p.rule_index).and_then(|(lv, i)| {
        plan.levels
            .iter()
            .find(|x| x.id.value == lv.id)
            .and_then(|x| x.when.get(i))
    });
    match matched {
        Some(r) => Some(rule(l, plan, r)),
        None => p.rule.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use yingji_plan::model::Bound;

    fn zh() -> &'static Lang {
        Lang::by_code("zh-CN").unwrap()
    }

    #[test]
    fn limits_read_as_phrases() {
        let l = zh();
        assert_eq!(limit(l, &TimeLimit::Immediately), "立即");
        assert_eq!(limit(l, &TimeLimit::Within(30)), "30 分钟内");
        assert_eq!(limit(l, &TimeLimit::Within(120)), "2 小时内");
        let dn = limit(l, &TimeLimit::DayNight { day: 30, night: 45 });
        assert!(
            dn.contains("白天") && dn.contains("30") && dn.contains("夜间") && dn.contains("45"),
            "{dn}"
        );
        let by = limit(l, &TimeLimit::By(jiff::civil::time(15, 0, 0, 0)));
        assert_eq!(by, "15:00前");
    }

    #[test]
    fn headcounts_read_as_people() {
        let l = zh();
        let b = |v, inclusive| {
            Some(Bound {
                value: v,
                inclusive,
            })
        };
        assert_eq!(
            headcount(
                l,
                &HeadcountRange {
                    lower: b(100, true),
                    upper: b(499, true)
                }
            ),
            "100至499人"
        );
        assert_eq!(
            headcount(
                l,
                &HeadcountRange {
                    lower: b(15, true),
                    upper: b(30, false)
                }
            ),
            "15至29人"
        );
        assert_eq!(
            headcount(
                l,
                &HeadcountRange {
                    lower: b(500, true),
                    upper: None
                }
            ),
            "500人以上"
        );
        assert_eq!(
            headcount(
                l,
                &HeadcountRange {
                    lower: None,
                    upper: b(30, false)
                }
            ),
            "不足30人"
        );
    }
}
