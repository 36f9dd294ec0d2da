//! What leaves the process: secrets scrubbed by default, a mask hook for personal data, size
//! caps with markers, and tail sampling that keeps every failing request.
//!
//! ```sh
//! cargo run -p examples --example privacy
//! ```

use std::collections::BTreeMap;

use aiobs::mask::{Captured, Mask, MaskPath};
use aiobs::{FlushOptions, Limits, ObserveOptions, Sampling, observe};
use serde::Serialize;

#[derive(Serialize)]
struct Customer {
    name: String,
    email: String,
    api_key: String,
    notes: Vec<String>,
}

#[observe]
fn lookup(customer_id: u64, password: &str) -> Result<Customer, String> {
    if customer_id % 4 == 3 {
        return Err(format!(
            "backend refused https://svc:{password}@crm.internal/customers/{customer_id}"
        ));
    }
    Ok(Customer {
        name: format!("Customer {customer_id}"),
        email: format!("c{customer_id}@example.com"),
        api_key: format!("sk-proj-{customer_id:0>24}"),
        notes: (0..25).map(|i| format!("note {i}")).collect(),
    })
}

#[observe(secret(otp), safe(session_id))]
fn verify(otp: &str, session_id: &str) -> bool {
    otp.len() == 6 && !session_id.is_empty()
}

#[observe]
fn handle(request: u64, headers: BTreeMap<&str, &str>) -> Result<usize, String> {
    verify("123456", "sess-42");
    let customer = lookup(request, "hunter2-db")?;
    Ok(customer.notes.len() + headers.len())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let obs = aiobs::observer();
    obs.set_mask(|path: &MaskPath<'_>, value: &Captured<'_>| match value {
        Captured::Str(s) if s.contains('@') && path.last_key() == Some("email") => {
            Mask::Replace("<email>".into())
        }
        _ => Mask::Keep,
    });
    obs.set_limits(Limits::new().max_items(5));
    obs.set_sampling(Sampling::new().tail_ratio(0.25).keep_errors(true));
    obs.observe(ObserveOptions::new().session_name("privacy-example"))?;
    for request in 0..12 {
        let headers = BTreeMap::from([
            (
                "Authorization",
                "Bearer eyJhbGciOiJIUzI1NiJ9.c2VjcmV0.sig-sig-sig",
            ),
            ("x-request-id", "req-7"),
        ]);
        let _ = handle(request, headers);
    }
    obs.end();
    let path = obs.flush(FlushOptions::default())?;
    examples::print_tree(&path)?;
    let text = std::fs::read_to_string(&path)?;
    for secret in [
        "hunter2-db",
        "sk-proj-",
        "eyJhbGci",
        "123456",
        "@example.com",
    ] {
        assert!(!text.contains(secret), "{secret} must not be in the trace");
    }
    println!(
        "no secret, password, token, OTP or email address is in {}",
        path.display()
    );
    Ok(())
}
