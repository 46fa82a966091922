//! Standard output for every command that prints. A reader that goes away early
//! (`llm-parity list checks | head -1`) closes the pipe; `println!` would panic on the next
//! write (exit 101). Here a broken pipe means "done": the rest of the output is dropped quietly
//! and the command finishes as it would have (its exit code unchanged), as ripgrep does. Any
//! other write error is said once on stderr, and the output is dropped after it too.

use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};

/// Set once stdout can take no more: nothing is written after it.
static CLOSED: AtomicBool = AtomicBool::new(false);

/// A handle on standard output that treats a closed pipe as the end of the output.
#[derive(Debug, Default, Clone, Copy)]
pub struct Stdout;

impl Stdout {
    fn fail(e: &io::Error) {
        if !CLOSED.swap(true, Ordering::SeqCst) && e.kind() != io::ErrorKind::BrokenPipe {
            eprintln!("error: cannot write to standard output: {e}");
        }
    }
}

impl Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if CLOSED.load(Ordering::SeqCst) {
            return Ok(buf.len());
        }
        match io::stdout().lock().write_all(buf) {
            Ok(()) => Ok(buf.len()),
            Err(e) => {
                Self::fail(&e);
                Ok(buf.len())
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        if CLOSED.load(Ordering::SeqCst) {
            return Ok(());
        }
        if let Err(e) = io::stdout().lock().flush() {
            Self::fail(&e);
        }
        Ok(())
    }
}

/// `print!` through [`Stdout`].
pub fn print(args: std::fmt::Arguments<'_>) {
    // One write per call, so a line is never split by another thread's output. `Stdout` never
    // returns an error: there is nothing to handle here.
    let text = std::fmt::format(args);
    let _ = Stdout.write_all(text.as_bytes());
}

/// `println!` through [`Stdout`]: a closed pipe ends the output instead of panicking.
macro_rules! outln {
    () => {
        $crate::cli::out::print(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::cli::out::print(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// `print!` through [`Stdout`].
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::cli::out::print(format_args!($($arg)*))
    };
}

pub(crate) use {out, outln};
