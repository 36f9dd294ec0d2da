//! Recording LLM calls by hand with `aiobs::llm_call`, for a client aiobs has no integration
//! for: here a tiny hand-written HTTP/1.1 client talking to a mock Anthropic server on loopback
//! that the example starts itself.
//!
//! ```sh
//! cargo run -p examples --example manual_llm_call
//! ```

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;

use aiobs::{FlushOptions, ObserveOptions, llm_call, observe};
use serde_json::{Value, json};

/// A minimal blocking POST: returns the status and the body (the mock answers with a length).
fn post(addr: std::net::SocketAddr, path: &str, body: &Value) -> std::io::Result<(u16, String)> {
    let body = body.to_string();
    let mut conn = TcpStream::connect(addr)?;
    write!(
        conn,
        "POST {path} HTTP/1.1\r\nHost: mock\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut reader = BufReader::new(conn);
    let mut status_line = String::new();
    reader.read_line(&mut status_line)?;
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let mut line = String::new();
    while reader.read_line(&mut line)? > 2 {
        line.clear(); // headers: not needed here
    }
    let mut text = String::new();
    reader.read_to_string(&mut text)?;
    Ok((status, text))
}

#[observe(skip(addr))]
fn ask_claude(addr: std::net::SocketAddr, model: &str, question: &str) -> Result<String, String> {
    let request = json!({
        "model": model,
        "max_tokens": 64,
        "messages": [{"role": "user", "content": question}],
    });
    // Timed from here, a child of `ask_claude`, with this line as its callsite.
    let call = llm_call("anthropic", "messages.create").request(&request);
    match post(addr, "/v1/messages", &request) {
        Ok((200, text)) => {
            let answer: Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
            call.response(&json!({
                "id": answer["id"],
                "model": answer["model"],
                "usage": answer["usage"],
                "text": answer["content"][0]["text"],
            }));
            Ok(answer["content"][0]["text"]
                .as_str()
                .unwrap_or_default()
                .to_owned())
        }
        Ok((status, text)) => {
            let message = serde_json::from_str::<Value>(&text)
                .ok()
                .and_then(|b| b["error"]["message"].as_str().map(str::to_owned))
                .unwrap_or(text);
            let error = format!("APIStatusError: {status} {message}");
            call.error(&error);
            Err(error)
        }
        Err(e) => {
            call.error(format!("ConnectionError: {e}"));
            Err(e.to_string())
        }
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = mock_llm::MockServer::start()?;
    let obs = aiobs::observer();
    obs.observe(ObserveOptions::new().session_name("manual"))?;
    println!(
        "{:?}",
        ask_claude(server.addr(), "claude-sonnet-4-20250514", "Say hello")
    );
    println!(
        "{:?}",
        ask_claude(server.addr(), "claude-error-429", "Say hello")
    );
    obs.end();

    let options = match std::env::var_os("LLM_OBS_OUT") {
        Some(_) => FlushOptions::new(),
        None => FlushOptions::to_path("target/aiobs/manual_llm_call.json"),
    };
    let path = obs.flush(options)?;
    println!();
    examples::print_tree(&path)
}
