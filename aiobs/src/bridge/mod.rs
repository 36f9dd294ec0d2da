//! The tracing bridge: [`AiobsLayer`] records `tracing` spans into aiobs.
//!
//! Each span recorded gets an aiobs span id. While it is entered, that id is the thread's
//! current span (and its collector the thread's current collector), so an `#[observe]`
//! function called inside it is its child; a span created inside an observed call (or inside
//! another recorded span) is the child of that call. A span created with `parent: None`, or
//! with an explicit parent that is not recorded, is the child of the observed call running,
//! which tracing cannot see (else a root). When the span closes it becomes one event: a
//! function event named after the span with its fields as arguments, or, for a span that
//! describes a call to a model with OpenTelemetry GenAI fields (`gen_ai.*`, as rig emits them),
//! a provider event like those of the HTTP middlewares.

mod fields;
mod genai;
mod live;
mod site;

use std::cell::RefCell;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use tracing_core::span::{Attributes, Id, Record};
use tracing_core::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::LookupSpan;

use self::fields::Values;
use self::site::Site;
use crate::capture::settings::CaptureSettings;
use crate::clock::{self, Instant};
use crate::id;
use crate::observed::thread;
use crate::state::{CollectorState, RECORDING, global};
use crate::store::{Header, Kind};

/// A [`tracing_subscriber::Layer`] that records `tracing` spans as aiobs events, nested with
/// `#[observe]` calls both ways.
///
/// Install it once, beside your other layers; spans are recorded into the collector current
/// where they are created, while it has an active session (otherwise the layer does next to
/// nothing):
///
/// - a span becomes a function event: `name` is the span's name, `module` its module, `args`
///   its fields in declaration order (`arg_names` their names; a field never given a value is
///   null), `callsite` where the span is defined; the values are captured with the collector's
///   limits, mask and scrubbing, as an observed function's arguments are. The `return` value of
///   `#[instrument(ret)]` becomes the `result`; an `error` (the event of `#[instrument(err)]`,
///   or a field), an `exception.message` (with `exception.type`) or an `otel.status_code` of
///   `"ERROR"` (with `otel.status_message`) becomes the `error`;
/// - a span with `gen_ai.*` fields that names a model (`gen_ai.request.model` or
///   `gen_ai.response.model`) and is not an agent or tool operation becomes a provider event:
///   `provider` from `gen_ai.provider.name` (or `gen_ai.system`), the request's model,
///   messages, temperature and max tokens, the response's id, model, text and token usage;
/// - an `#[observe]` function called while a recorded span is entered is that span's child,
///   and a span created inside an observed call is the call's child, on any thread and across
///   `.instrument(span)` futures;
/// - a span created with an explicit `parent: None` is the child of the observed call running
///   on the thread or task (not of a tracing span entered inside that call), and a root when
///   none is: tracing cannot see observed calls, so a library that opens a root when no tracing
///   span is current (rig's `invoke_agent`) still nests under the observed function. An
///   explicit `parent: &span` is followed if that span is recorded, and else treated as
///   `parent: None` (a span opened before the session, or filtered out of this layer).
///
/// ```
/// use aiobs::bridge::AiobsLayer;
/// use aiobs::{Collector, FlushOptions, ObserveOptions};
/// use tracing_subscriber::layer::SubscriberExt as _;
///
/// #[aiobs::observe]
/// fn retrieve(query: &str) -> Vec<String> {
///     vec![format!("doc about {query}")]
/// }
///
/// #[tracing::instrument]
/// fn answer(question: &str) -> usize {
///     retrieve(question).len()
/// }
///
/// let subscriber = tracing_subscriber::registry().with(AiobsLayer::new());
/// let _tracing = tracing::subscriber::set_default(subscriber);
/// let obs = Collector::new();
/// let _scope = obs.set_default();
/// obs.observe(ObserveOptions::new())?;
///
/// answer("rust");
///
/// # let dir = std::env::temp_dir().join(format!("aiobs-bridge-doc-{}", std::process::id()));
/// let path = obs.flush(FlushOptions::to_path(dir.join("trace.json")))?;
/// let export: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
/// let root = &export["trace_tree"][0];
/// assert_eq!(root["name"], "answer");
/// assert_eq!(root["args"], serde_json::json!(["rust"]));
/// assert_eq!(root["children"][0]["name"], "retrieve");
/// # std::fs::remove_dir_all(dir).ok();
/// # Ok::<(), aiobs::Error>(())
/// ```
#[derive(Clone, Copy, Default)]
pub struct AiobsLayer {
    _private: (),
}

