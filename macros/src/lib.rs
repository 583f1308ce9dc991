//! The macros of tradeforge-migrator. Each entry point only parses its input, calls
//! `tradeforge-migrator-spec` (where every rule lives) and expands or reports.

use std::path::PathBuf;

use proc_macro::TokenStream;
use syn::LitStr;

/// Checks every migration source and expands to the typed plan: `static PLAN` plus the
/// `topics` and `indicators` constant modules. Every problem in the sources becomes one
/// ordinary compile error naming the file (as `path:line:column` where known) and the fix.
///
/// `plan!()` reads the sources at the crate root (`CARGO_MANIFEST_DIR`); `plan!("dir")` reads
/// them from `dir`, relative to the file that invokes the macro, as `include_str!` does.
///
/// A proc macro cannot ask Cargo to watch files on stable Rust: the crate's build.rs declares
/// every source with `cargo:rerun-if-changed` (see `tradeforge_migrator_spec::source`).
#[proc_macro]
pub fn plan(input: TokenStream) -> TokenStream {
    let root = match sources_root(input) {
        Ok(root) => root,
        Err(error) => return error.to_compile_error().into(),
    };
    match tradeforge_migrator_spec::compile(&root) {
        Ok(plan) => tradeforge_migrator_spec::codegen::expand(&plan).into(),
        Err(problems) => tradeforge_migrator_spec::codegen::expand_errors(&problems).into(),
    }
}

fn sources_root(input: TokenStream) -> syn::Result<PathBuf> {
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from).unwrap_or_default();
    if input.is_empty() {
        return Ok(manifest_dir);
    }
    let relative: LitStr = syn::parse(input)?;
    let invoking_file = proc_macro::Span::call_site().local_file().ok_or_else(|| {
        syn::Error::new(
            relative.span(),
            "cannot tell which file invokes `plan!`; pass no argument to use the crate root",
        )
    })?;
    // rustc may name the file relative to its working directory, which is also ours.
    let invoking_dir = invoking_file.parent().map(PathBuf::from).unwrap_or_default();
    let base = if invoking_dir.is_absolute() {
        invoking_dir
    } else {
        std::env::current_dir().map_err(|error| syn::Error::new(relative.span(), error))?.join(invoking_dir)
    };
    Ok(base.join(relative.value()))
}
