//! Where the console's lines go. Logs go to stderr through `tracing`, as text or as one JSON
//! object per line (`--log-format`); `RUST_LOG` chooses what is logged. The few lines a person
//! starting a command reads (the console's address, the set-up code, "stopped", an error that
//! ends the command) are plain lines on stdout and stderr in text mode, and JSON lines like
//! every other with `--log-format json`, so a journal or collector reading the console's output
//! finds nothing but JSON.

use std::fmt::Display;
use std::sync::atomic::{AtomicBool, Ordering};

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

static JSON: AtomicBool = AtomicBool::new(false);

/// Starts the log subscriber (default filter: info, without sled's own lines: what they say
/// reaches the user as one line of ours).
pub fn init(format: LogFormat) {
    let logs = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sled=off")),
        )
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => logs.init(),
        LogFormat::Json => {
            JSON.store(true, Ordering::Relaxed);
            logs.json().flatten_event(true).init()
        }
    }
}

/// A line for the person who started the command: stdout as text, or a JSON log line.
pub fn announce_line(line: impl Display) {
    if JSON.load(Ordering::Relaxed) {
        tracing::info!(target: "havip", "{line}");
    } else {
        println!("{line}");
    }
}

/// The error that ends a command: `havip: …` on stderr, or a JSON log line.
pub fn fatal(error: impl Display) {
    if JSON.load(Ordering::Relaxed) {
        tracing::error!(target: "havip", "{error}");
    } else {
        eprintln!("havip: {error}");
    }
}

/// `announce!("…", args…)`: [`announce_line`] with `println!`'s arguments.
macro_rules! announce {
    ($($arg:tt)*) => {
        $crate::logs::announce_line(format_args!($($arg)*))
    };
}
pub(crate) use announce;
