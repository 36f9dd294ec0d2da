//! [`Cassette`]: the LLM calls of an aiobs export, answering the requests of a new run.

use std::collections::{HashMap, VecDeque};
use std::path::Path;
use std::sync::{Arc, Mutex};

use serde::Deserialize;
use serde_json::Value;

use super::answer::Answer;
use super::canon;
use super::error::ReplayError;
use super::live::{Live, model_of};
use super::rebuild;
use crate::model::Event;
use crate::scrub::Scrubbing;
use crate::sync::lock;
use crate::wire::Provider;

/// How a request finds its recorded call.
///
/// ```
/// use aiobs::replay::{Cassette, MatchBy};
/// # let dir = tempfile::tempdir()?;
/// # let path = dir.path().join("trace.json");
/// # std::fs::write(&path, include_str!("../../tests/fixtures/python-0.1.5.json"))?;
/// let cassette = Cassette::load(&path)?.match_by(MatchBy::Order);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum MatchBy {
    /// The same provider, API and model, and the same request once normalised (key order,
    /// whitespace, `1` and `1.0`, secrets scrubbed as the recorder scrubs them). A request
    /// recorded several times gets its answers in recorded order.
    #[default]
    Body,
    /// The next recorded call of the same provider, API and model, whatever the request says:
    /// for prompts with timestamps or random ids in them.
    Order,
}

/// The LLM calls recorded in an aiobs export (this crate's or the Python SDK's), ready to
/// answer the same requests again without the network: give it to `UreqMiddleware::replay`
/// (feature `ureq`) or `ReqwestMiddleware::replay` (feature `reqwest`), or serve it with
/// `aiobs replay FILE`.
///
/// A clone shares the cassette: what one answers, the others won't answer again. Requests that
/// match nothing get a [`ReplayError`] naming the closest recorded request and where the two
/// differ.
///
/// ```
/// use aiobs::replay::Cassette;
/// # let dir = tempfile::tempdir()?;
/// # let path = dir.path().join("trace.json");
/// # std::fs::write(&path, include_str!("../../tests/fixtures/python-0.1.5.json"))?;
/// let cassette = Cassette::load(&path)?; // a file the Python SDK wrote
/// let request = br#"{"model": "gpt-4o-mini", "temperature": 0.2, "max_tokens": 64,
///     "messages": [{"role": "system", "content": "You are terse."},
///                  {"role": "user", "content": "Write a short note about tracing."}]}"#;
/// let answer = cassette
///     .answer("POST", "https://api.openai.com/v1/chat/completions", request)
///     .expect("an OpenAI request")?;
/// assert_eq!(answer.status, 200);
/// assert!(String::from_utf8_lossy(&answer.body).contains("aiobs records LLM calls"));
/// assert!(cassette.verify().is_ok()); // every recorded call was asked for
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Cassette {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    file: String,
    calls: Vec<Recorded>,
    state: Mutex<State>,
}

/// One recorded call.
#[derive(Debug)]
struct Recorded {
    provider: String,
    api: String,
    /// The recorded request, scrubbed with the default rules.
    request: Value,
    response: Option<Value>,
    error: Option<String>,
}

impl Recorded {
    fn describe(&self, index: usize) -> String {
        let mut text = format!("call {} ({} {}", index + 1, self.provider, self.api);
        if let Some(model) = model_of(&self.request) {
            text.push_str(&format!(", model {model:?}"));
        }
        text.push(')');
        text
    }
}

#[derive(Debug, Default)]
struct State {
    by: MatchBy,
    strict: bool,
    used: Vec<bool>,
    /// By (provider, api, request key): the calls not yet answered, in recorded order.
    by_body: HashMap<(String, String, String), VecDeque<usize>>,
    /// By (provider, api, model): the calls not yet answered, in recorded order.
    by_order: HashMap<(String, String, Option<String>), VecDeque<usize>>,
}

/// The part of an export a cassette reads: its provider events.
#[derive(Deserialize)]
struct Export {
    events: Option<Vec<Event>>,
}

