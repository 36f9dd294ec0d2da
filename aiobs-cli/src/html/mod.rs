//! `aiobs html`: one self-contained HTML page showing a trace as a timeline (waterfall), with a
//! detail pane, an LLM panel, Σ tokens and cost per subtree, errors marked on ancestors and the
//! critical path of each root. The page needs no network: its style, script and data are
//! inline.
//!
//! The work is split as in a compiler: [`rows`] turns the export into flat rows in tree
//! pre-order with every aggregate the page shows (so the script never walks the tree to draw),
//! [`prices`] prices LLM calls, [`page`] puts the style (`style.css`), the script (`app.js`)
//! and the data (JSON, script-safe) into `template.html`.
//!
//! ```no_run
//! use aiobs_cli::html::{HtmlOptions, prices::Prices};
//! let options = HtmlOptions { title: None, prices: Prices::builtin()? };
//! let written = aiobs_cli::html::write_file("trace.json".as_ref(), "trace.html".as_ref(), &options)?;
//! println!("{} calls, {} bytes", written.calls, written.bytes);
//! # Ok::<(), aiobs_cli::Error>(())
//! ```

pub mod page;
pub mod prices;
pub mod rows;

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

use crate::Error;
use crate::load::ExportFile;
use prices::Prices;
use rows::{ModelUse, Row};

/// What to put in the page.
#[derive(Debug, Clone)]
pub struct HtmlOptions {
    /// The page's title; the input file's name when none.
    pub title: Option<String>,
    /// The prices of LLM calls.
    pub prices: Prices,
}

/// What was written.
#[derive(Debug, Clone, Copy)]
pub struct Written {
    /// Calls (rows) in the page.
    pub calls: usize,
    /// The page's size in bytes.
    pub bytes: u64,
}

/// The data the script reads (`<script id="data" type="application/json">`).
#[derive(Serialize)]
struct PageData<'p> {
    title: &'p str,
    /// The input file, as given.
    source: Cow<'p, str>,
    /// When the export was written (Unix seconds).
    generated_at: f64,
    /// The earliest call's start (Unix seconds): row times are milliseconds after it.
    t0: f64,
    sessions: Vec<SessionData<'p>>,
    prices: PricesData<'p>,
    models: &'p [ModelUse],
    rows: &'p [Row<'p>],
}

#[derive(Serialize)]
struct SessionData<'p> {
    id: &'p str,
    name: &'p str,
    started_at: f64,
    ended_at: Option<f64>,
    labels: BTreeMap<&'p str, &'p str>,
}

#[derive(Serialize)]
struct PricesData<'p> {
    date: Option<&'p str>,
    note: Option<&'p str>,
}

/// Reads the export `input` and writes its page to `output` (atomically).
pub fn write_file(input: &Path, output: &Path, options: &HtmlOptions) -> Result<Written, Error> {
    let file = ExportFile::read(input)?;
    // The callsites are a second read of the file: on a second core, beside the first.
    let (export, sites) = std::thread::scope(|s| {
        let sites = s.spawn(|| rows::callsites(&file));
        let export = file.parse();
        let sites = sites
            .join()
            .unwrap_or_else(|_| Err(Error::in_file(input, "reading the callsites failed")));
        (export, sites)
    });
    let export = export?;
    let built = rows::build(&export, sites?, &options.prices);
    let default_title = input
        .file_name()
        .map_or_else(|| input.to_string_lossy(), |n| n.to_string_lossy());
    let title = options.title.as_deref().unwrap_or(&default_title);
    let sessions = export
        .sessions
        .iter()
        .map(|s| SessionData {
            id: &s.id,
            name: &s.name,
            started_at: s.started_at,
            ended_at: s.ended_at,
            labels: s
                .labels
                .iter()
                .flatten()
                .map(|(k, v)| (&**k, &**v))
                .collect(),
        })
        .collect();
    let data = PageData {
        title,
        source: input.to_string_lossy(),
        generated_at: export.generated_at,
        t0: built.t0,
        sessions,
        prices: PricesData {
            date: options.prices.date.as_deref(),
            note: options.prices.note.as_deref(),
        },
        models: &built.models,
        rows: &built.rows,
    };
    let bytes = crate::atomic::write_atomically(output, |w| {
        page::write_page(w, title, &|w| serde_json::to_writer(w, &data))
    })?;
    Ok(Written {
        calls: built.rows.len(),
        bytes,
    })
}
