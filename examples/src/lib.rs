//! Runnable examples of aiobs: `cargo run -p examples --example quickstart`.
//!
//! Also what the examples share: [`print_tree`] prints a flushed trace as an indented tree with
//! durations, and [`openai_client`] wires aiobs's middleware into async-openai.

use aiobs::model::{ObservabilityExport, TraceNode};
use aiobs::providers::ReqwestMiddleware;
use async_openai::config::OpenAIConfig;
use async_openai::error::OpenAIError;
use async_openai::middleware::HttpRequestFactory;

/// The async-openai client of the `async_openai` and `agent` examples.
pub type OpenAi = async_openai::Client<OpenAIConfig>;

/// An async-openai client whose HTTP goes through aiobs's middleware: a `reqwest-middleware`
/// client carrying [`ReqwestMiddleware`], handed to async-openai with
/// `Client::with_http_service`, so that every call is recorded as an OpenAI provider event.
pub fn openai_client(api_base: String) -> OpenAi {
    let http = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
        .with(ReqwestMiddleware::new())
        .build();
    let service = tower::service_fn(move |factory: HttpRequestFactory| {
        let http = http.clone();
        async move {
            let request = factory.build().await?;
            http.execute(request).await.map_err(|e| match e {
                reqwest_middleware::Error::Reqwest(e) => OpenAIError::Reqwest(e),
                other => OpenAIError::Boxed(other.into()),
            })
        }
    });
    let config = OpenAIConfig::new()
        .with_api_base(api_base)
        .with_api_key("sk-example-not-a-key");
    async_openai::Client::with_config(config).with_http_service(service)
}

/// Reads the export at `path` and prints its trace tree, one call a line, indented by depth.
pub fn print_tree(path: &std::path::Path) -> Result<(), Box<dyn std::error::Error>> {
    let export: ObservabilityExport = serde_json::from_slice(&std::fs::read(path)?)?;
    println!(
        "{}: {} session(s), {} function call(s), {} provider call(s)",
        path.display(),
        export.sessions.len(),
        export.function_events.len(),
        export.events.len()
    );
    let roots = export.trace_tree.unwrap_or_default();
    // Depth-first without recursion: (node, depth), last root first on the stack.
    let mut stack: Vec<(&TraceNode, usize)> = roots.iter().rev().map(|n| (n, 0)).collect();
    while let Some((node, depth)) = stack.pop() {
        println!("{}{}", "  ".repeat(depth), describe(node));
        stack.extend(node.children().iter().rev().map(|c| (c, depth + 1)));
    }
    Ok(())
}

fn describe(node: &TraceNode) -> String {
    match node {
        TraceNode::Function { event, .. } => {
            let e = &event.event;
            let outcome = match (&e.error, &e.result) {
                (Some(err), _) => format!("  ERROR {err}"),
                (None, Some(v)) => format!(" -> {}", short(&v.to_string())),
                (None, None) => String::new(),
            };
            format!("{} ({:.3} ms){outcome}", e.name, e.duration_ms)
        }
        TraceNode::Provider { event, .. } => {
            let e = &event.event;
            let err = e
                .error
                .as_deref()
                .map(|x| format!("  ERROR {x}"))
                .unwrap_or_default();
            format!("[{}] {} ({:.3} ms){err}", e.provider, e.api, e.duration_ms)
        }
    }
}

fn short(s: &str) -> String {
    match s.char_indices().nth(60) {
        Some((i, _)) => format!("{}...", &s[..i]),
        None => s.to_owned(),
    }
}
