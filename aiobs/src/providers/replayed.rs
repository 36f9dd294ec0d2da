//! What both middlewares do with a cassette: recognise an LLM request, answer it from the
//! recording, and record the replayed call as an event of this run.

use super::http_call::HttpCall;
use crate::observed::thread::current_state;
use crate::replay::{Answer, Cassette, ReplayError, recognises};

/// Whether a provider of the current collector (registered, else built in) knows the
/// endpoint: only those requests are answered from the cassette.
pub(crate) fn is_llm_request(method: &str, url: &str) -> bool {
    recognises(method, url, &current_state().providers())
}

/// The recorded answer to an LLM request; the call is recorded (while a session is active)
/// as a provider event with `"replayed": true`, or with the replay's error.
pub(crate) fn answer(
    cassette: &Cassette,
    method: &str,
    url: &str,
    body: &[u8],
    cap: usize,
) -> Result<Answer, ReplayError> {
    let mut call = HttpCall::begin(method, url);
    if let Some(call) = &mut call {
        call.body_cap(cap);
        call.request_body(body);
        call.replayed();
    }
    let registered = current_state().providers();
    let answer = match cassette.answer_with(method, url, body, &registered) {
        Some(answer) => answer,
        // Recognised a moment ago; a provider registered or removed meanwhile.
        None => Err(ReplayError::Unmatched {
            file: cassette.file().to_owned(),
            request: format!("{method} {url}"),
            detail: "no provider recognises it any more".to_owned(),
        }),
    };
    if let Some(mut call) = call {
        match &answer {
            Ok(answer) => {
                call.response_head(answer.status, Some(answer.content_type));
                call.response_bytes(&answer.body);
                call.finish();
            }
            Err(e) => call.fail(&format!("ReplayError: {e}")),
        }
    }
    answer
}
