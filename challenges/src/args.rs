//! The command line of the binaries that take a push interval.

use std::time::Duration;

/// The interval of `--interval-ms N` in `args` (the arguments after the
/// program's name), `default` when there are none, or `None` when they
/// say something else.
///
/// ```
/// use std::time::Duration;
/// use challenges::args::interval_ms;
///
/// let default = Duration::from_millis(10);
/// assert_eq!(interval_ms(&[], default), Some(default));
/// let args = ["--interval-ms".to_owned(), "25".to_owned()];
/// assert_eq!(interval_ms(&args, default), Some(Duration::from_millis(25)));
/// assert_eq!(interval_ms(&["25".to_owned()], default), None);
/// ```
pub fn interval_ms(args: &[String], default: Duration) -> Option<Duration> {
    match args {
        [] => Some(default),
        [flag, ms] if flag == "--interval-ms" => ms.parse().ok().map(Duration::from_millis),
        _ => None,
    }
}

/// The interval from this process's arguments (see [`interval_ms`]); on
/// anything else, logs the usage of `binary` and exits with status 2.
pub fn interval_or_exit(binary: &str, default: Duration) -> Duration {
    let args: Vec<String> = std::env::args().skip(1).collect();
    interval_ms(&args, default).unwrap_or_else(|| {
        glomers::log!(
            "usage: {binary} [--interval-ms N]   (N whole milliseconds, default {})",
            default.as_millis()
        );
        std::process::exit(2);
    })
}
