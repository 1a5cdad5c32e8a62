//! The flow (Sankey) diagram of a funnel, drawn by hand in SVG (rects and cubic paths): one
//! column per step, a band to the next step for those who went on, and bands down to the
//! citizens who stopped there: exits by reason, the censored (in progress at the horizon), and,
//! in the overall funnel, those whose path ends at that tier.

use super::figures::PathFigures;
use super::html::esc as escape;
use super::readable;
use std::fmt::Write;

const LEFT: f64 = 16.0;
const TOP: f64 = 44.0;
/// Distance between step columns.
const SPACING: f64 = 180.0;
const NODE_W: f64 = 12.0;
/// Height of the first column (every citizen).
const MAIN_H: f64 = 170.0;
/// Outcome nodes sit this far right of their step's column.
const OUT_DX: f64 = 40.0;
const OUT_TOP_GAP: f64 = 34.0;
/// Room under each outcome node for its two label lines.
const OUT_LABEL_H: f64 = 26.0;

const CONTINUE: &str = "#6f8fb3";
const NODE: &str = "#34495e";
const GOAL: &str = "#2ca02c";
const EXIT: &str = "#d62728";
const CENSORED: &str = "#e6a100";

struct Outcome {
    label: String,
    count: u64,
    color: &'static str,
}

/// A vertical segment `(x, y..y+h)`: one end of a band.
#[derive(Clone, Copy)]
struct End {
    x: f64,
    y: f64,
    h: f64,
}

/// A band from one end to the other as a closed path of two cubic curves.
fn band(out: &mut String, from: End, to: End, color: &str, title: &str) {
    let End {
        x: x0,
        y: y0,
        h: h0,
    } = from;
    let End {
        x: x1,
        y: y1,
        h: h1,
    } = to;
    let xm = (x0 + x1) / 2.0;
    let _ = writeln!(
        out,
        r#"<path d="M{x0:.1},{y0:.1} C{xm:.1},{y0:.1} {xm:.1},{y1:.1} {x1:.1},{y1:.1} L{x1:.1},{b1:.1} C{xm:.1},{b1:.1} {xm:.1},{b0:.1} {x0:.1},{b0:.1} Z" fill="{color}" fill-opacity="0.4"><title>{t}</title></path>"#,
        b0 = y0 + h0,
        b1 = y1 + h1,
        t = escape(title),
    );
}

fn rect(out: &mut String, x: f64, y: f64, w: f64, h: f64, color: &str, title: &str) {
    let _ = writeln!(
        out,
        r#"<rect x="{x:.1}" y="{y:.1}" width="{w:.1}" height="{h:.1}" fill="{color}"><title>{t}</title></rect>"#,
        t = escape(title),
    );
}

fn text(out: &mut String, x: f64, y: f64, size: u32, weight: &str, s: &str) {
    let _ = writeln!(
        out,
        r##"<text x="{x:.1}" y="{y:.1}" font-family="sans-serif" font-size="{size}" font-weight="{weight}" fill="#222">{t}</text>"##,
        t = escape(s),
    );
}

/// The flow of `f` as an `<svg>` element.
pub fn svg(f: &PathFigures) -> String {
    let n = f.steps.len();
    let arrived = f.steps.first().map_or(0, |s| s.reached).max(1);
    let scale = MAIN_H / arrived as f64;
    let h_of = |count: u64| {
        if count == 0 {
            0.0
        } else {
            (count as f64 * scale).max(1.0)
        }
    };
    let share = |count: u64| readable::percent(Some(count as f64 / arrived as f64));

    let outcomes: Vec<Vec<Outcome>> = (0..n)
        .map(|i| {
            let step = f.steps[i].step;
            let mut list = Vec::new();
            if let Some(next) = f.steps.get(i + 1) {
                if next.stopped_at_goal > 0 {
                    list.push(Outcome {
                        label: "goal reached".into(),
                        count: next.stopped_at_goal,
                        color: GOAL,
                    });
                }
            }
            for e in f.exits.iter().filter(|e| e.step == step) {
                list.push(Outcome {
                    label: e.reason.unwrap_or("exit").to_string(),
                    count: e.count,
                    color: EXIT,
                });
            }
            for c in f.censored_by_step.iter().filter(|c| c.step == step) {
                list.push(Outcome {
                    label: "censored".into(),
                    count: c.count,
                    color: CENSORED,
                });
            }
            list
        })
        .collect();

    let out_top = TOP + MAIN_H + OUT_TOP_GAP;
    let stack_h = |list: &[Outcome]| -> f64 {
        list.iter()
            .map(|o| h_of(o.count).max(1.0) + OUT_LABEL_H)
            .sum()
    };
    let tallest = outcomes.iter().map(|l| stack_h(l)).fold(0.0, f64::max);
    let width = LEFT + SPACING * n as f64 + 40.0;
    let height = out_top + tallest + 12.0;
    let x_of = |i: usize| LEFT + SPACING * i as f64;

    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0}" height="{height:.0}" viewBox="0 0 {width:.0} {height:.0}" role="img" aria-label="flow of {p}">"#,
        p = escape(f.path),
    );
    let _ = writeln!(out, r#"<rect width="100%" height="100%" fill="white"/>"#);

    for (i, (row, row_outcomes)) in f.steps.iter().zip(&outcomes).enumerate() {
        let x = x_of(i);
        let mut y = TOP;
        // On to the next step.
        if let Some(next) = f.steps.get(i + 1) {
            let cont = next.reached.min(row.reached);
            let h = h_of(cont);
            if h > 0.0 {
                band(
                    &mut out,
                    End {
                        x: x + NODE_W,
                        y: TOP,
                        h,
                    },
                    End {
                        x: x_of(i + 1),
                        y: TOP,
                        h,
                    },
                    CONTINUE,
                    &format!("{} -> {}: {}", row.step, next.step, readable::count(cont)),
                );
            }
            y += h;
        }
        // Down to the outcomes.
        let ox = x + NODE_W + OUT_DX;
        let mut oy = out_top;
        for o in row_outcomes {
            let h = h_of(o.count);
            let title = format!(
                "{}: {} {} ({})",
                row.step,
                o.label,
                readable::count(o.count),
                share(o.count)
            );
            band(
                &mut out,
                End {
                    x: x + NODE_W,
                    y,
                    h,
                },
                End { x: ox, y: oy, h },
                o.color,
                &title,
            );
            rect(&mut out, ox, oy, NODE_W * 0.6, h.max(1.0), o.color, &title);
            text(
                &mut out,
                ox + NODE_W * 0.6 + 4.0,
                oy + 9.0,
                10,
                "normal",
                &o.label,
            );
            text(
                &mut out,
                ox + NODE_W * 0.6 + 4.0,
                oy + 21.0,
                10,
                "normal",
                &format!("{} ({})", readable::count(o.count), share(o.count)),
            );
            y += h;
            oy += h.max(1.0) + OUT_LABEL_H;
        }
        let color = if i + 1 == n { GOAL } else { NODE };
        rect(
            &mut out,
            x,
            TOP,
            NODE_W,
            h_of(row.reached).max(1.0),
            color,
            &format!("{}: {}", row.step, readable::count(row.reached)),
        );
        text(&mut out, x, TOP - 22.0, 12, "bold", row.step);
        text(
            &mut out,
            x,
            TOP - 8.0,
            11,
            "normal",
            &format!("{} ({})", readable::count(row.reached), share(row.reached)),
        );
    }
    out.push_str("</svg>\n");
    out
}
