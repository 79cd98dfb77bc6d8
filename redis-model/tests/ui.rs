//! What must not compile, with the messages users see: each folder of `tests/ui/` is one
//! category, each `.rs` beside the `.stderr` it must produce. Regenerate the `.stderr` files
//! with `TRYBUILD=overwrite cargo test -p redis-model --test ui`, then read them.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*/*.rs");
}
