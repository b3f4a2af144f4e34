//! `latency-raw.svg`, `latency-quantiles.svg` and `rate.svg`: what
//! Maelstrom draws with gnuplot, drawn with `plotters`' SVG backend, with
//! the nemesis periods shaded.
//!
//! The numbers come from [`latency_points`], [`latency_quantiles`] and
//! [`rates`] (unit-tested); the drawing only places them.

use std::collections::BTreeMap;

use plotters::coord::combinators::LogCoord;
use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::element::{Drawable, PointCollection};
use plotters::prelude::*;
use plotters_backend::{BackendCoord, DrawingErrorKind};

use super::data::{outcome, RunData};
use super::nemesis::Period;
use crate::history::OpType;

/// One line or cloud of points: `(seconds, value)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// The operation's `f`.
    pub f: String,
    /// `ok`, `fail`, `info`, or a quantile such as `0.95`.
    pub class: String,
    pub points: Vec<(f64, f64)>,
}

impl Series {
    /// `broadcast ok`, `read 0.95`.
    pub fn label(&self) -> String {
        format!("{} {}", self.f, self.class)
    }
}

/// The quantiles the quantile plot follows.
pub const QUANTILES: [(f64, &str); 4] = [(0.5, "0.5"), (0.95, "0.95"), (0.99, "0.99"), (1.0, "1")];

/// The shortest latency a log scale shows (ms); faster ones sit on it.
pub const LATENCY_FLOOR_MS: f64 = 0.01;

/// Each completed operation as `(invoke time s, latency ms)`, by `f` and
/// outcome (series ordered by `f`, then ok, fail, info).
pub fn latency_points(run: &RunData) -> Vec<Series> {
    let mut by: BTreeMap<(String, u8), Vec<(f64, f64)>> = BTreeMap::new();
    for (invoke, done) in run.pairs() {
        let Some(done) = done else { continue };
        let latency = done.time.saturating_sub(invoke.time) as f64 / 1e6;
        by.entry((invoke.f.clone(), rank(done.kind)))
            .or_default()
            .push((invoke.time as f64 / 1e9, latency));
    }
    by.into_iter()
        .map(|((f, r), points)| Series {
            f,
            class: outcome(unrank(r)).to_owned(),
            points,
        })
        .collect()
}

/// The window the quantile and rate plots count in: a round number of
/// seconds giving at most 40 windows over `span` seconds.
pub fn window(span: f64) -> f64 {
    const STEPS: [f64; 13] = [
        0.1, 0.2, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0,
    ];
    STEPS
        .into_iter()
        .find(|w| span / w <= 40.0)
        .unwrap_or_else(|| (span / 40.0).ceil())
}

/// For each `f` and quantile, the quantile of the latencies (ms) of the
/// `ok` operations invoked in each window, at the window's middle; windows
/// without any are left out. Quantiles are Jepsen's: the value at
/// `floor(n × q)` of the sorted latencies.
pub fn latency_quantiles(run: &RunData, window: f64) -> Vec<Series> {
    let mut by: BTreeMap<(String, i64), Vec<f64>> = BTreeMap::new();
    for (invoke, done) in run.pairs() {
        let Some(done) = done.filter(|d| d.kind == OpType::Ok) else {
            continue;
        };
        let slot = (invoke.time as f64 / 1e9 / window).floor() as i64;
        let latency = done.time.saturating_sub(invoke.time) as f64 / 1e6;
        by.entry((invoke.f.clone(), slot))
            .or_default()
            .push(latency);
    }
    let mut series: BTreeMap<(String, usize), Vec<(f64, f64)>> = BTreeMap::new();
    for ((f, slot), mut latencies) in by {
        latencies.sort_by(f64::total_cmp);
        let n = latencies.len();
        let middle = (slot as f64 + 0.5) * window;
        for (q_index, (q, _)) in QUANTILES.iter().enumerate() {
            let at = ((n as f64 * q).floor() as usize).min(n - 1);
            series
                .entry((f.clone(), q_index))
                .or_default()
                .push((middle, latencies[at]));
        }
    }
    series
        .into_iter()
        .map(|((f, q_index), points)| Series {
            f,
            class: QUANTILES[q_index].1.to_owned(),
            points,
        })
        .collect()
}

