//! Line charts as SVG strings, drawn with plotters' SVG backend (no font or bitmap features:
//! the backend writes `<text>` elements and the browser sets them; layout uses plotters'
//! estimate of text widths, so labels are kept short and ASCII).

use super::ReportError;
use plotters::prelude::*;
use std::ops::Range;

/// Colours of the lines, in order; shared with the flow diagrams.
pub const PALETTE: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
];

/// One line of a chart.
pub struct Line {
    pub name: String,
    /// Index into [`PALETTE`] (wraps).
    pub color: usize,
    pub points: Vec<(f64, f64)>,
    /// Error bars `(x, low, high)` in the line's color (a 95% interval at each point).
    pub bars: Vec<(f64, f64, f64)>,
}

/// Where the legend goes.
#[derive(Clone, Copy)]
pub enum Legend {
    UpperLeft,
    UpperRight,
    LowerRight,
}

/// A chart of lines over a numeric x axis.
pub struct Chart<'a> {
    pub title: &'a str,
    pub x_desc: &'a str,
    pub y_desc: &'a str,
    pub x: Range<f64>,
    /// The y axis starts at 0; its top is the data's maximum (at least `y_min_top`).
    pub y_min_top: f64,
    /// y labels as percent (the values are shares).
    pub y_percent: bool,
    /// Labels for the x ticks; `None`: the number itself.
    pub x_label: Option<&'a dyn Fn(f64) -> String>,
    /// About how many x ticks.
    pub x_ticks: usize,
    pub legend: Legend,
    pub lines: Vec<Line>,
}

/// Size of every chart, in pixels.
const SIZE: (u32, u32) = (820, 380);

impl Chart<'_> {
    /// The chart as an `<svg>` element.
    pub fn to_svg(&self) -> Result<String, ReportError> {
        let mut svg = String::new();
        self.draw(&mut svg).map_err(|e| ReportError::Plot {
            plot: self.title.to_string(),
            message: e.to_string(),
        })?;
        Ok(svg)
    }

    fn draw(&self, out: &mut String) -> Result<(), Box<dyn std::error::Error + '_>> {
        let y_max = self
            .lines
            .iter()
            .flat_map(|l| {
                l.points
                    .iter()
                    .map(|p| p.1)
                    .chain(l.bars.iter().map(|b| b.2))
            })
            .fold(self.y_min_top, f64::max);
        let y_top = if self.y_percent {
            y_max.min(1.0)
        } else {
            (y_max * 1.05).min(f64::MAX)
        };
        // Points are drawn inside the axes: plotters maps a value far outside them to a pixel
        // past i32 (an overflow; a funnel.json read by `merge` may hold a gauge of -6579027701).
        let (x_low, x_high) = (self.x.start.min(self.x.end), self.x.start.max(self.x.end));
        let x_in = |x: f64| x.clamp(x_low, x_high);
        let y_in = |y: f64| y.clamp(0.0, y_top.max(0.0));
        let root = SVGBackend::with_string(out, SIZE).into_drawing_area();
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(self.title, ("sans-serif", 16))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(64)
            .build_cartesian_2d(self.x.clone(), 0.0..y_top)?;

        let x_fmt = |x: &f64| match self.x_label {
            Some(f) => f(*x),
            None => format!("{x}"),
        };
        let y_fmt = |y: &f64| {
            if self.y_percent {
                format!("{:.0}%", y * 100.0)
            } else if *y >= 10_000.0 {
                format!("{:.0}k", y / 1000.0)
            } else {
                format!("{y}")
            }
        };
        chart
            .configure_mesh()
            .x_desc(self.x_desc)
            .y_desc(self.y_desc)
            .x_labels(self.x_ticks)
            .y_labels(6)
            .x_label_formatter(&x_fmt)
            .y_label_formatter(&y_fmt)
            .light_line_style(RGBColor(235, 235, 235))
            .label_style(("sans-serif", 12))
            .axis_desc_style(("sans-serif", 13))
            .draw()?;

        for line in &self.lines {
            let color = PALETTE[line.color % PALETTE.len()];
            chart
                .draw_series(LineSeries::new(
                    line.points.iter().map(|&(x, y)| (x_in(x), y_in(y))),
                    color.stroke_width(2),
                ))?
                .label(line.name.as_str())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
                });
            let cap = (self.x.end - self.x.start) / 120.0;
            for &(x, low, high) in &line.bars {
                let (x, low, high) = (x_in(x), y_in(low), y_in(high));
                let style = color.stroke_width(1);
                chart.draw_series([
                    PathElement::new(vec![(x, low), (x, high)], style),
                    PathElement::new(vec![(x - cap, low), (x + cap, low)], style),
                    PathElement::new(vec![(x - cap, high), (x + cap, high)], style),
                ])?;
            }
        }
        if !self.lines.is_empty() {
            chart
                .configure_series_labels()
                .position(match self.legend {
                    Legend::UpperLeft => SeriesLabelPosition::UpperLeft,
                    Legend::UpperRight => SeriesLabelPosition::UpperRight,
                    Legend::LowerRight => SeriesLabelPosition::LowerRight,
                })
                .background_style(WHITE.mix(0.85))
                .border_style(RGBColor(200, 200, 200))
                .label_font(("sans-serif", 12))
                .draw()?;
        }
        root.present()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chart_is_an_svg_with_text_labels() {
        let chart = Chart {
            title: "conversion",
            x_desc: "days since arrival",
            y_desc: "share",
            x: 0.0..10.0,
            y_min_top: 0.1,
            y_percent: true,
            x_label: None,
            x_ticks: 5,
            legend: Legend::LowerRight,
            lines: vec![Line {
                name: "post".into(),
                color: 0,
                points: vec![(0.0, 0.0), (5.0, 0.5), (10.0, 0.9)],
                bars: Vec::new(),
            }],
        };
        let svg = chart.to_svg().unwrap();
        assert!(svg.starts_with("<svg"), "{}", &svg[..80]);
        assert!(svg.contains("<text") && svg.contains("post") && svg.contains("conversion"));
        assert!(svg.contains("<polyline"));
        assert_eq!(svg, chart.to_svg().unwrap());
    }

    /// The fuzz target `funnels` found it: a funnel.json's gauge of -6579027701 made plotters
    /// overflow mapping it to a pixel (a panic with overflow checks). Points outside the axes
    /// are drawn at their edge.
    #[test]
    fn regression_points_far_outside_the_axes_are_drawn_at_the_edge() {
        let chart = Chart {
            title: "queues",
            x_desc: "s",
            y_desc: "peak",
            x: 0.0..100.0,
            y_min_top: 1.0,
            y_percent: false,
            x_label: None,
            x_ticks: 5,
            legend: Legend::UpperRight,
            lines: vec![Line {
                name: "esia_registry_accounts".into(),
                color: 0,
                points: vec![(-1e12, -6_579_027_701.0), (50.0, 854.89), (1e300, f64::MAX)],
                bars: vec![(10.0, -1e300, 1e300)],
            }],
        };
        let svg = chart.to_svg().unwrap();
        assert!(svg.contains("<polyline"));
    }
}