impl Cassette {
    /// Loads the LLM calls of the export at `path`. A missing or unreadable file, a file that
    /// is not an export (not JSON, truncated, no `events`) or one with no LLM call is an error
    /// that names the file.
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// # let path = dir.path().join("trace.json");
    /// # std::fs::write(&path, include_str!("../../tests/fixtures/python-0.1.5.json"))?;
    /// let cassette = aiobs::replay::Cassette::load(&path)?;
    /// assert_eq!((cassette.len(), cassette.remaining()), (1, 1));
    /// assert_eq!(cassette.file(), path.display().to_string());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn load(path: impl AsRef<Path>) -> Result<Cassette, ReplayError> {
        let path = path.as_ref();
        let file = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|e| ReplayError::Read {
            file: file.clone(),
            reason: e.to_string(),
        })?;
        Cassette::from_slice(&bytes, &file)
    }

    /// Reads the LLM calls of an export held in memory; `name` stands for the file in errors.
    ///
    /// ```
    /// let err = aiobs::replay::Cassette::from_slice(br#"{"events": [{"provider""#, "cut.json")
    ///     .unwrap_err();
    /// assert!(err.to_string().starts_with("cut.json: not an aiobs export: "));
    /// ```
    pub fn from_slice(bytes: &[u8], name: &str) -> Result<Cassette, ReplayError> {
        let export: Export = serde_json::from_slice(bytes).map_err(|e| ReplayError::Parse {
            file: name.to_owned(),
            reason: e.to_string(),
        })?;
        let Some(mut events) = export.events else {
            return Err(ReplayError::Parse {
                file: name.to_owned(),
                reason: "it has no \"events\" list".to_owned(),
            });
        };
        if events.is_empty() {
            return Err(ReplayError::NoCalls {
                file: name.to_owned(),
            });
        }
        // Recorded order is the order the calls started in.
        events.sort_by(|a, b| a.started_at.total_cmp(&b.started_at));
        let rules = Scrubbing::new();
        let calls: Vec<Recorded> = events
            .into_iter()
            .map(|e| Recorded {
                provider: e.provider,
                api: e.api,
                request: canon::comparable(e.request, &rules),
                response: e.response,
                error: e.error,
            })
            .collect();
        let mut state = State {
            used: vec![false; calls.len()],
            ..State::default()
        };
        for (i, call) in calls.iter().enumerate() {
            let body_key = (
                call.provider.clone(),
                call.api.clone(),
                canon::key(&call.request),
            );
            state.by_body.entry(body_key).or_default().push_back(i);
            let order_key = (
                call.provider.clone(),
                call.api.clone(),
                model_of(&call.request).map(str::to_owned),
            );
            state.by_order.entry(order_key).or_default().push_back(i);
        }
        Ok(Cassette {
            inner: Arc::new(Inner {
                file: name.to_owned(),
                calls,
                state: Mutex::new(state),
            }),
        })
    }

    /// How requests find their recorded call ([`MatchBy::Body`] unless told).
    pub fn match_by(self, by: MatchBy) -> Cassette {
        lock(&self.inner.state).by = by;
        self
    }

    /// Makes the cassette strict: when its last clone is dropped (the middleware holding it,
    /// at the end of a test) with recorded calls never asked for, it panics with the list, so
    /// the test fails. For a check without a panic, call [`Cassette::verify`].
    ///
    /// ```should_panic
    /// # let dir = tempfile::tempdir()?;
    /// # let path = dir.path().join("trace.json");
    /// # std::fs::write(&path, include_str!("../../tests/fixtures/python-0.1.5.json"))?;
    /// let cassette = aiobs::replay::Cassette::load(&path)?.strict();
    /// drop(cassette); // panics: "strict cassette: …: 1 recorded call was never replayed: …"
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn strict(self) -> Cassette {
        lock(&self.inner.state).strict = true;
        self
    }

    /// The file the cassette was loaded from, as given.
    pub fn file(&self) -> &str {
        &self.inner.file
    }

    /// The number of recorded LLM calls.
    pub fn len(&self) -> usize {
        self.inner.calls.len()
    }

    /// Whether it holds no call (never, once loaded).
    pub fn is_empty(&self) -> bool {
        self.inner.calls.is_empty()
    }

    /// The number of recorded calls not yet answered.
    pub fn remaining(&self) -> usize {
        lock(&self.inner.state).used.iter().filter(|u| !**u).count()
    }

    /// `Ok` if every recorded call was answered; else [`ReplayError::Unused`] listing those
    /// that were not.
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// # let path = dir.path().join("trace.json");
    /// # std::fs::write(&path, include_str!("../../tests/fixtures/python-0.1.5.json"))?;
    /// let cassette = aiobs::replay::Cassette::load(&path)?;
    /// let err = cassette.verify().unwrap_err();
    /// assert!(err.to_string().ends_with("call 1 (openai chat.completions.create, model \"gpt-4o-mini\")"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn verify(&self) -> Result<(), ReplayError> {
        self.inner.verify()
    }

    /// The recorded answer to `method url` with request `body`, rebuilt in the provider's
    /// wire format; `None` if no built-in provider knows the endpoint (not an LLM call).
    pub fn answer(
        &self,
        method: &str,
        url: &str,
        body: &[u8],
    ) -> Option<Result<Answer, ReplayError>> {
        self.answer_with(method, url, body, &[])
    }

    /// [`Cassette::answer`] with the providers a collector registered, consulted first.
    pub(crate) fn answer_with(
        &self,
        method: &str,
        url: &str,
        body: &[u8],
        registered: &[Arc<dyn Provider>],
    ) -> Option<Result<Answer, ReplayError>> {
        let live = Live::of(method, url, body, registered)?;
        Some(self.answer_live(live))
    }

    fn answer_live(&self, live: Live) -> Result<Answer, ReplayError> {
        let inner = &*self.inner;
        let request = canon::comparable(live.request, &Scrubbing::new());
        let model = model_of(&request).map(str::to_owned);
        let index = {
            let mut state = lock(&inner.state);
            let queue = match state.by {
                MatchBy::Body => state.by_body.get_mut(&(
                    live.provider.clone(),
                    live.api.clone(),
                    canon::key(&request),
                )),
                MatchBy::Order => state.by_order.get_mut(&(
                    live.provider.clone(),
                    live.api.clone(),
                    model.clone(),
                )),
            };
            let found = queue.and_then(VecDeque::pop_front);
            if let Some(i) = found {
                state.used[i] = true;
            }
            found
        };
        let Some(index) = index else {
            let mut what = format!("{} {}", live.provider, live.api);
            if let Some(model) = &model {
                what.push_str(&format!(" (model {model:?})"));
            }
            return Err(ReplayError::Unmatched {
                file: inner.file.clone(),
                request: what,
                detail: inner.why_unmatched(&live.provider, &live.api, &request),
            });
        };
        let call = &inner.calls[index];
        rebuild::rebuild(
            &call.provider,
            &call.api,
            &call.request,
            call.response.as_ref(),
            call.error.as_deref(),
            live.form,
        )
        .map_err(|reason| ReplayError::Unanswerable {
            file: inner.file.clone(),
            call: call.describe(index),
            reason,
        })
    }
}

