// `secret(..)` and `safe(..)` name parameters, as `skip(..)` does; one parameter can be in
// one list only.
#[aiobs::observe(secret(pasword), safe(user, token), skip(token))]
fn login(user: &str, password: &str, token: &str) -> bool {
    !user.is_empty() && !password.is_empty() && !token.is_empty()
}

#[aiobs::observe(secret = "password")]
fn reset(password: &str) -> usize {
    password.len()
}

fn main() {
    login("u", "p", "t");
    reset("p");
}
