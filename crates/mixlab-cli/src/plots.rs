//! PNG plots with plotters (bitmap backend, embedded DejaVu Sans so text renders on any machine):
//! bar charts with error bars, learning curves, reliability diagrams, and mixed-sample grids.

use crate::fsio::with_atomic_path;
use anyhow::{Result, anyhow};
use plotters::prelude::*;
use plotters::style::{FontStyle, register_font};
use std::path::Path;
use std::sync::Once;

static FONT: Once = Once::new();

/// Registers the embedded font under the family names plotters asks for.
pub fn init_fonts() {
    FONT.call_once(|| {
        let bytes: &'static [u8] = include_bytes!("../assets/DejaVuSans.ttf");
        for family in ["sans-serif", "serif", "monospace"] {
            // A failure leaves text unrendered but the figure intact; there is nothing better to do here.
            let _ = register_font(family, FontStyle::Normal, bytes);
            let _ = register_font(family, FontStyle::Bold, bytes);
        }
    });
}

fn err<E: std::fmt::Display>(e: E) -> anyhow::Error {
    anyhow!("plotting failed: {e}")
}

/// One estimate with its interval: label, mean, lower and upper bound.
pub struct Estimate {
    pub label: String,
    pub mean: f64,
    pub lo: f64,
    pub hi: f64,
}