/// Completions per second by `f` and outcome in each window from 0 to
/// the last completion, at the windows' middles (0 where none completed).
pub fn rates(run: &RunData, window: f64) -> Vec<Series> {
    let mut counts: BTreeMap<(String, u8), BTreeMap<i64, u64>> = BTreeMap::new();
    let mut last_slot = 0;
    for (invoke, done) in run.pairs() {
        let Some(done) = done else { continue };
        let slot = (done.time as f64 / 1e9 / window).floor() as i64;
        last_slot = last_slot.max(slot);
        *counts
            .entry((invoke.f.clone(), rank(done.kind)))
            .or_default()
            .entry(slot)
            .or_default() += 1;
    }
    counts
        .into_iter()
        .map(|((f, r), by_slot)| Series {
            f,
            class: outcome(unrank(r)).to_owned(),
            points: (0..=last_slot)
                .map(|slot| {
                    let n = by_slot.get(&slot).copied().unwrap_or(0);
                    ((slot as f64 + 0.5) * window, n as f64 / window)
                })
                .collect(),
        })
        .collect()
}

fn rank(kind: OpType) -> u8 {
    match kind {
        OpType::Ok => 0,
        OpType::Fail => 1,
        OpType::Info => 2,
        OpType::Invoke => 3,
    }
}

fn unrank(rank: u8) -> OpType {
    [OpType::Ok, OpType::Fail, OpType::Info, OpType::Invoke][rank as usize]
}

/// The workload's name for titles.
fn workload_name(run: &RunData) -> &'static str {
    run.config.as_ref().map_or("", |c| c.workload.name())
}

/// The three plots, each as the name of its file and its SVG text.
pub fn draw(run: &RunData, periods: &[Period]) -> Result<Vec<(&'static str, String)>, String> {
    let span = (run.end() as f64 / 1e9).max(1.0);
    let window = window(span);
    let name = workload_name(run);
    let raw = latency_points(run);
    let raw_svg = Plot {
        title: format!("{name} latency (each operation)"),
        y_desc: "Latency (ms)",
        span,
        periods,
        style: Style::Points,
    }
    .draw("latency-raw.svg", &raw, log_range(&raw))?;
    let quantiles = latency_quantiles(run, window);
    let quantiles_svg = Plot {
        title: format!("{name} latency quantiles ({window} s windows, ok operations)"),
        y_desc: "Latency (ms)",
        span,
        periods,
        style: Style::Lines(window),
    }
    .draw("latency-quantiles.svg", &quantiles, log_range(&quantiles))?;
    let rate = rates(run, window);
    let top = rate
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.1))
        .fold(1.0, f64::max);
    let rate_svg = Plot {
        title: format!("{name} rate ({window} s windows)"),
        y_desc: "Completions per second",
        span,
        periods,
        style: Style::Lines(window),
    }
    .draw("rate.svg", &rate, 0.0..top * 1.1)?;
    Ok(vec![
        ("latency-raw.svg", raw_svg),
        ("latency-quantiles.svg", quantiles_svg),
        ("rate.svg", rate_svg),
    ])
}

/// A log-scale range that holds every point.
fn log_range(series: &[Series]) -> LogCoord<f64> {
    let values = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.1.max(LATENCY_FLOOR_MS)));
    let (low, high) = values.fold((f64::MAX, f64::MIN), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let (low, high) = if low > high { (1.0, 10.0) } else { (low, high) };
    (low / 1.5..high * 1.5).log_scale().into()
}

enum Style {
    Points,
    /// Lines through points one window apart.
    Lines(f64),
}

struct Plot<'a> {
    title: String,
    y_desc: &'static str,
    span: f64,
    periods: &'a [Period],
    style: Style,
}

const WIDTH: u32 = 900;
const HEIGHT: u32 = 420;
const LEGEND_WIDTH: u32 = 190;
const NEMESIS_FILL: RGBAColor = RGBAColor(230, 80, 60, 0.13);

