//! Server-rendered SVG pictures for the console: a time chart of several
//! series (attempts, posted, failed per bucket) and a sparkline per board.
//!
//! Pure functions from numbers to markup: no scripts, no `style` attributes
//! (the console's CSP allows neither), only presentation attributes. Every
//! text is XML-escaped, so a board or series name cannot inject markup.

use std::fmt::Write;

use quick_xml::escape::escape;

/// One line of a chart: its name (legend), colour and a value per bucket,
/// oldest first.
#[derive(Debug, Clone)]
pub struct Series<'a> {
    pub name: &'a str,
    pub colour: &'static str,
    pub values: &'a [u64],
}

/// Colours from the Okabe–Ito palette, told apart by colour-blind readers too.
pub const BLUE: &str = "#0072b2";
pub const GREEN: &str = "#009e73";
pub const VERMILION: &str = "#d55e00";

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 200.0;
// Plot area inside the margins: room for the y labels left, x labels below.
const LEFT: f64 = 44.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 28.0;
const BOTTOM: f64 = 36.0;

/// A line chart of `series` over equal time buckets. `span_label` names the
/// whole window ("last hour"), `x_labels` are `(bucket index, text)` ticks.
pub fn time_chart(title: &str, series: &[Series<'_>], x_labels: &[(usize, String)]) -> String {
    let buckets = series.iter().map(|s| s.values.len()).max().unwrap_or(0);
    let top_value = nice_ceiling(
        series
            .iter()
            .flat_map(|s| s.values.iter().copied())
            .max()
            .unwrap_or(0),
    );
    let plot_width = WIDTH - LEFT - RIGHT;
    let plot_height = HEIGHT - TOP - BOTTOM;
    let x = |index: usize| LEFT + plot_width * step(index, buckets);
    let y = |value: u64| TOP + plot_height * (1.0 - value as f64 / top_value as f64);

    let mut svg = String::new();
    let title = escape(title);
    let _ = write!(
        svg,
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" role="img" aria-label="{title}"><title>{title}</title>"##
    );
    let _ = write!(
        svg,
        r##"<text x="{LEFT}" y="16" font-size="13" font-family="system-ui,sans-serif" fill="#222">{title}</text>"##
    );
    // Horizontal grid at 0, half and the top, labelled.
    for value in [0, top_value / 2, top_value] {
        let at = y(value);
        let _ = write!(
            svg,
            r##"<line x1="{LEFT}" y1="{at:.1}" x2="{:.1}" y2="{at:.1}" stroke="#ddd" stroke-width="1"/><text x="{:.1}" y="{:.1}" font-size="11" font-family="system-ui,sans-serif" fill="#555" text-anchor="end">{value}</text>"##,
            WIDTH - RIGHT,
            LEFT - 6.0,
            at + 4.0,
        );
    }
    for (index, label) in x_labels {
        let at = x(*index);
        let _ = write!(
            svg,
            r##"<text x="{at:.1}" y="{:.1}" font-size="11" font-family="system-ui,sans-serif" fill="#555" text-anchor="middle">{}</text>"##,
            HEIGHT - BOTTOM + 16.0,
            escape(label),
        );
    }
    for line in series {
        let points = polyline(line.values, &x, &y);
        let _ = write!(
            svg,
            r##"<polyline fill="none" stroke="{}" stroke-width="2" stroke-linejoin="round" points="{points}"><title>{}</title></polyline>"##,
            line.colour,
            escape(line.name),
        );
    }
    // Legend along the bottom, after the tick labels.
    let mut legend_x = LEFT;
    for line in series {
        let name = escape(line.name);
        let _ = write!(
            svg,
            r##"<rect x="{legend_x:.1}" y="{:.1}" width="10" height="10" fill="{}"/><text x="{:.1}" y="{:.1}" font-size="11" font-family="system-ui,sans-serif" fill="#222">{name} ({})</text>"##,
            HEIGHT - 12.0,
            line.colour,
            legend_x + 14.0,
            HEIGHT - 3.0,
            line.values.iter().sum::<u64>(),
        );
        legend_x += 24.0 + 7.0 * (line.name.chars().count() as f64 + 8.0);
    }
    svg.push_str("</svg>");
    svg
}

/// A small line of one series, for a table cell; `label` is its accessible name.
pub fn sparkline(label: &str, values: &[u64], colour: &str) -> String {
    const W: f64 = 120.0;
    const H: f64 = 24.0;
    let top_value = values.iter().copied().max().unwrap_or(0).max(1);
    let x = |index: usize| 1.0 + (W - 2.0) * step(index, values.len());
    let y = |value: u64| 1.0 + (H - 2.0) * (1.0 - value as f64 / top_value as f64);
    let label = escape(label);
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="{W}" height="{H}" role="img" aria-label="{label}"><title>{label}</title><polyline fill="none" stroke="{colour}" stroke-width="1.5" points="{}"/></svg>"##,
        polyline(values, &x, &y)
    )
}

