//! `aiobs diff BASE NEW`: two traces of one program compared, for people (a report) and for
//! machines (`--json`), with budgets (`--fail-on`) for CI.
//!
//! A side is read ([`side`]), summed up ([`summary`]), the two summaries compared
//! ([`compare`]), the budgets checked ([`budget`]), and the whole written ([`report`]).
//!
//! ```no_run
//! use aiobs_cli::diff::{DiffOptions, side::Side};
//! let base = Side::read("base.json".as_ref())?;
//! let new = Side::read("new.json".as_ref())?;
//! let options = DiffOptions {
//!     budgets: vec!["llm_calls>+1".parse()?],
//!     ..DiffOptions::new()?
//! };
//! let report = aiobs_cli::diff::compare_sides(&base, &new, &options)?;
//! if report.exceeded().next().is_some() {
//!     eprintln!("over budget");
//! }
//! # Ok::<(), aiobs_cli::Error>(())
//! ```

pub mod budget;
pub mod compare;
pub mod report;
pub mod side;
pub mod summary;

use serde::Serialize;

use crate::Error;
use crate::html::prices::Prices;
use budget::{Budget, Verdict};
use compare::{Diff, Noise};
use side::Side;
use summary::Summary;

/// How to compare.
#[derive(Debug, Clone)]
pub struct DiffOptions {
    /// Duration changes smaller than this are noise.
    pub noise: Noise,
    /// The prices of LLM calls.
    pub prices: Prices,
    /// The budgets to check.
    pub budgets: Vec<Budget>,
}

impl DiffOptions {
    /// The default noise, the built-in prices, no budget.
    ///
    /// ```
    /// let options = aiobs_cli::diff::DiffOptions::new()?;
    /// assert!(options.budgets.is_empty());
    /// # Ok::<(), aiobs_cli::Error>(())
    /// ```
    pub fn new() -> Result<DiffOptions, Error> {
        Ok(DiffOptions {
            noise: Noise::default(),
            prices: Prices::builtin()?,
            budgets: Vec::new(),
        })
    }
}

/// The files a side was read from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Files {
    /// In the order they were joined.
    pub files: Vec<String>,
}

/// What `aiobs diff` reports: the files, the comparison, and the budgets checked.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// `BASE`'s files.
    pub base: Files,
    /// `NEW`'s files.
    pub new: Files,
    /// The figures of both sides.
    #[serde(flatten)]
    pub diff: Diff,
    /// Every `--fail-on`, in the order given.
    pub budgets: Vec<Verdict>,
}

impl Report {
    /// The budgets exceeded.
    ///
    /// ```no_run
    /// # let report: aiobs_cli::diff::Report = todo!();
    /// for v in report.exceeded() {
    ///     eprintln!("budget exceeded: {} ({})", v.budget, v.detail);
    /// }
    /// ```
    pub fn exceeded(&self) -> impl Iterator<Item = &Verdict> {
        self.budgets.iter().filter(|v| v.exceeded)
    }
}

fn files(side: &Side) -> Files {
    Files {
        files: side.files.iter().map(|p| p.display().to_string()).collect(),
    }
}

/// Compares `base` with `new` and checks the budgets of `options`. A file that does not parse
/// or a per-path budget whose path is in neither side is an error naming it.
///
/// ```no_run
/// use aiobs_cli::diff::{DiffOptions, side::Side};
/// let (base, new) = (Side::read("a.json".as_ref())?, Side::read("b.json".as_ref())?);
/// let report = aiobs_cli::diff::compare_sides(&base, &new, &DiffOptions::new()?)?;
/// println!("{:+} token(s)", report.diff.totals.tokens.change);
/// # Ok::<(), aiobs_cli::Error>(())
/// ```
pub fn compare_sides(base: &Side, new: &Side, options: &DiffOptions) -> Result<Report, Error> {
    let summary = |side: &Side| -> Result<Summary, Error> {
        Ok(Summary::of(&side.export()?, &options.prices))
    };
    let (b, n) = (summary(base)?, summary(new)?);
    let diff = Diff::of(&b, &n, options.noise);
    let budgets = options
        .budgets
        .iter()
        .map(|budget| budget.check(&diff))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Report {
        base: files(base),
        new: files(new),
        diff,
        budgets,
    })
}