impl Plot<'_> {
    /// The plot's SVG text (`name` is its file's, for errors).
    fn draw<Y>(&self, name: &str, series: &[Series], y: Y) -> Result<String, String>
    where
        Y: AsRangedCoord<Value = f64>,
        Y::CoordDescType: ValueFormatter<f64>,
    {
        let mut svg = String::new();
        self.draw_into(&mut svg, series, y)
            .map_err(|err| format!("{name}: {err}"))?;
        Ok(svg)
    }

    fn draw_into<Y>(&self, svg: &mut String, series: &[Series], y: Y) -> Result<(), String>
    where
        Y: AsRangedCoord<Value = f64>,
        Y::CoordDescType: ValueFormatter<f64>,
    {
        let fail = |err: &dyn std::fmt::Display| err.to_string();
        let root = SVGBackend::with_string(svg, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| fail(&e))?;
        let (area, legend) = root.split_horizontally(WIDTH - LEGEND_WIDTH);
        let mut chart = ChartBuilder::on(&area)
            .caption(&self.title, ("sans-serif", 16))
            .margin(10)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(0.0..self.span * 1.02, y)
            .map_err(|e| fail(&e))?;
        chart
            .configure_mesh()
            .x_desc("Time (s)")
            .y_desc(self.y_desc)
            .y_label_formatter(&|v| short_number(*v))
            .x_label_formatter(&|v| short_number(*v))
            .light_line_style(WHITE)
            .draw()
            .map_err(|e| fail(&e))?;
        let (y_low, y_high) = {
            let range = chart.y_range();
            (range.start, range.end)
        };
        chart
            .draw_series(self.periods.iter().map(|p| {
                Rectangle::new(
                    [(p.start as f64 / 1e9, y_low), (p.end as f64 / 1e9, y_high)],
                    NEMESIS_FILL.filled(),
                )
            }))
            .map_err(|e| fail(&e))?;
        let functions: Vec<&str> = {
            let mut fs: Vec<&str> = series.iter().map(|s| s.f.as_str()).collect();
            fs.dedup();
            fs
        };
        for s in series {
            let color = color_of(&s.class);
            let shape = functions.iter().position(|f| *f == s.f).unwrap_or(0);
            let clamp = |(x, v): (f64, f64)| (x, v.max(y_low));
            match self.style {
                Style::Points => {
                    chart
                        .draw_series(
                            thin(&s.points, self.span, y_low, y_high)
                                .into_iter()
                                .map(|p| marker(clamp(p), shape, color)),
                        )
                        .map_err(|e| fail(&e))?;
                }
                Style::Lines(window) => {
                    let points: Vec<(f64, f64)> = s.points.iter().copied().map(clamp).collect();
                    // Windows with no data break the line rather than bridge it.
                    for segment in points.chunk_by(|a, b| b.0 - a.0 < window * 1.5) {
                        chart
                            .draw_series(LineSeries::new(segment.to_vec(), color.stroke_width(1)))
                            .map_err(|e| fail(&e))?;
                    }
                    chart
                        .draw_series(points.into_iter().map(|p| marker(p, shape, color)))
                        .map_err(|e| fail(&e))?;
                }
            }
        }
        // The legend, beside the chart.
        let mut row = 40;
        let text = ("sans-serif", 13).into_font();
        for s in series {
            let shape = functions.iter().position(|f| *f == s.f).unwrap_or(0);
            legend
                .draw(&marker((12, row), shape, color_of(&s.class)))
                .and_then(|()| legend.draw_text(&s.label(), &text.color(&BLACK), (24, row - 7)))
                .map_err(|e| fail(&e))?;
            row += 18;
        }
        if !self.periods.is_empty() {
            legend
                .draw(&Rectangle::new(
                    [(6, row - 6), (18, row + 6)],
                    NEMESIS_FILL.filled(),
                ))
                .and_then(|()| legend.draw_text("nemesis", &text.color(&BLACK), (24, row - 7)))
                .map_err(|e| fail(&e))?;
        }
        root.present().map_err(|e| fail(&e))
    }
}

