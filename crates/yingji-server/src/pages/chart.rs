//! Server-rendered SVG charts (no script, readable without colour: a step line with labelled
//! points and a text alternative).

use std::fmt::Write;

use jiff::Timestamp;
use jiff::tz::TimeZone;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Headcount over time as a step chart from the first report until `until`. `title` is the
/// accessible name.
pub fn headcount(
    points: &[(Timestamp, u32)],
    until: Timestamp,
    tz: &TimeZone,
    title: &str,
) -> String {
    const W: f64 = 640.0;
    const H: f64 = 220.0;
    const L: f64 = 48.0;
    const R: f64 = 16.0;
    const T: f64 = 16.0;
    const B: f64 = 32.0;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="chart" viewBox="0 0 {W} {H}" role="img" aria-label="{t}" xmlns="http://www.w3.org/2000/svg"><title>{t}</title>"#,
        t = esc(title)
    );
    if points.is_empty() {
        svg.push_str("</svg>");
        return svg;
    }
    let t0 = points[0].0.as_second() as f64;
    let t1 = (until.as_second() as f64).max(points[points.len() - 1].0.as_second() as f64);
    let span = (t1 - t0).max(60.0);
    let max = points.iter().map(|p| p.1).max().unwrap_or(0).max(1) as f64;
    // A round top for the axis.
    let step = [
        1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0, 2000.0, 5000.0,
    ]
    .into_iter()
    .find(|s| max / s <= 5.0)
    .unwrap_or(10000.0);
    let top = (max / step).ceil() * step;
    let x = |t: f64| L + (t - t0) / span * (W - L - R);
    let y = |v: f64| T + (1.0 - v / top) * (H - T - B);
    // Grid and y labels.
    let mut v = 0.0;
    while v <= top + 0.5 {
        let _ = write!(
            svg,
            r#"<line class="grid" x1="{L}" x2="{}" y1="{y:.1}" y2="{y:.1}"/><text class="axis" x="{}" y="{:.1}" text-anchor="end">{v}</text>"#,
            W - R,
            L - 6.0,
            y(v) + 4.0,
            y = y(v),
        );
        v += step;
    }
    // x labels: start and end.
    let fmt = |t: Timestamp| t.to_zoned(tz.clone()).strftime("%H:%M").to_string();
    let _ = write!(
        svg,
        r#"<text class="axis" x="{L}" y="{}">{}</text><text class="axis" x="{}" y="{}" text-anchor="end">{}</text>"#,
        H - 8.0,
        fmt(points[0].0),
        W - R,
        H - 8.0,
        fmt(Timestamp::from_second(t1 as i64).unwrap_or(until))
    );
    // The step line.
    let mut d = String::new();
    for (i, (t, n)) in points.iter().enumerate() {
        let px = x(t.as_second() as f64);
        let py = y(*n as f64);
        if i == 0 {
            let _ = write!(d, "M{px:.1},{py:.1}");
        } else {
            let _ = write!(d, " H{px:.1} V{py:.1}");
        }
    }
    let _ = write!(d, " H{:.1}", x(t1));
    let _ = write!(svg, r#"<path class="line" d="{d}"/>"#);
    for (t, n) in points {
        let _ = write!(
            svg,
            r#"<circle class="pt" cx="{:.1}" cy="{:.1}" r="4"><title>{} · {n}</title></circle><text class="val" x="{:.1}" y="{:.1}" text-anchor="middle">{n}</text>"#,
            x(t.as_second() as f64),
            y(*n as f64),
            fmt(*t),
            x(t.as_second() as f64),
            y(*n as f64) - 8.0,
        );
    }
    svg.push_str("</svg>");
    svg
}

/// Horizontal bars, one group per row with its label above it and one bar per series (at most
/// three), each with its value written at its end: readable at 375 px (the view box is that
/// narrow, so the text is not scaled down) and without colour (series differ in fill pattern
/// and are named in the legend). `title` is the accessible name.
pub fn bars(title: &str, series: &[&str], groups: &[(String, Vec<i64>)]) -> String {
    const W: f64 = 360.0;
    const L: f64 = 4.0;
    const R: f64 = 48.0;
    const BAR: f64 = 12.0;
    const LABEL: f64 = 18.0;
    const LEGEND: f64 = 24.0;
    let n = series.len().clamp(1, 3);
    let row = LABEL + BAR * n as f64 + 8.0;
    let h = LEGEND + row * groups.len().max(1) as f64;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="chart bars" viewBox="0 0 {W} {h}" role="img" aria-label="{t}" xmlns="http://www.w3.org/2000/svg"><title>{t}</title>"#,
        t = esc(title)
    );
    // The legend.
    let mut x = L;
    for (i, name) in series.iter().take(n).enumerate() {
        let _ = write!(
            svg,
            r#"<rect class="s{i}" x="{x}" y="4" width="12" height="12"/><text class="axis" x="{}" y="15">{}</text>"#,
            x + 16.0,
            esc(name)
        );
        x += 24.0 + 14.0 * name.chars().count() as f64;
    }
    let max = groups
        .iter()
        .flat_map(|(_, v)| v.iter().copied())
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    for (g, (label, values)) in groups.iter().enumerate() {
        let y0 = LEGEND + g as f64 * row;
        let _ = write!(
            svg,
            r#"<text class="label" x="{L}" y="{:.1}">{}</text>"#,
            y0 + 13.0,
            esc(label)
        );
        for (i, v) in values.iter().take(n).enumerate() {
            let y = y0 + LABEL + i as f64 * BAR;
            let w = (*v as f64 / max * (W - L - R)).max(if *v > 0 { 1.0 } else { 0.0 });
            let _ = write!(
                svg,
                r#"<rect class="s{i}" x="{L}" y="{y:.1}" width="{w:.1}" height="{}"><title>{} · {} · {v}</title></rect><text class="val" x="{:.1}" y="{:.1}">{v}</text>"#,
                BAR - 2.0,
                esc(label),
                esc(series.get(i).copied().unwrap_or_default()),
                L + w + 4.0,
                y + BAR - 3.0,
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_write_every_value_and_label() {
        let s = bars(
            "受理<数>",
            &["受理", "按期"],
            &[
                ("民政局".into(), vec![12, 9]),
                ("交通局".into(), vec![0, 0]),
            ],
        );
        assert!(s.starts_with("<svg") && s.ends_with("</svg>"));
        assert!(s.contains(">12</text>") && s.contains(">9</text>"));
        assert!(s.contains(">民政局</text>") && s.contains(">交通局</text>"));
        assert!(s.contains("受理&lt;数&gt;"));
        assert_eq!(
            s.matches(r#"<rect class="s0""#).count(),
            3,
            "legend and two bars"
        );
    }

    #[test]
    fn draws_each_point_and_a_line_to_now() {
        let t0: Timestamp = "2026-03-02T02:00:00Z".parse().unwrap();
        let t1: Timestamp = "2026-03-02T02:30:00Z".parse().unwrap();
        let now: Timestamp = "2026-03-02T03:00:00Z".parse().unwrap();
        let tz = TimeZone::get("Asia/Shanghai").unwrap();
        let s = headcount(&[(t0, 120), (t1, 80)], now, &tz, "人数<变化>");
        assert!(s.starts_with("<svg"));
        assert_eq!(s.matches("<circle").count(), 2);
        assert!(s.contains(">120</text>") && s.contains(">80</text>"));
        assert!(s.contains("10:00") && s.contains("11:00"), "{s}");
        assert!(s.contains("人数&lt;变化&gt;"));
    }
}
