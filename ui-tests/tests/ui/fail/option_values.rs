#[aiobs::observe(name = add)]
fn a() {}

#[aiobs::observe(name = "")]
fn b() {}

#[aiobs::observe(capture_args = "no")]
fn c() {}

#[aiobs::observe(capture_result = 0)]
fn d() {}

#[aiobs::observe(enh_prompt(true))]
fn e() {}

#[aiobs::observe(auto_enhance_after = 0)]
fn f() {}

#[aiobs::observe(auto_enhance_after = -3)]
fn g() {}

#[aiobs::observe(auto_enhance_after = "3")]
fn h() {}

#[aiobs::observe(skip = "x")]
fn i(x: u8) -> u8 { x }

#[aiobs::observe(name = "x", name = "y")]
fn j() {}

fn main() {
    a(); b(); c(); d(); e(); f(); g(); h(); i(1); j();
}