/// Means as dots with interval whiskers, on a value axis zoomed to the data (a bar from 0 hides a 0.7-point
/// gap at 98 %), with an optional dashed reference line (the baseline's mean).
pub fn dot_whisker(
    path: &Path,
    title: &str,
    ylabel: &str,
    points: &[Estimate],
    reference: Option<f64>,
) -> Result<()> {
    init_fonts();
    with_atomic_path(path, |tmp| {
        // Wide enough for the points and for the caption (about 11 px per character at 20 px).
        let w = (160 + 90 * points.len())
            .max(480)
            .max(40 + 11 * title.chars().count()) as u32;
        let root = BitMapBackend::new(tmp, (w, 420)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let finite = |v: f64| v.is_finite().then_some(v);
        let lo = points
            .iter()
            .filter_map(|p| finite(p.lo))
            .chain(reference)
            .fold(f64::MAX, f64::min);
        let hi = points
            .iter()
            .filter_map(|p| finite(p.hi))
            .chain(reference)
            .fold(f64::MIN, f64::max);
        let (lo, hi) = if lo.is_finite() && hi.is_finite() && hi > lo {
            let pad = 0.1 * (hi - lo);
            (lo - pad, hi + pad)
        } else if lo.is_finite() && lo < f64::MAX {
            (lo - 0.5, lo + 0.5)
        } else {
            (0.0, 1.0)
        };
        let n = points.len().max(1);
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(60)
            .y_label_area_size(70)
            // A segmented 0..k range has k + 1 slots (its end is a value too): 0..n−1 gives one per point.
            .build_cartesian_2d((0..n - 1).into_segmented(), lo..hi)
            .map_err(err)?;
        let labels: Vec<String> = points.iter().map(|b| b.label.clone()).collect();
        chart
            .configure_mesh()
            .disable_x_mesh()
            .y_desc(ylabel)
            .x_labels(n)
            .x_label_formatter(&|v| match v {
                SegmentValue::CenterOf(i) => labels.get(*i).cloned().unwrap_or_default(),
                _ => String::new(),
            })
            .draw()
            .map_err(err)?;
        if let Some(r) = reference {
            chart
                .draw_series(DashedLineSeries::new(
                    [(SegmentValue::Exact(0), r), (SegmentValue::Exact(n), r)],
                    6,
                    4,
                    RGBColor(120, 120, 120).stroke_width(1),
                ))
                .map_err(err)?;
        }
        chart
            .draw_series(points.iter().enumerate().map(|(i, p)| {
                ErrorBar::new_vertical(
                    SegmentValue::CenterOf(i),
                    p.lo,
                    p.mean,
                    p.hi,
                    Palette99::pick(i).stroke_width(2),
                    14,
                )
            }))
            .map_err(err)?;
        chart
            .draw_series(points.iter().enumerate().map(|(i, p)| {
                Circle::new(
                    (SegmentValue::CenterOf(i), p.mean),
                    5,
                    Palette99::pick(i).filled(),
                )
            }))
            .map_err(err)?;
        root.present().map_err(err)?;
        Ok(())
    })
}

/// One learning curve: name and (x, mean, std) points.
pub struct Curve {
    pub name: String,
    pub points: Vec<(f64, f64, f64)>,
}

/// Learning curves (mean line with a ±1 std band).
pub fn line_chart(
    path: &Path,
    title: &str,
    xlabel: &str,
    ylabel: &str,
    curves: &[Curve],
) -> Result<()> {
    init_fonts();
    with_atomic_path(path, |tmp| {
        let root = BitMapBackend::new(tmp, (720, 460)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let pts = curves.iter().flat_map(|c| c.points.iter());
        let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
        for &(x, m, s) in pts {
            x0 = x0.min(x);
            x1 = x1.max(x);
            y0 = y0.min(m - s);
            y1 = y1.max(m + s);
        }
        if x0.partial_cmp(&x1) != Some(std::cmp::Ordering::Less) {
            x1 = x0 + 1.0;
        }
        if y0.partial_cmp(&y1) != Some(std::cmp::Ordering::Less) {
            y1 = y0 + 1.0;
        }
        let pad = 0.05 * (y1 - y0);
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(x0..x1, (y0 - pad)..(y1 + pad))
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc(xlabel)
            .y_desc(ylabel)
            .draw()
            .map_err(err)?;
        for (i, c) in curves.iter().enumerate() {
            let color = Palette99::pick(i);
            let band: Vec<(f64, f64)> = c
                .points
                .iter()
                .map(|&(x, m, s)| (x, m + s))
                .chain(c.points.iter().rev().map(|&(x, m, s)| (x, m - s)))
                .collect();
            chart
                .draw_series(std::iter::once(Polygon::new(
                    band,
                    color.mix(0.15).filled(),
                )))
                .map_err(err)?;
            chart
                .draw_series(LineSeries::new(
                    c.points.iter().map(|&(x, m, _)| (x, m)),
                    color.stroke_width(2),
                ))
                .map_err(err)?
                .label(c.name.clone())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
                });
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()
            .map_err(err)?;
        root.present().map_err(err)?;
        Ok(())
    })
}

/// One reliability bin: lower and upper confidence edge, mean confidence, accuracy, count.
pub struct RelBin {
    pub lower: f64,
    pub upper: f64,
    pub confidence: f64,
    pub accuracy: f64,
    pub count: usize,
}

/// A reliability diagram: per-bin accuracy against the diagonal, the gap to the mean confidence coloured by
/// its sign.
pub fn reliability(path: &Path, title: &str, bins: &[RelBin]) -> Result<()> {
    init_fonts();
    with_atomic_path(path, |tmp| {
        let root = BitMapBackend::new(tmp, (520, 520)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(50)
            .build_cartesian_2d(0f64..1f64, 0f64..1f64)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("confidence")
            .y_desc("accuracy")
            .draw()
            .map_err(err)?;
        // Opaque, non-overlapping colours: blue up to the lower of accuracy and confidence, then the gap in
        // red (over-confident: confidence above accuracy) or green (under-confident).
        let blue = RGBColor(60, 110, 190);
        let red = RGBColor(215, 70, 50);
        let green = RGBColor(60, 160, 80);
        let shown: Vec<&RelBin> = bins.iter().filter(|b| b.count > 0).collect();
        chart
            .draw_series(shown.iter().map(|b| {
                Rectangle::new(
                    [(b.lower, 0.0), (b.upper, b.accuracy.min(b.confidence))],
                    blue.filled(),
                )
            }))
            .map_err(err)?
            .label("accuracy, up to the confidence")
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], blue.filled()));
        chart
            .draw_series(shown.iter().filter(|b| b.confidence > b.accuracy).map(|b| {
                Rectangle::new(
                    [(b.lower, b.accuracy), (b.upper, b.confidence)],
                    red.filled(),
                )
            }))
            .map_err(err)?
            .label("over-confidence (confidence > accuracy)")
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], red.filled()));
        chart
            .draw_series(shown.iter().filter(|b| b.accuracy > b.confidence).map(|b| {
                Rectangle::new(
                    [(b.lower, b.confidence), (b.upper, b.accuracy)],
                    green.filled(),
                )
            }))
            .map_err(err)?
            .label("under-confidence (accuracy > confidence)")
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], green.filled()));
        // Bin outlines keep neighbouring bins apart.
        chart
            .draw_series(shown.iter().map(|b| {
                Rectangle::new(
                    [(b.lower, 0.0), (b.upper, b.accuracy.max(b.confidence))],
                    WHITE.stroke_width(1),
                )
            }))
            .map_err(err)?;
        chart
            .draw_series(LineSeries::new(
                vec![(0.0, 0.0), (1.0, 1.0)],
                BLACK.stroke_width(1),
            ))
            .map_err(err)?;
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()
            .map_err(err)?;
        root.present().map_err(err)?;
        Ok(())
    })
}

/// An RGB tile (already scaled to 0..=255) to place in a grid.
pub struct Tile {
    pub width: usize,
    pub height: usize,
    pub rgb: Vec<[u8; 3]>,
}