impl Inner {
    fn verify(&self) -> Result<(), ReplayError> {
        let state = lock(&self.state);
        let calls: Vec<String> = self
            .calls
            .iter()
            .enumerate()
            .filter(|(i, _)| !state.used[*i])
            .map(|(i, c)| c.describe(i))
            .collect();
        if calls.is_empty() {
            Ok(())
        } else {
            Err(ReplayError::Unused {
                file: self.file.clone(),
                calls,
            })
        }
    }

    /// Why nothing answered a request: the closest recorded call of the same provider and
    /// API, and the first place where the two requests differ (or that its answers are used
    /// up, or what the file holds instead).
    fn why_unmatched(&self, provider: &str, api: &str, request: &Value) -> String {
        let state = lock(&self.state);
        if state.by == MatchBy::Order {
            let model = model_of(request);
            let times = (0..self.calls.len())
                .filter(|&i| {
                    let c = &self.calls[i];
                    c.provider == provider && c.api == api && model_of(&c.request) == model
                })
                .count();
            if times > 0 {
                return format!(
                    "all {times} recorded call{} of it were answered already",
                    if times == 1 { "" } else { "s" }
                );
            }
            let mut models: Vec<String> = Vec::new();
            for c in &self.calls {
                if c.provider == provider && c.api == api {
                    let m = format!("{:?}", model_of(&c.request).unwrap_or(""));
                    if !models.contains(&m) {
                        models.push(m);
                    }
                }
            }
            if !models.is_empty() {
                return format!(
                    "no recorded call of this model (the file has {})",
                    models.join(", ")
                );
            }
        }
        let same_api: Vec<usize> = (0..self.calls.len())
            .filter(|&i| self.calls[i].provider == provider && self.calls[i].api == api)
            .collect();
        if same_api.is_empty() {
            let mut held: Vec<String> = Vec::new();
            for c in &self.calls {
                let name = format!("{} {}", c.provider, c.api);
                if !held.contains(&name) {
                    held.push(name);
                }
            }
            return format!("the file has no such call (it has {})", held.join(", "));
        }
        // The nearest by differing leaves; among equals, one not yet answered first.
        let nearest = same_api
            .iter()
            .copied()
            .min_by_key(|&i| {
                (
                    canon::distance(&self.calls[i].request, request, 10_000),
                    state.used[i],
                )
            })
            .unwrap_or(same_api[0]);
        let call = &self.calls[nearest];
        match canon::first_difference(&call.request, request) {
            Some(difference) => format!(
                "the closest recorded request is {}, which differs at {difference}",
                call.describe(nearest)
            ),
            None => {
                let times = same_api
                    .iter()
                    .filter(|&&i| canon::key(&self.calls[i].request) == canon::key(request))
                    .count();
                format!(
                    "this request was recorded {times} time{} ({}) and every answer was given already",
                    if times == 1 { "" } else { "s" },
                    call.describe(nearest)
                )
            }
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        let strict = lock(&self.state).strict;
        if strict && !std::thread::panicking() {
            if let Err(e) = self.verify() {
                panic!("strict cassette: {e}");
            }
        }
    }
}
