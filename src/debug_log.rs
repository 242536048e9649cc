//! `-vvv`: the SSH library's own debug log on stderr, for a connection that fails in a way
//! hubfleet's one-line reason does not explain (key exchange, algorithms, authentication).
//!
//! russh logs through the `log` facade (not `tracing`), so a small `log::Log` that writes
//! through the [`Printer`] is all it takes: no subscriber stack, and the lines obey the same
//! output contract as every other (stderr, plain, timestamped). Only russh's own targets are
//! shown, down to `debug`; `trace` dumps packets and is left out.

use log::{Level, LevelFilter, Log, Metadata, Record};

use crate::printer::Printer;

/// Routes russh's `debug` and coarser records to stderr for the rest of the process. A second
/// call keeps the first logger.
pub fn install(printer: Printer) {
    let logger: &'static DebugLog = Box::leak(Box::new(DebugLog { printer }));
    if log::set_logger(logger).is_ok() {
        log::set_max_level(LevelFilter::Debug);
    }
}

/// The logger: russh's records as `HH:MM:SS russh::MODULE LEVEL message`.
struct DebugLog {
    printer: Printer,
}

impl Log for DebugLog {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= Level::Debug && is_ssh(metadata.target())
    }

    fn log(&self, record: &Record<'_>) {
        if self.enabled(record.metadata()) {
            self.printer.err(&format!(
                "{} {} {} {}",
                jiff::ZonedDateTime::now().strftime("%H:%M:%S"),
                record.target(),
                record.level(),
                record.args()
            ));
        }
    }

    fn flush(&self) {}
}

/// True for the targets of russh and its own crates (`russh`, `russh::client`, `russh_keys`…).
fn is_ssh(target: &str) -> bool {
    target == "russh" || target.starts_with("russh::") || target.starts_with("russh_")
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_the_ssh_librarys_targets_are_shown() {
        let cases = [
            ("russh", true),
            ("russh::client", true),
            ("russh_keys::agent", true),
            ("russhx", false),
            ("hyper::proto", false),
        ];
        for (target, shown) in cases {
            assert_eq!(super::is_ssh(target), shown, "{target}");
        }
    }
}