/// A grid of rows, each a list of tiles with a caption under the row.
pub fn tile_grid(
    path: &Path,
    title: &str,
    rows: &[(Vec<Tile>, String)],
    per_line: usize,
    scale: usize,
) -> Result<()> {
    init_fonts();
    let tw = rows
        .iter()
        .flat_map(|r| r.0.iter())
        .map(|t| t.width)
        .max()
        .unwrap_or(1)
        * scale;
    let th = rows
        .iter()
        .flat_map(|r| r.0.iter())
        .map(|t| t.height)
        .max()
        .unwrap_or(1)
        * scale;
    let per_row_tiles = rows.iter().map(|r| r.0.len()).max().unwrap_or(1);
    let gap = 6usize;
    let cell_w = per_row_tiles * (tw + 2) + gap * 2;
    let cell_h = th + 22 + gap;
    let per_line = per_line.max(1);
    let lines = rows.len().div_ceil(per_line);
    let width = (per_line * cell_w + gap).max(360) as u32;
    let height = (lines * cell_h + 40) as u32;
    with_atomic_path(path, |tmp| {
        let root = BitMapBackend::new(tmp, (width, height)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        root.draw(&Text::new(
            title.to_string(),
            (8, 8),
            ("sans-serif", 16).into_font().color(&BLACK),
        ))
        .map_err(err)?;
        for (k, (tiles, caption)) in rows.iter().enumerate() {
            let ox = (k % per_line) * cell_w + gap;
            let oy = 34 + (k / per_line) * cell_h;
            for (t_i, t) in tiles.iter().enumerate() {
                let x0 = ox + t_i * (tw + 2);
                for y in 0..t.height * scale {
                    for x in 0..t.width * scale {
                        let [r, g, b] = t.rgb[(y / scale) * t.width + x / scale];
                        root.draw_pixel(((x0 + x) as i32, (oy + y) as i32), &RGBColor(r, g, b))
                            .map_err(err)?;
                    }
                }
            }
            root.draw(&Text::new(
                caption.clone(),
                (ox as i32, (oy + th + 3) as i32),
                ("sans-serif", 13).into_font().color(&BLACK),
            ))
            .map_err(err)?;
        }
        root.present().map_err(err)?;
        Ok(())
    })
}

/// Rows of waveforms (original / partner / mixed), each row with a caption.
pub fn wave_grid(path: &Path, title: &str, rows: &[(Vec<Vec<f32>>, String)]) -> Result<()> {
    init_fonts();
    let panel_w = 300u32;
    let panel_h = 90u32;
    let cols = rows.iter().map(|r| r.0.len()).max().unwrap_or(1) as u32;
    with_atomic_path(path, |tmp| {
        let root = BitMapBackend::new(
            tmp,
            (cols * panel_w + 20, rows.len() as u32 * (panel_h + 22) + 40),
        )
        .into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        root.draw(&Text::new(
            title.to_string(),
            (8, 8),
            ("sans-serif", 16).into_font().color(&BLACK),
        ))
        .map_err(err)?;
        for (k, (waves, caption)) in rows.iter().enumerate() {
            let oy = 34 + k as i32 * (panel_h as i32 + 22);
            for (c, wave) in waves.iter().enumerate() {
                let ox = 10 + c as i32 * panel_w as i32;
                let area = root
                    .clone()
                    .shrink((ox as u32, oy as u32), (panel_w - 6, panel_h));
                area.fill(&RGBColor(245, 245, 245)).map_err(err)?;
                let peak = wave.iter().fold(1e-6f32, |m, v| m.max(v.abs()));
                let n = wave.len().max(1);
                let mut chart = ChartBuilder::on(&area)
                    .build_cartesian_2d(0..n, -peak..peak)
                    .map_err(err)?;
                let color = [BLUE, RGBColor(0, 140, 0), RED][c.min(2)];
                // Draw a min/max envelope per pixel column so long signals stay readable.
                let step = (n / panel_w as usize).max(1);
                let env: Vec<(usize, f32)> = wave
                    .chunks(step)
                    .enumerate()
                    .flat_map(|(i, ch)| {
                        let lo = ch.iter().cloned().fold(f32::MAX, f32::min);
                        let hi = ch.iter().cloned().fold(f32::MIN, f32::max);
                        [(i * step, lo), (i * step, hi)]
                    })
                    .collect();
                chart
                    .draw_series(LineSeries::new(env, &color))
                    .map_err(err)?;
            }
            root.draw(&Text::new(
                caption.clone(),
                (10, oy + panel_h as i32 + 3),
                ("sans-serif", 13).into_font().color(&BLACK),
            ))
            .map_err(err)?;
        }
        root.present().map_err(err)?;
        Ok(())
    })
}
