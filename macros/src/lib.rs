//! The macros of tradeforge-migrator: `plan!()` and `#[data_migration]`. Each entry point only
//! parses its input, calls `tradeforge-migrator-spec` (where every rule lives) and expands or
//! reports.

use std::path::PathBuf;

use proc_macro::TokenStream;
use syn::LitStr;
use tradeforge_migrator_spec::codegen::{self, Expansion};

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
    expand(input, Expansion::Plan)
}

/// Checks the sources exactly as `plan!()` does and expands to the `topics` and `indicators`
/// constant modules only: for application code that wants the typed names without the plan
/// types (and so without the runtime's sqlx, rdkafka and ClickHouse client). Takes the same
/// optional sources folder.
#[proc_macro]
pub fn names(input: TokenStream) -> TokenStream {
    expand(input, Expansion::Names)
}

fn expand(input: TokenStream, expansion: Expansion) -> TokenStream {
    let root = match sources_root(input) {
        Ok(root) => root,
        Err(error) => return error.to_compile_error().into(),
    };
    match tradeforge_migrator_spec::compile(&root) {
        Ok(plan) => codegen::expand(&plan, expansion).into(),
        Err(problems) => codegen::expand_errors(&problems, expansion).into(),
    }
}

/// Marks a PostgreSQL data migration written in Rust: a module in `migrations/postgres/data/`
/// holding `async fn upgrade` and `async fn downgrade`, each taking the connection of the
/// migration's transaction. `plan!()` includes the file and runs it in version order with the
/// SQL migrations.
///
/// ```ignore
/// #[tradeforge_migrator::data_migration(version = 8)]
/// mod backfill_display_names {
///     use tradeforge_migrator::plan::{DataError, PgConnection};
///
///     pub async fn upgrade(db: &mut PgConnection) -> Result<(), DataError> {
///         sqlx::query("UPDATE users SET display_name = username WHERE display_name IS NULL")
///             .execute(db)
///             .await?;
///         Ok(())
///     }
///
///     pub async fn downgrade(db: &mut PgConnection) -> Result<(), DataError> {
///         sqlx::query("UPDATE users SET display_name = NULL WHERE display_name = username").execute(db).await?;
///         Ok(())
///     }
/// }
/// ```
///
/// A missing `downgrade` (or `upgrade`), a function that is not `async` or does not take exactly
/// the connection, or a missing version is a compile error pointing at the module.
#[proc_macro_attribute]
pub fn data_migration(arguments: TokenStream, item: TokenStream) -> TokenStream {
    let original = proc_macro2::TokenStream::from(item.clone());
    let parsed: syn::Item = match syn::parse(item) {
        Ok(parsed) => parsed,
        Err(error) => return error.to_compile_error().into(),
    };
    let mut errors: Vec<syn::Error> = Vec::new();
    if let Err(error) = tradeforge_migrator_spec::data::parse_arguments(arguments.into()) {
        errors.push(error.to_syn());
    }
    if let Err(item_errors) = tradeforge_migrator_spec::data::check_item(&parsed) {
        errors.extend(item_errors.iter().map(|error| error.to_syn()));
    }
    match parsed {
        // `check_item` accepts modules only, so anything else came with an error.
        syn::Item::Mod(module) if errors.is_empty() => {
            tradeforge_migrator_spec::codegen::expand_data_migration(module).into()
        }
        _ => with_errors(errors, original),
    }
}

/// The errors followed by the item as written, so that its body still compiles and one mistake
/// stays one error.
fn with_errors(errors: Vec<syn::Error>, item: proc_macro2::TokenStream) -> TokenStream {
    let errors = errors.iter().map(syn::Error::to_compile_error);
    quote::quote! { #(#errors)* #item }.into()
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