/// Where bucket `index` of `count` sits along the x axis, 0.0 to 1.0.
fn step(index: usize, count: usize) -> f64 {
    if count <= 1 {
        0.5
    } else {
        index as f64 / (count - 1) as f64
    }
}

fn polyline(values: &[u64], x: &impl Fn(usize) -> f64, y: &impl Fn(u64) -> f64) -> String {
    let mut points = String::new();
    for (index, value) in values.iter().enumerate() {
        let _ = write!(points, "{:.1},{:.1} ", x(index), y(*value));
    }
    points.trim_end().to_owned()
}

/// The smallest of 1, 2, 5 × 10ⁿ at or above `value` (at least 1), so the
/// axis reads in round numbers and an all-zero chart divides by one.
fn nice_ceiling(value: u64) -> u64 {
    let mut unit: u64 = 1;
    loop {
        for factor in [1, 2, 5] {
            let candidate = unit.saturating_mul(factor);
            if candidate >= value || candidate == u64::MAX {
                return candidate.max(1);
            }
        }
        unit = unit.saturating_mul(10);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn parse(svg: &str) -> roxmltree::Document<'_> {
        roxmltree::Document::parse(svg).expect("well-formed SVG")
    }

    fn points(svg: &str) -> Vec<Vec<(f64, f64)>> {
        parse(svg)
            .descendants()
            .filter(|n| n.has_tag_name("polyline"))
            .map(|n| {
                n.attribute("points")
                    .unwrap()
                    .split_whitespace()
                    .map(|pair| {
                        let (x, y) = pair.split_once(',').unwrap();
                        (x.parse().unwrap(), y.parse().unwrap())
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn each_bucket_is_a_point_and_the_largest_value_is_at_the_top() {
        let sent = [0, 3, 10, 7];
        let failed = [0, 1, 0, 2];
        let svg = time_chart(
            "linkedin, last hour",
            &[
                Series {
                    name: "attempts",
                    colour: BLUE,
                    values: &sent,
                },
                Series {
                    name: "failed",
                    colour: VERMILION,
                    values: &failed,
                },
            ],
            &[(0, "-60 min".into()), (3, "now".into())],
        );
        let lines = points(&svg);
        assert_eq!(lines.len(), 2);
        assert!(lines.iter().all(|l| l.len() == 4));
        // 10 is the nice ceiling of 10: the top of the plot area.
        assert_eq!(lines[0][2].1, TOP);
        assert_eq!(lines[0][0].1, HEIGHT - BOTTOM);
        assert!(svg.contains(">attempts (20)<"));
    }

    #[test]
    fn an_all_zero_chart_renders_flat_at_the_bottom() {
        let zeros = [0u64; 60];
        for svg in [
            time_chart(
                "quiet",
                &[Series {
                    name: "attempts",
                    colour: BLUE,
                    values: &zeros,
                }],
                &[],
            ),
            sparkline("quiet", &zeros, BLUE),
        ] {
            let lines = points(&svg);
            assert_eq!(lines[0].len(), 60);
            let bottom = lines[0][0].1;
            assert!(lines[0].iter().all(|(_, y)| *y == bottom && y.is_finite()));
        }
    }

    #[test]
    fn names_are_escaped() {
        let svg = sparkline("<script>&\"", &[1, 2], GREEN);
        let document = parse(&svg);
        assert!(!document.descendants().any(|n| n.has_tag_name("script")));
        let title = document
            .descendants()
            .find(|n| n.has_tag_name("title"))
            .unwrap();
        assert_eq!(title.text(), Some("<script>&\""));
    }

    #[test]
    fn the_axis_rounds_up_to_one_two_or_five() {
        assert_eq!(nice_ceiling(0), 1);
        assert_eq!(nice_ceiling(3), 5);
        assert_eq!(nice_ceiling(11), 20);
        assert_eq!(nice_ceiling(5000), 5000);
        assert_eq!(nice_ceiling(u64::MAX), u64::MAX);
    }

    proptest! {
        #[test]
        fn any_series_stays_well_formed_and_inside_the_view(values in proptest::collection::vec(any::<u32>(), 0..200)) {
            let values: Vec<u64> = values.into_iter().map(u64::from).collect();
            let chart = time_chart("any", &[Series { name: "attempts", colour: BLUE, values: &values }], &[]);
            let spark = sparkline("any", &values, BLUE);
            for (svg, width, height) in [(&chart, WIDTH, HEIGHT), (&spark, 120.0, 24.0)] {
                for line in points(svg) {
                    prop_assert_eq!(line.len(), values.len());
                    for (x, y) in line {
                        prop_assert!((0.0..=width).contains(&x) && (0.0..=height).contains(&y));
                    }
                }
            }
        }
    }
}
