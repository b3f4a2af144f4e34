//! The flags' numeric value parsers and limits: each says in its error
//! what it takes, as Maelstrom's do.

/// The most nodes a run may have.
pub const MAX_NODES: u64 = 1000;
/// The most client processes a run may have.
pub const MAX_PROCESSES: usize = 100_000;
/// The longest time limit and nemesis interval, in seconds (30 days).
const MAX_SECONDS: f64 = 30.0 * 86_400.0;
/// The highest and lowest rates, in operations per second.
const RATES: (f64, f64) = (0.001, 1_000_000.0);
/// The highest mean latency, in milliseconds (one hour).
const MAX_LATENCY_MS: f64 = 3_600_000.0;

/// A number in `min..=max` (`min` excluded when `open_min`), said in
/// `unit` in the error.
fn number_in(text: &str, min: f64, open_min: bool, max: f64, what: &str) -> Result<f64, String> {
    let value: f64 = text
        .parse()
        .map_err(|_| format!("expected {what}, got `{text}`"))?;
    let low_ok = if open_min { value > min } else { value >= min };
    if low_ok && value <= max {
        Ok(value)
    } else {
        Err(format!("expected {what}, got `{text}`"))
    }
}

pub(super) fn seconds(text: &str) -> Result<f64, String> {
    number_in(
        text,
        0.0,
        true,
        MAX_SECONDS,
        "seconds, more than 0 and at most 2592000 (30 days)",
    )
}

pub(super) fn interval(text: &str) -> Result<f64, String> {
    let text = &number(text).map_or_else(|| text.to_owned(), |n| n.to_string());
    number_in(
        text,
        0.01,
        false,
        MAX_SECONDS,
        "seconds, from 0.01 to 2592000 (30 days)",
    )
}

pub(super) fn rate(text: &str) -> Result<f64, String> {
    // 0 means no client operations at all, as in Maelstrom.
    if text.parse::<f64>() == Ok(0.0) {
        return Ok(0.0);
    }
    number_in(
        text,
        RATES.0,
        false,
        RATES.1,
        "operations per second: 0, or from 0.001 to 1000000",
    )
}
pub(super) fn latency(text: &str) -> Result<f64, String> {
    number_in(
        text,
        0.0,
        false,
        MAX_LATENCY_MS,
        "milliseconds, at least 0 and at most 3600000 (one hour)",
    )
}

/// A probability, from 0 to 1.
pub(super) fn probability(text: &str) -> Result<f64, String> {
    match number(text) {
        Some(p) if (0.0..=1.0).contains(&p) => Ok(p),
        _ => Err(format!("expected a probability from 0 to 1, got `{text}`")),
    }
}

/// A number as Maelstrom reads one (Clojure's reader): a decimal or a
/// ratio such as `1/2`.
pub(super) fn number(text: &str) -> Option<f64> {
    match text.split_once('/') {
        Some((top, bottom)) => {
            let (top, bottom): (f64, f64) = (top.trim().parse().ok()?, bottom.trim().parse().ok()?);
            (bottom != 0.0).then(|| top / bottom)
        }
        None => text.trim().parse().ok(),
    }
}
