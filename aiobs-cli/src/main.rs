//! The `aiobs` command. Argument parsing only; the work is in the `aiobs_cli` library.
//!
//! A new subcommand is a variant of [`Command`] and an arm in [`run`]; one that renders an
//! export into a file, such as `html FILE -o OUT`, is:
//!
//! ```text
//! Command::Html { file, output } => {
//!     let file = ExportFile::read(&file)?;
//!     let export = file.parse()?;
//!     aiobs_cli::atomic::write_atomically(&output, |w| aiobs_cli::html::write(&export, w))?;
//! }
//! ```

use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use aiobs_cli::Error;
use aiobs_cli::load::ExportFile;
use aiobs_cli::out::{ColorChoice, Style, terminal_width};
use clap::{Parser, Subcommand};

/// Read aiobs traces (JSON exports of the Rust runtime or the Python SDK aiobs 0.1.5).
#[derive(Debug, Parser)]
#[command(name = "aiobs", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Show the trace tree: one line per call, with duration, arguments and result or error.
    View {
        /// The export to show.
        file: PathBuf,
        /// Show calls up to this depth (1: only the roots).
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
        depth: Option<u64>,
        /// Only the calls that failed, and the calls they ran inside.
        #[arg(long)]
        errors_only: bool,
        /// Only calls whose name, arguments, result or error contain PATTERN (ignoring case),
        /// and the calls they ran inside.
        #[arg(long, value_name = "PATTERN")]
        grep: Option<String>,
        /// When to colour the output (NO_COLOR turns `auto` off).
        #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
        color: ColorChoice,
    },
    /// Calls, errors, p50/p95/max duration and tokens per function and per provider/model.
    Stats {
        /// The export to summarise.
        file: PathBuf,
        /// Write JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Check exports against the format (exit status 1 if one is not valid).
    Validate {
        /// The exports to check.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Also reject a file without a trace tree (`trace_tree` null or absent), which the
        /// format allows.
        #[arg(long)]
        require_tree: bool,
    },
    /// Join the numbered files of an auto-flushed session into one export.
    Merge {
        /// The files to join (`<session-id>-<seq>.json`; sorted by name and number).
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Where to write the joined export (atomically).
        #[arg(short, long, value_name = "OUT")]
        output: PathBuf,
    },
    /// Write the trace as one self-contained HTML page: a timeline of the calls with their
    /// details, LLM messages, tokens and cost (no network needed to view it).
    Html {
        /// The export to show.
        file: PathBuf,
        /// Where to write the page (atomically).
        #[arg(short, long, value_name = "OUT")]
        output: PathBuf,
        /// A price file (USD per 1M tokens per model) whose entries add to or replace the
        /// built-in table: {"date": "...", "models": {"gpt-4o": {"input": 2.5, "output": 10}}}.
        #[arg(long, value_name = "FILE")]
        prices: Option<PathBuf>,
        /// The page's title (default: the file's name).
        #[arg(long, value_name = "T")]
        title: Option<String>,
    },
    /// Compare two traces of one program: calls per path, tokens and cost per model, the
    /// tools the models asked for; exit status 1 when a `--fail-on` budget is exceeded, 2 on
    /// bad input.
    Diff {
        /// The baseline: an export, or a directory of one session's numbered files.
        base: PathBuf,
        /// The candidate, the same way.
        new: PathBuf,
        /// Write JSON instead of a report.
        #[arg(long)]
        json: bool,
        /// Exit with status 1 when this is exceeded (repeatable): `cost>+10%`,
        /// `tokens>+5000`, `llm_calls>+1`, `errors>0`, `p95:PATH>+20%`, `tools_changed`.
        #[arg(long, value_name = "EXPR")]
        fail_on: Vec<aiobs_cli::diff::budget::Budget>,
        /// A duration change under this per cent of the base is noise.
        #[arg(long, value_name = "PCT", default_value_t = aiobs_cli::diff::compare::Noise::default().pct,
              value_parser = non_negative)]
        min_change: f64,
        /// A duration change under this many milliseconds is noise.
        #[arg(long, value_name = "MS", default_value_t = aiobs_cli::diff::compare::Noise::default().ms,
              value_parser = non_negative)]
        min_change_ms: f64,
        /// A price file (as for `html --prices`) adding to or replacing the built-in table.
        #[arg(long, value_name = "FILE")]
        prices: Option<PathBuf>,
        /// When to colour the report (NO_COLOR turns `auto` off).
        #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
        color: ColorChoice,
    },
    /// Serve the LLM calls of a trace over loopback HTTP: point any client's base URL at the
    /// printed address and it gets the recorded answers (Ctrl-C stops).
    Replay {
        /// The export whose LLM calls answer (this crate's or the Python SDK's).
        file: PathBuf,
        /// The port on 127.0.0.1 (0: a free one, printed).
        #[arg(long, default_value_t = 0)]
        port: u16,
        /// How a request finds its recorded call: `body` (same provider, API, model and
        /// request) or `order` (the next call of the same provider, API and model).
        #[arg(long, value_enum, default_value_t = MatchChoice::Body)]
        match_by: MatchChoice,
        /// On stop, exit with status 1 if recorded calls were never asked for.
        #[arg(long)]
        strict: bool,
    },
}