impl fmt::Debug for AiobsLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AiobsLayer")
    }
}

impl AiobsLayer {
    /// The layer; add it to a `tracing_subscriber::registry()`.
    ///
    /// ```
    /// use tracing_subscriber::layer::SubscriberExt as _;
    /// let subscriber = tracing_subscriber::registry().with(aiobs::bridge::AiobsLayer::new());
    /// # drop(subscriber);
    /// ```
    pub fn new() -> AiobsLayer {
        AiobsLayer { _private: () }
    }
}

/// Whether a span callback may concern a recorded span: a session is active, or a span
/// recorded during one is still open.
#[inline(always)]
fn may_be_recorded() -> bool {
    RECORDING.load(Ordering::Relaxed) != 0 || live::any()
}

/// What the layer keeps in a recorded span's extensions.
struct SpanState {
    /// The aiobs span id: made current while the span is entered. Carries
    /// [`id::DROPPED`] in a tree that head sampling dropped.
    span: u64,
    parent: u64,
    /// The collector the span records into; `None` for the global one (no reference count
    /// to share between threads).
    collector: Option<Arc<CollectorState>>,
    collector_id: u64,
    /// The collector's session slot when the span was created.
    session: u32,
    settings: &'static CaptureSettings,
    site: &'static Site,
    start: Instant,
    /// `None` for a span in a dropped tree: nothing is captured.
    values: Option<Values>,
    /// Where the span is counted as open (see [`live`]), until it is dropped.
    live_shard: u8,
}

impl Drop for SpanState {
    fn drop(&mut self) {
        live::closed(self.live_shard);
    }
}

impl SpanState {
    /// A span under a root that head sampling dropped: it only carries the mark, so that
    /// nothing under it is recorded either.
    fn in_dropped_tree(&self) -> bool {
        self.span & id::DROPPED != 0 && self.parent & id::DROPPED != 0
    }

    /// Records the span's event (or counts the dropped tree of a dropped root).
    fn close(self, end: Instant) {
        if self.in_dropped_tree() {
            return;
        }
        let collector = self.collector.as_ref().unwrap_or_else(|| global());
        let Some(values) = &self.values else {
            // A dropped root: counted, as observed/ counts an observed one.
            let at = clock::epoch();
            self.push(collector, Kind::Dropped, (at, at), &[], 0);
            return;
        };
        if self.site.gen_ai {
            if let Some((payload, flags)) = genai::provider_payload(self.site, values) {
                self.push(
                    collector,
                    Kind::Provider,
                    (self.start, end),
                    &payload,
                    flags,
                );
                return;
            }
        }
        // The payload is made in a buffer the thread keeps (a fresh one if the mask hook,
        // running inside, closes a span of its own, or while the thread exits).
        let write = |out: &mut Vec<u8>| {
            out.clear();
            let flags = values.function_payload(self.site, self.settings, out);
            self.push(collector, Kind::Function, (self.start, end), out, flags);
        };
        let reused = PAYLOAD.try_with(|buf| match buf.try_borrow_mut() {
            Ok(mut buf) => {
                write(&mut buf);
                if buf.capacity() > PAYLOAD_KEPT {
                    *buf = Vec::new();
                }
                true
            }
            Err(_) => false,
        });
        if reused != Ok(true) {
            write(&mut Vec::new());
        }
    }

    /// Pushes the span's record: `kind`, timed `(start, end)`, with `payload` and `flags`.
    fn push(
        &self,
        collector: &Arc<CollectorState>,
        kind: Kind,
        (start, end): (Instant, Instant),
        payload: &[u8],
        flags: u8,
    ) {
        let Ok(payload_len) = u32::try_from(payload.len()) else {
            return; // over the 4 GiB a record holds
        };
        let header = Header {
            span: self.span,
            parent: self.parent,
            enh_id: 0,
            start,
            end,
            meta: Some(self.site.meta),
            self_ty: None,
            location: None,
            session: self.session,
            payload_len,
            kind,
            flags,
        };
        let _ = thread::with(|t| t.push(collector, header, &[payload]));
    }
}

