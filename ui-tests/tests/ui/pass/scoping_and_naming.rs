// Where the function is and what it is called. Sources: tracing-attributes/tests/targets.rs
// (`mod my_mod`), async_fn.rs (async_fn_nested: fns local to another fn); fastrace
// fastrace/tests/lib.rs (`rec(mut i: u32)` local recursion), tests/macros/tests/ui/ok/
// has-crate-path.rs (attribute through an alias); shapes common in real code (raw identifiers,
// `macro_rules!` with caller-supplied names, `$item:item`, fn pointers).
#![deny(warnings)]

use aiobs::observe;
use futures::executor::block_on;

mod inner {
    use aiobs::observe;

    #[observe]
    pub fn in_module(n: u32) -> u32 {
        n + 1
    }
}

fn host() -> u32 {
    #[observe]
    fn local(mut i: u32) -> u32 {
        i -= 1;
        if i > 0 { local(i) } else { i }
    }

    #[observe]
    async fn local_async() -> u32 {
        local_async_other().await
    }

    #[observe]
    async fn local_async_other() -> u32 {
        1
    }

    local(2) + block_on(local_async())
}

#[observe(skip(r#type))]
fn r#match(r#type: u8, r#fn: u8) -> u8 {
    r#type + r#fn
}

#[observe]
async fn r#try(r#in: u8) -> u8 {
    r#in
}

macro_rules! handler {
    ($name:ident, $arg:ident) => {
        #[observe]
        fn $name($arg: u32) -> u32 {
            $arg + 1
        }
    };
}

handler!(plus_one, n);

macro_rules! item {
    ($item:item) => {
        $item
    };
}

item! {
    #[observe]
    async fn from_item(n: u32) -> u32 {
        n
    }
}

use aiobs as obs;

#[obs::observe]
fn via_alias(n: u32) -> u32 {
    n
}

#[observe]
fn add_one(n: u32) -> u32 {
    n + 1
}

fn main() {
    assert_eq!(inner::in_module(1), 2);
    assert_eq!(host(), 1);
    assert_eq!(r#match(1, 2), 3);
    assert_eq!(block_on(r#try(4)), 4);
    assert_eq!(plus_one(1), 2);
    assert_eq!(block_on(from_item(5)), 5);
    assert_eq!(via_alias(6), 6);
    let f: fn(u32) -> u32 = add_one; // a `#[track_caller]` fn as a fn pointer
    assert_eq!(f(1), 2);
}
