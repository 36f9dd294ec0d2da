//! What is the same for every span of one callsite: its [`FnMeta`] (name, module, the fields
//! that become arguments, where it is defined) and what each field means to aiobs.
//!
//! Built once per callsite and kept for the whole process (callsites are static, so this is
//! bounded by the program's `span!` sites). Looked up through a per-thread cache, so that the
//! span path takes no lock shared by all threads once a thread has seen a callsite.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

use tracing_core::Metadata;

use crate::store::FnMeta;
use crate::sync::lock;

/// Arguments a span's event keeps (tracing's macros take at most 32 fields).
pub(super) const MAX_ARGS: usize = 32;

/// What a field of a span is to aiobs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Role {
    /// An argument of the event: its position in `arg_names`.
    Arg(u16),
    /// `error`: the event's error text.
    Error,
    /// `exception.message` (OpenTelemetry): the error's message.
    ExceptionMessage,
    /// `exception.type`: the error's type, written before the message.
    ExceptionType,
    /// `error.type` (OpenTelemetry, as genai writes it): the error's class, set when the
    /// operation failed.
    ErrorType,
    /// `otel.status_code`: `"ERROR"` makes the span an error.
    StatusCode,
    /// `otel.status_message`: the error text when the status is `ERROR`.
    StatusMessage,
    /// Other `otel.*` fields (span name and kind for an OpenTelemetry layer): not recorded.
    Skip,
}

/// One callsite's description.
#[derive(Debug)]
pub(super) struct Site {
    /// Name, module, argument names and callsite of its function events.
    pub(super) meta: &'static FnMeta,
    /// The role of each field, by its index in the callsite's field set.
    roles: Box<[Role]>,
    /// For each argument, the index of its field.
    pub(super) arg_fields: Box<[u16]>,
    /// Every field's name, by index.
    names: Box<[&'static str]>,
    /// The span declares `gen_ai.*` fields: its values are kept whole (not cut), so that it
    /// can become an LLM call.
    pub(super) gen_ai: bool,
}

impl Site {
    /// The role of the field at `index`.
    pub(super) fn role(&self, index: usize) -> Role {
        self.roles.get(index).copied().unwrap_or(Role::Skip)
    }

    /// The name of the field at `index`.
    pub(super) fn field_name(&self, index: u16) -> Option<&'static str> {
        self.names.get(usize::from(index)).copied()
    }

    fn new(metadata: &'static Metadata<'static>) -> Site {
        let mut roles = Vec::with_capacity(metadata.fields().len());
        let mut arg_names = Vec::new();
        let mut arg_fields = Vec::new();
        for field in metadata.fields().iter() {
            let name = field.name();
            let role = match name {
                "error" => Role::Error,
                "exception.message" => Role::ExceptionMessage,
                "exception.type" => Role::ExceptionType,
                "error.type" => Role::ErrorType,
                "otel.status_code" => Role::StatusCode,
                "otel.status_message" => Role::StatusMessage,
                _ if name.starts_with("otel.") => Role::Skip,
                // tracing's macros make at most 32 fields; a hand-made field set's others
                // are not recorded.
                _ if arg_names.len() >= MAX_ARGS => Role::Skip,
                _ => match u16::try_from(field.index()) {
                    Ok(index) => {
                        arg_fields.push(index);
                        arg_names.push(name);
                        Role::Arg((arg_names.len() - 1) as u16)
                    }
                    Err(_) => Role::Skip,
                },
            };
            roles.push(role);
        }
        let gen_ai = metadata
            .fields()
            .iter()
            .any(|f| f.name().starts_with("gen_ai."));
        let meta = Box::leak(Box::new(FnMeta {
            name: metadata.name(),
            ident: metadata.name(),
            module: metadata.module_path().unwrap_or(metadata.target()),
            arg_names: Box::leak(arg_names.into_boxed_slice()),
            safe_args: &[],
            capture_args: true,
            capture_result: true,
            enh_prompt: false,
            auto_enhance_after: None,
            defined_at: metadata.file().zip(metadata.line()),
        }));
        Site {
            meta,
            roles: roles.into_boxed_slice(),
            names: metadata.fields().iter().map(|f| f.name()).collect(),
            arg_fields: arg_fields.into_boxed_slice(),
            gen_ai,
        }
    }
}

/// Every callsite described so far, by the address of its metadata.
static SITES: LazyLock<Mutex<HashMap<usize, &'static Site>>> = LazyLock::new(Default::default);

/// Callsites this thread has looked up; the last one found first.
const LOCAL_SITES: usize = 64;

thread_local! {
    static LOCAL: RefCell<Vec<(usize, &'static Site)>> = const { RefCell::new(Vec::new()) };
}

/// The description of the callsite of `metadata`.
pub(super) fn of(metadata: &'static Metadata<'static>) -> &'static Site {
    let key = metadata as *const Metadata<'static> as usize;
    let cached = LOCAL.try_with(|local| {
        let mut local = local.try_borrow_mut().ok()?;
        let i = local.iter().position(|(k, _)| *k == key)?;
        if i > 0 {
            local.swap(i, i - 1);
        }
        Some(local[i.saturating_sub(1)].1)
    });
    if let Ok(Some(site)) = cached {
        return site;
    }
    let site = *lock(&SITES)
        .entry(key)
        .or_insert_with(|| Box::leak(Box::new(Site::new(metadata))));
    let _ = LOCAL.try_with(|local| {
        if let Ok(mut local) = local.try_borrow_mut() {
            if local.len() == LOCAL_SITES {
                local.pop();
            }
            local.push((key, site));
        }
    });
    site
}