/// The largest payload buffer a thread keeps between spans.
const PAYLOAD_KEPT: usize = 64 * 1024;

/// What entering a span replaced on this thread, to put back when it exits.
struct Entered {
    /// The tracing id of the entered span.
    id: u64,
    /// Its aiobs span id, made the thread's current span.
    span: u64,
    /// The innermost aiobs call (observed function or manual span) that was running when it
    /// was entered, skipping the recorded spans entered above it; 0 for none. The parent of a
    /// span created with `parent: None` while this span is the thread's current one.
    call: u64,
    prev_span: u64,
    /// The thread's collector before, if entering changed it.
    prev_collector: Option<Option<Arc<CollectorState>>>,
}

thread_local! {
    /// The recorded spans entered on this thread, innermost last.
    static ENTERED: RefCell<Vec<Entered>> = const { RefCell::new(Vec::new()) };
    /// Where a closing span's function event is made.
    static PAYLOAD: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

impl<S> Layer<S> for AiobsLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        if RECORDING.load(Ordering::Relaxed) == 0 {
            return;
        }
        open(attrs, id, &ctx);
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        if !may_be_recorded() {
            return;
        }
        let Some(span) = ctx.span(id) else { return };
        // Recorded outside the span's lock, which a `Debug` impl that logs would take again.
        let Some((site, settings)) = span
            .extensions()
            .get::<SpanState>()
            .filter(|s| s.values.is_some())
            .map(|s| (s.site, s.settings))
        else {
            return;
        };
        let mut newer = Values::default();
        values.record(&mut newer.recorder(site, &settings.limits));
        if let Some(state) = span.extensions_mut().get_mut::<SpanState>() {
            if let Some(v) = &mut state.values {
                v.merge(newer);
            }
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        if RECORDING.load(Ordering::Relaxed) == 0 {
            return;
        }
        let fields = event.metadata().fields();
        let error = *event.metadata().level() == Level::ERROR && fields.field("error").is_some();
        if !error && fields.field("return").is_none() {
            return;
        }
        let Some(span) = ctx.event_span(event) else {
            return;
        };
        let Some(settings) = span
            .extensions()
            .get::<SpanState>()
            .filter(|s| s.values.is_some())
            .map(|s| s.settings)
        else {
            return;
        };
        let mut newer = Values::default();
        event.record(&mut newer.event_recorder(&settings.limits, error));
        if let Some(state) = span.extensions_mut().get_mut::<SpanState>() {
            if let Some(v) = &mut state.values {
                v.merge(newer);
            }
        }
    }

    fn on_enter(&self, id: &Id, ctx: Context<'_, S>) {
        if RECORDING.load(Ordering::Relaxed) == 0 {
            return;
        }
        enter(id, &ctx);
    }

    fn on_exit(&self, id: &Id, _ctx: Context<'_, S>) {
        let _ = ENTERED.try_with(|entered| {
            let Ok(mut entered) = entered.try_borrow_mut() else {
                return;
            };
            if !entered.is_empty() {
                exit(&mut entered, id.into_u64());
            }
        });
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        if !may_be_recorded() {
            return;
        }
        let end = clock::now();
        let state = match ctx.span(&id) {
            Some(span) => span.extensions_mut().remove::<SpanState>(),
            None => None,
        };
        if let Some(state) = state {
            state.close(end);
        }
    }
}