/// A number of 0 or more (`--min-change`, `--min-change-ms`); `25%` reads as 25.
fn non_negative(text: &str) -> Result<f64, String> {
    match text.trim().trim_end_matches('%').parse::<f64>() {
        Ok(n) if n.is_finite() && n >= 0.0 => Ok(n),
        _ => Err(format!("{text:?} is not a number of 0 or more")),
    }
}

/// `--match-by`.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum MatchChoice {
    Body,
    Order,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let stdout = std::io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    // `diff` exits as diff(1) does: 0 the same (within budgets), 1 a budget exceeded, 2 trouble.
    let trouble = if matches!(cli.command, Command::Diff { .. }) {
        ExitCode::from(2)
    } else {
        ExitCode::FAILURE
    };
    let result = run(cli.command, &mut out).and_then(|code| {
        out.flush()?;
        Ok(code)
    });
    match result {
        Ok(code) => code,
        // The reader went away (`aiobs view big.json | head`): nothing more to say.
        Err(e) if e.is_broken_pipe() => ExitCode::SUCCESS,
        Err(e) => {
            drop(out);
            let _ = writeln!(std::io::stderr(), "aiobs: {e}");
            trouble
        }
    }
}

fn run(command: Command, out: &mut dyn Write) -> Result<ExitCode, Error> {
    match command {
        Command::View {
            file,
            depth,
            errors_only,
            grep,
            color,
        } => {
            let file = ExportFile::read(&file)?;
            let export = file.parse()?;
            let options = aiobs_cli::view::ViewOptions {
                depth: depth.map(|d| usize::try_from(d).unwrap_or(usize::MAX)),
                errors_only,
                grep,
                width: terminal_width(),
                style: Style::new(color.enabled()),
            };
            aiobs_cli::view::write(&export, &options, out)?;
        }
        Command::Stats { file, json } => {
            let file = ExportFile::read(&file)?;
            let export = file.parse()?;
            let rows = aiobs_cli::stats::rows(&export);
            if json {
                aiobs_cli::stats::write_json(&rows, out)?;
            } else {
                aiobs_cli::stats::write_table(&rows, out)?;
            }
        }
        Command::Validate {
            files,
            require_tree,
        } => {
            let options = aiobs_cli::validate::ValidateOptions { require_tree };
            let mut invalid = 0;
            for file in &files {
                let report = aiobs_cli::validate::validate_file(file, options);
                if report.is_valid() {
                    writeln!(out, "{}: valid", file.display())?;
                } else {
                    invalid += 1;
                    for problem in &report.problems {
                        writeln!(out, "{problem}")?;
                    }
                    if report.more > 0 {
                        writeln!(
                            out,
                            "{}: … and {} more problem(s)",
                            file.display(),
                            report.more
                        )?;
                    }
                }
            }
            if files.len() > 1 {
                writeln!(out, "{} valid, {invalid} invalid", files.len() - invalid)?;
            }
            if invalid > 0 {
                return Ok(ExitCode::FAILURE);
            }
        }
        Command::Merge { files, output } => {
            let merged = aiobs_cli::merge::merge_files(&files, &output)?;
            writeln!(
                out,
                "{}: {} file(s) joined: {} session(s), {} event(s)",
                output.display(),
                merged.inputs.len(),
                merged.sessions,
                merged.events
            )?;
        }
        Command::Html {
            file,
            output,
            prices,
            title,
        } => {
            let prices = match prices {
                Some(path) => aiobs_cli::html::prices::Prices::builtin_extended_by(&path)?,
                None => aiobs_cli::html::prices::Prices::builtin()?,
            };
            let options = aiobs_cli::html::HtmlOptions { title, prices };
            let written = aiobs_cli::html::write_file(&file, &output, &options)?;
            writeln!(
                out,
                "{}: {} call(s), {} bytes",
                output.display(),
                written.calls,
                written.bytes
            )?;
        }
        Command::Replay {
            file,
            port,
            match_by,
            strict,
        } => return replay(&file, port, match_by, strict, out),
        Command::Diff {
            base,
            new,
            json,
            fail_on,
            min_change,
            min_change_ms,
            prices,
            color,
        } => {
            use aiobs_cli::diff::{DiffOptions, compare::Noise, side::Side};
            let options = DiffOptions {
                noise: Noise {
                    pct: min_change,
                    ms: min_change_ms,
                },
                prices: match prices {
                    Some(path) => aiobs_cli::html::prices::Prices::builtin_extended_by(&path)?,
                    None => aiobs_cli::html::prices::Prices::builtin()?,
                },
                budgets: fail_on,
            };
            let base = Side::read(&base)?;
            let new = Side::read(&new)?;
            let report = aiobs_cli::diff::compare_sides(&base, &new, &options)?;
            if json {
                aiobs_cli::diff::report::write_json(&report, out)?;
            } else {
                aiobs_cli::diff::report::write_text(&report, Style::new(color.enabled()), out)?;
            }
            let mut exceeded = false;
            for v in report.exceeded() {
                exceeded = true;
                let _ = writeln!(
                    std::io::stderr(),
                    "aiobs diff: budget exceeded: {} ({})",
                    v.budget,
                    v.detail
                );
            }
            if exceeded {
                return Ok(ExitCode::FAILURE);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `aiobs replay`: serves until Ctrl-C, then says what was served.
fn replay(
    file: &std::path::Path,
    port: u16,
    match_by: MatchChoice,
    strict: bool,
    out: &mut dyn Write,
) -> Result<ExitCode, Error> {
    use aiobs::replay::{Cassette, MatchBy};
    let by = match match_by {
        MatchChoice::Body => MatchBy::Body,
        MatchChoice::Order => MatchBy::Order,
    };
    let cassette = Cassette::load(file).map_err(Error::new)?.match_by(by);
    let calls = cassette.len();
    let server = aiobs_cli::replay::Server::bind(cassette, port)?;
    let stopper = server.stopper();
    ctrlc::set_handler(move || stopper.stop())
        .map_err(|e| Error::new(format!("cannot handle Ctrl-C: {e}")))?;
    writeln!(
        out,
        "aiobs replay: {calls} recorded LLM call(s) of {} at {}",
        file.display(),
        server.base_url()
    )?;
    writeln!(
        out,
        "(OpenAI SDKs: base URL {}/v1; Ctrl-C stops)",
        server.base_url()
    )?;
    out.flush()?;
    let served = server.serve(out)?;
    writeln!(
        out,
        "aiobs replay: {} answered, {} refused, {} recorded call(s) never asked for",
        served.answered, served.refused, served.unused
    )?;
    Ok(if strict && served.unused > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
