// Lints about the user's function still fire through `#[observe]`: an expectation of them is
// fulfilled (else `unfulfilled_lint_expectations` fails the build), as in tracing's tests.
#![deny(unfulfilled_lint_expectations)]

#[expect(dead_code)]
#[aiobs::observe]
fn unused() {}

#[expect(dead_code)]
#[aiobs::observe]
async fn unused_async() {}

#[aiobs::observe]
fn body_lint(n: u32) -> u32 {
    #[expect(unused_variables)]
    let unused = n;
    n
}

fn main() {
    assert_eq!(body_lint(3), 3);
}