/// A tick label with at most three significant digits and no trailing
/// zeros (`0.3`, `1500`, `0.015`).
fn short_number(value: f64) -> String {
    if value == 0.0 || !value.is_finite() {
        return "0".to_owned();
    }
    let digits = (2 - value.abs().log10().floor() as i32).max(0) as usize;
    let text = format!("{value:.digits$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        text
    }
}

/// Colours: outcomes as Maelstrom colours them, quantiles from cool to hot.
fn color_of(class: &str) -> RGBColor {
    match class {
        "ok" => RGBColor(40, 120, 200),
        "info" => RGBColor(240, 140, 20),
        "fail" => RGBColor(210, 40, 140),
        "0.5" => RGBColor(30, 60, 190),
        "0.95" => RGBColor(150, 80, 200),
        "0.99" => RGBColor(240, 140, 20),
        "1" => RGBColor(200, 30, 30),
        _ => RGBColor(90, 90, 90),
    }
}

/// A marker whose shape (circle, square, triangle, cross) tells the
/// operation's `f`, at a point of any coordinate system.
struct Marker<C> {
    at: C,
    shape: usize,
    color: RGBColor,
}

fn marker<C>(at: C, shape: usize, color: RGBColor) -> Marker<C> {
    Marker { at, shape, color }
}

impl<'b, C: 'b> PointCollection<'b, C> for &'b Marker<C> {
    type Point = &'b C;
    type IntoIter = std::iter::Once<&'b C>;
    fn point_iter(self) -> Self::IntoIter {
        std::iter::once(&self.at)
    }
}

impl<C, DB: DrawingBackend> Drawable<DB> for Marker<C> {
    fn draw<I: Iterator<Item = BackendCoord>>(
        &self,
        mut points: I,
        backend: &mut DB,
        _: (u32, u32),
    ) -> Result<(), DrawingErrorKind<DB::ErrorType>> {
        let Some((x, y)) = points.next() else {
            return Ok(());
        };
        let style = self.color.stroke_width(1);
        match self.shape % 4 {
            0 => backend.draw_circle((x, y), 3, &style, false),
            1 => backend.draw_rect((x - 3, y - 3), (x + 3, y + 3), &style, false),
            2 => backend.draw_path(
                [(x, y - 4), (x + 4, y + 3), (x - 4, y + 3), (x, y - 4)],
                &style,
            ),
            _ => backend
                .draw_line((x - 3, y - 3), (x + 3, y + 3), &style)
                .and_then(|()| backend.draw_line((x - 3, y + 3), (x + 3, y - 3), &style)),
        }
    }
}

