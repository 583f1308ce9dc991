//! Compile-fail tests of `plan!()`: one fixture per mistake in the sources, each
//! `tests/ui/<case>.rs` reading the sources folder `tests/ui/<case>/` beside it, with the
//! expected compiler output in `tests/ui/<case>.stderr`. Every mistake must come out as one
//! `error:` line naming the file and the fix, with no cascade of other errors.
//!
//! Regenerate the expected output with `TRYBUILD=overwrite cargo test --test ui` and read the
//! diff like code. `tests/ui/pass/` holds valid trees that must compile and run.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
    cases.pass("tests/ui/pass/*.rs");
}