/// Records a new span, if its collector has an active session: its parent, its aiobs span id,
/// its start and its fields.
#[inline(never)]
fn open<S>(attrs: &Attributes<'_>, id: &Id, ctx: &Context<'_, S>)
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    // The parent and the collector: an explicit parent's, else the thread's collector and
    // (contextual) its current span, the innermost entered span or running observed call, or
    // (`parent: None`) the innermost running observed call, which tracing cannot see: rig
    // makes its `invoke_agent` span that way when no tracing span is current.
    let explicit = attrs.parent().and_then(|parent| {
        let span = ctx.span(parent)?;
        let extensions = span.extensions();
        let state = extensions.get::<SpanState>()?;
        Some((state.span, state.collector.clone()))
    });
    let (parent, collector) = match explicit {
        Some(found) => found,
        None => {
            let contextual = attrs.is_contextual();
            thread::with(|t| {
                let current = t.span.get();
                // `parent: None`, or an explicit parent aiobs did not record (opened before
                // the session, or filtered out of this layer): no tracing parent that aiobs
                // knows, so the running observed call's child, as for `parent: None`.
                let parent = if contextual {
                    current
                } else {
                    innermost_call(current)
                };
                let collector = t.collector.try_borrow().ok().and_then(|c| c.clone());
                (parent, collector)
            })
            .unwrap_or((0, None))
        }
    };
    let state = collector.as_ref().unwrap_or_else(|| global());
    let session = state.active_slot();
    if session == 0 {
        return;
    }
    let settings = state.capture();
    let collector_id = state.id();
    let site = site::of(attrs.metadata());
    let (span, values, start) = if parent & id::DROPPED != 0 {
        // Inside a dropped tree: carry the mark, record nothing.
        (parent, None, clock::epoch())
    } else {
        let mut span = id::next();
        // Only a root is sampled; its span id is the random draw (as in observed::open).
        if parent == 0 && !settings.keeps_root(span << 1) {
            span |= id::DROPPED;
            (span, None, clock::epoch())
        } else {
            let mut values = Values::default();
            attrs.record(&mut values.recorder(site, &settings.limits));
            (span, Some(values), clock::now())
        }
    };
    let Some(span_ref) = ctx.span(id) else { return };
    let state = SpanState {
        span,
        parent,
        collector,
        collector_id,
        session,
        settings,
        site,
        start,
        values,
        live_shard: live::opened(),
    };
    span_ref.extensions_mut().insert(state);
}

/// Makes a recorded span's aiobs span (and collector) current on this thread.
#[inline(never)]
fn enter<S>(id: &Id, ctx: &Context<'_, S>)
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let Some(span_ref) = ctx.span(id) else { return };
    let extensions = span_ref.extensions();
    let Some(state) = extensions.get::<SpanState>() else {
        return;
    };
    let _ = ENTERED.try_with(|entered| {
        let Ok(mut entered) = entered.try_borrow_mut() else {
            return; // nowhere to remember what to restore: the thread stays as it was
        };
        let _ = thread::with(|t| {
            let current_id = t.with_collector(|c| c.id());
            let prev_collector = if current_id == state.collector_id {
                None
            } else {
                match t.collector.try_borrow_mut() {
                    Ok(mut c) => Some(std::mem::replace(&mut *c, state.collector.clone())),
                    Err(_) => None,
                }
            };
            let prev_span = t.span.replace(state.span);
            let call = running_call(&entered, prev_span);
            entered.push(Entered {
                id: id.into_u64(),
                span: state.span,
                call,
                prev_span,
                prev_collector,
            });
        });
    });
}

/// The innermost aiobs call running on this thread when its current span is `current`: `current`
/// itself, unless it is a recorded span entered here, whose [`Entered::call`] it then is.
fn innermost_call(current: u64) -> u64 {
    ENTERED
        .try_with(|entered| match entered.try_borrow() {
            Ok(entered) => running_call(&entered, current),
            Err(_) => current,
        })
        .unwrap_or(current)
}

/// [`innermost_call`] with the thread's entered spans at hand.
fn running_call(entered: &[Entered], current: u64) -> u64 {
    match entered.last() {
        Some(top) if top.span == current => top.call,
        _ => current,
    }
}

/// Restores what entering span `id` replaced. Exits are normally innermost first; when one is
/// not, the span entered after it inherits what it had replaced.
fn exit(entered: &mut Vec<Entered>, id: u64) {
    let Some(i) = entered.iter().rposition(|e| e.id == id) else {
        return;
    };
    let entry = entered.remove(i);
    if let Some(above) = entered.get_mut(i) {
        above.prev_span = entry.prev_span;
        if entry.prev_collector.is_some() {
            above.prev_collector = entry.prev_collector;
        }
        return;
    }
    let _ = thread::with(|t| {
        t.span.set(entry.prev_span);
        if let Some(prev) = entry.prev_collector {
            if let Ok(mut c) = t.collector.try_borrow_mut() {
                *c = prev;
            }
        }
    });
}