/// Points that would land on the same pixel drawn once, so that a run of
/// tens of thousands of operations stays a small file.
fn thin(points: &[(f64, f64)], span: f64, y_low: f64, y_high: f64) -> Vec<(f64, f64)> {
    let (lo, hi) = (y_low.max(LATENCY_FLOOR_MS).log10(), y_high.log10());
    let mut seen = std::collections::HashSet::new();
    points
        .iter()
        .copied()
        .filter(|&(x, y)| {
            let px = (x / span * f64::from(WIDTH)) as i64;
            let py = ((y.max(LATENCY_FLOOR_MS).log10() - lo) / (hi - lo).max(1e-9)
                * f64::from(HEIGHT)) as i64;
            seen.insert((px, py))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A run whose process 0 reads at 0.0 s (2 ms), 0.3 s (4 ms) and
    /// 1.2 s (info after 5 s), and whose process 1 broadcasts at 0.5 s
    /// (1 ms) and fails one at 1.5 s (3 ms).
    fn run() -> RunData {
        let mut run = RunData::default();
        let h = &mut run.history;
        let ms = |x: u64| x * 1_000_000;
        for (p, f, start, end, kind) in [
            (0, "read", 0, 2, OpType::Ok),
            (0, "read", 300, 304, OpType::Ok),
            (1, "broadcast", 500, 501, OpType::Ok),
            (0, "read", 1200, 6200, OpType::Info),
            (1, "broadcast", 1500, 1503, OpType::Fail),
        ] {
            h.push(ms(start), OpType::Invoke, p, f, json!(null), None);
            h.push(ms(end), kind, p, f, json!(null), None);
        }
        run
    }

    #[test]
    fn each_completed_operation_is_a_point_of_its_series() {
        let series = latency_points(&run());
        let labels: Vec<String> = series.iter().map(Series::label).collect();
        assert_eq!(
            labels,
            ["broadcast ok", "broadcast fail", "read ok", "read info"]
        );
        assert_eq!(series[0].points, [(0.5, 1.0)]);
        assert_eq!(series[1].points, [(1.5, 3.0)]);
        assert_eq!(series[2].points, [(0.0, 2.0), (0.3, 4.0)]);
        assert_eq!(series[3].points, [(1.2, 5000.0)]);
    }

    #[test]
    fn quantiles_are_taken_per_window_of_ok_operations() {
        let series = latency_quantiles(&run(), 1.0);
        let read: Vec<_> = series.iter().filter(|s| s.f == "read").collect();
        assert_eq!(read.len(), 4);
        // Both ok reads fall in the first window: 2 and 4 ms.
        assert_eq!(read[0].class, "0.5");
        assert_eq!(read[0].points, [(0.5, 4.0)]);
        assert_eq!(read[3].class, "1");
        assert_eq!(read[3].points, [(0.5, 4.0)]);
        let many = {
            let mut run = RunData::default();
            for i in 0..99u64 {
                run.history
                    .push(i, OpType::Invoke, i, "read", json!(null), None);
                run.history.push(
                    i + (i + 1) * 1_000_000,
                    OpType::Ok,
                    i,
                    "read",
                    json!(null),
                    None,
                );
            }
            latency_quantiles(&run, 10.0)
        };
        let values: Vec<f64> = many.iter().map(|s| s.points[0].1).collect();
        // 1 to 99 ms: floor(99 × q) picks the 50th, 95th, 99th and last.
        assert_eq!(values, [50.0, 95.0, 99.0, 99.0]);
    }

    #[test]
    fn rates_count_completions_per_second_in_every_window() {
        let series = rates(&run(), 0.5);
        let read_ok = series.iter().find(|s| s.label() == "read ok").unwrap();
        // Completions at 0.002 and 0.304 s: two in the first half second.
        assert_eq!(read_ok.points[0], (0.25, 4.0));
        assert_eq!(read_ok.points.len(), 13, "windows up to the info at 6.2 s");
        assert!(read_ok.points[1..].iter().all(|p| p.1 == 0.0));
        let info = series.iter().find(|s| s.label() == "read info").unwrap();
        assert_eq!(info.points[12], (6.25, 2.0));
    }

    #[test]
    fn tick_labels_are_short() {
        let labels: Vec<String> = [0.30000000000000004, 1500.0, 0.015, 2.0, 0.0, 12.5]
            .into_iter()
            .map(short_number)
            .collect();
        assert_eq!(labels, ["0.3", "1500", "0.015", "2", "0", "12.5"]);
    }

    #[test]
    fn windows_are_round_and_few() {
        assert_eq!(window(1.0), 0.1);
        assert_eq!(window(20.0), 0.5);
        assert_eq!(window(32.0), 1.0);
        assert_eq!(window(60.0), 2.0);
        assert_eq!(window(100_000.0), 2500.0);
    }

    #[test]
    fn the_plots_are_written_with_their_labels() {
        let periods = [Period {
            start: 100_000_000,
            end: 900_000_000,
            kind: "partition".into(),
            label: "one".into(),
            cuts: Default::default(),
        }];
        let svgs = draw(&run(), &periods).unwrap();
        for (name, label) in [
            ("latency-raw.svg", "read info"),
            ("latency-quantiles.svg", "read 0.95"),
            ("rate.svg", "broadcast fail"),
        ] {
            let svg = &svgs.iter().find(|(file, _)| *file == name).unwrap().1;
            assert!(svg.starts_with("<svg"), "{name}");
            assert!(svg.contains(label) && svg.contains("nemesis"), "{name}");
            assert!(svg.contains("Time (s)"), "{name}");
        }
    }
}
