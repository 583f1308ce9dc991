//! The rules for PostgreSQL data migrations written in Rust.
//!
//! A data migration is a file in `migrations/postgres/data/` holding one module marked
//! `#[data_migration(version = N)]` with an `async fn upgrade` and an `async fn downgrade`, each
//! taking the migration's connection:
//!
//! ```text
//! migrations/postgres/data/backfill_display_names.rs
//!
//! #[tradeforge_migrator::data_migration(version = 8)]
//! mod backfill_display_names {
//!     use tradeforge_migrator::plan::{DataError, PgConnection};
//!     pub async fn upgrade(db: &mut PgConnection) -> Result<(), DataError> { … }
//!     pub async fn downgrade(db: &mut PgConnection) -> Result<(), DataError> { … }
//! }
//! ```
//!
//! The same rules run twice, on purpose from one place: the `#[data_migration]` attribute
//! ([`check_item`], [`parse_arguments`]) reports a mistake in the item with the item's own span,
//! so rustc points at the module; `plan!()` ([`check`]) reads every file to learn the versions
//! (they share the SQL migrations' version sequence, which only it can see whole) and leaves
//! item mistakes to the attribute, so that one mistake is one error.

use proc_macro2::{Span, TokenStream};
use syn::parse::Parser as _;
use syn::spanned::Spanned as _;

use crate::diag::{DidYouMean, Location, Problems};
use crate::source::{self, Inputs};

/// The attribute's name, as written after `#[` (with or without a path before it).
pub const ATTRIBUTE: &str = "data_migration";

/// The static the attribute generates beside the module; `plan!()` refers to it by this name.
pub const STATIC_NAME: &str = "DATA_MIGRATION";

/// How history stores the downgrade of a data migration: compiled Rust cannot be stored, so the
/// row says where it came from, and a release that does not know the version can say why it
/// cannot undo it.
pub const STORED_DOWNGRADE_PREFIX: &str = "-- migrator:data-migration";

/// The two functions a data migration provides.
pub const FUNCTIONS: [&str; 2] = ["upgrade", "downgrade"];

/// The `downgrade_sql` history keeps for the data migration in `path`.
pub fn stored_downgrade(path: &str) -> String {
    format!("{STORED_DOWNGRADE_PREFIX} {path}: its downgrade is Rust compiled into the release that applied it\n")
}

/// The module name a description makes (`"fill plan limits"` → `fill_plan_limits`), or `None`
/// when it would not be a Rust identifier (a leading digit, a keyword, punctuation).
pub fn module_name(description: &str) -> Option<String> {
    let name = description.split_whitespace().collect::<Vec<_>>().join("_").replace('-', "_").to_lowercase();
    syn::parse_str::<syn::Ident>(&name).ok().map(|_| name)
}

/// A mistake in a `#[data_migration]` item, with the span the compile error points at.
#[derive(Debug)]
pub struct ItemError {
    pub span: Span,
    pub problem: ItemProblem,
}

impl ItemError {
    fn new(span: Span, problem: ItemProblem) -> Self {
        ItemError { span, problem }
    }

    pub fn to_syn(&self) -> syn::Error {
        syn::Error::new(self.span, &self.problem)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ItemProblem {
    #[error(
        "`#[{ATTRIBUTE}]` goes on a module holding `async fn upgrade` and `async fn downgrade`, \
         e.g. `#[{ATTRIBUTE}(version = 8)] mod backfill {{ … }}`"
    )]
    NotAModule,
    #[error("data migration `{module}`: write its functions inside the module's braces, `mod {module} {{ … }}`")]
    OutOfLine { module: String },
    #[error(
        "data migration `{module}` has no `{function}`; add `pub async fn {function}(db: &mut PgConnection) -> \
         Result<(), DataError>` {}",
        purpose(.function)
    )]
    MissingFunction { module: String, function: &'static str },
    #[error("data migration `{module}`: `{function}` must be an `async fn`; write `pub async fn {function}(…)`")]
    NotAsync { module: String, function: &'static str },
    #[error(
        "data migration `{module}`: `{function}` takes one parameter, the connection of the migration's \
         transaction: `db: &mut PgConnection`"
    )]
    Parameters { module: String, function: &'static str },
    #[error("data migration `{module}`: `{function}` cannot be generic; it is called with `&mut PgConnection`")]
    Generic { module: String, function: &'static str },
    #[error("`#[{ATTRIBUTE}]` needs its version: `#[{ATTRIBUTE}(version = 8)]`")]
    MissingVersion,
    #[error("`{name}` is not an argument of `#[{ATTRIBUTE}]`, which takes only `version = <number>`{hint}")]
    UnknownArgument { name: String, hint: DidYouMean },
    #[error("the version is a whole number from 1 to {}, written without quotes: `version = 8`", u64::MAX)]
    BadVersion,
    #[error("`#[{ATTRIBUTE}]`: {reason}; write `#[{ATTRIBUTE}(version = 8)]`")]
    Syntax { reason: String },
}

fn purpose(function: &str) -> &'static str {
    if function == "downgrade" {
        "that undoes `upgrade`: every migration must be reversible"
    } else {
        "that makes the change"
    }
}

/// The version in the attribute's arguments, `version = 8`.
pub fn parse_arguments(arguments: TokenStream) -> Result<u64, ItemError> {
    let whole = arguments.span();
    let mut version = None;
    let mut failure = None;
    let parser = syn::meta::parser(|meta| {
        if meta.path.is_ident("version") {
            let literal: syn::LitInt = meta.value()?.parse()?;
            match literal.base10_parse::<u64>() {
                Ok(number) if number > 0 => version = Some(number),
                _ => failure = Some(ItemError::new(literal.span(), ItemProblem::BadVersion)),
            }
            Ok(())
        } else {
            let name = meta.path.get_ident().map(ToString::to_string).unwrap_or_else(|| "?".to_owned());
            let hint = DidYouMean::find(&name, ["version"]);
            failure = Some(ItemError::new(meta.path.span(), ItemProblem::UnknownArgument { name, hint }));
            // Skip its value, so the parser reads on to the end instead of failing on `=`.
            if meta.input.peek(syn::Token![=]) {
                meta.value()?.parse::<syn::Expr>()?;
            }
            Ok(())
        }
    });
    if let Err(error) = parser.parse2(arguments) {
        let problem = if error.to_string().contains("expected integer literal") {
            ItemProblem::BadVersion
        } else {
            ItemProblem::Syntax { reason: error.to_string() }
        };
        return Err(ItemError::new(error.span(), problem));
    }
    if let Some(failure) = failure {
        return Err(failure);
    }
    version.ok_or_else(|| ItemError::new(whole, ItemProblem::MissingVersion))
}

/// Checks the item's shape and returns the module's name, its description in the plan.
pub fn check_item(item: &syn::Item) -> Result<String, Vec<ItemError>> {
    let syn::Item::Mod(module) = item else {
        return Err(vec![ItemError::new(item_span(item), ItemProblem::NotAModule)]);
    };
    let name = module.ident.to_string();
    let Some((_, items)) = &module.content else {
        return Err(vec![ItemError::new(module.ident.span(), ItemProblem::OutOfLine { module: name })]);
    };
    let mut errors = Vec::new();
    for function in FUNCTIONS {
        let found = items.iter().find_map(|item| match item {
            syn::Item::Fn(candidate) if candidate.sig.ident == function => Some(candidate),
            _ => None,
        });
        match found {
            None => errors.push(ItemError::new(
                module.ident.span(),
                ItemProblem::MissingFunction { module: name.clone(), function },
            )),
            Some(candidate) => errors.extend(check_signature(&name, function, &candidate.sig)),
        }
    }
    if errors.is_empty() {
        Ok(name)
    } else {
        Err(errors)
    }
}

/// The generated wrapper calls `function(connection)` and boxes the future; anything else in
/// the signature would make that call fail with an error in code the user never wrote.
fn check_signature(module: &str, function: &'static str, signature: &syn::Signature) -> Option<ItemError> {
    let module = module.to_owned();
    if signature.asyncness.is_none() {
        return Some(ItemError::new(signature.fn_token.span, ItemProblem::NotAsync { module, function }));
    }
    if !signature.generics.params.is_empty() {
        return Some(ItemError::new(signature.generics.span(), ItemProblem::Generic { module, function }));
    }
    let typed = signature.inputs.iter().all(|input| matches!(input, syn::FnArg::Typed(_)));
    if signature.inputs.len() != 1 || !typed {
        return Some(ItemError::new(signature.ident.span(), ItemProblem::Parameters { module, function }));
    }
    None
}

fn item_span(item: &syn::Item) -> Span {
    match item {
        syn::Item::Fn(function) => function.sig.ident.span(),
        syn::Item::Struct(structure) => structure.ident.span(),
        syn::Item::Enum(enumeration) => enumeration.ident.span(),
        syn::Item::Impl(implementation) => implementation.impl_token.span,
        other => other.span(),
    }
}

/// Whether `attribute` is `#[data_migration(…)]`, with or without a path before the name.
pub fn is_data_migration(attribute: &syn::Attribute) -> bool {
    attribute.path().segments.last().is_some_and(|segment| segment.ident == ATTRIBUTE)
}

/// A problem `plan!()` finds in the files of `migrations/postgres/data`.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error(
        "{at}: `migrations/postgres/data` holds Rust data migrations only; name it `*.rs`, or put SQL into \
         `migrations/postgres/upgrade` and `downgrade`"
    )]
    NotRust { at: Location },
    #[error(
        "{at}: holds no `#[{ATTRIBUTE}(version = N)] mod … {{ … }}` at its top level; add one, or move the file \
         out of `migrations/postgres/data`"
    )]
    NoMigration { at: Location },
    #[error("{at}: a second `#[{ATTRIBUTE}]` module in one file; give each data migration a file of its own")]
    SeveralMigrations { at: Location },
}

/// One data migration file as `plan!()` needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataFile {
    /// Relative to the sources root, `/`-separated.
    pub path: String,
    /// Normalised text; its hash is the migration's checksum.
    pub text: String,
    /// `None` when the file does not parse or its item has a mistake: rustc or the attribute
    /// reports those once the file is included, so the plan leaves the migration out.
    pub declaration: Option<Declaration>,
}

/// What a well-formed `#[data_migration]` module declares.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Declaration {
    pub version: u64,
    /// The module's name.
    pub description: String,
    /// Where the attribute is, for messages about the version.
    pub at: Location,
}

/// Reads every file of `migrations/postgres/data`, pushing one [`DataError`] per problem that only
/// the whole file shows.
pub fn check(inputs: &Inputs, problems: &mut Problems) -> Vec<DataFile> {
    let mut files = Vec::new();
    for path in &inputs.data_files {
        if !path.ends_with(".rs") {
            problems.push(DataError::NotRust { at: Location::file(path.as_str()) });
            continue;
        }
        let text = match source::read(&inputs.root, path) {
            Ok(text) => text,
            Err(error) => {
                problems.push(error);
                continue;
            }
        };
        let declaration = declaration(path, &text, problems);
        files.push(DataFile { path: path.clone(), text, declaration });
    }
    files
}

fn declaration(path: &str, text: &str, problems: &mut Problems) -> Option<Declaration> {
    // A syntax error is rustc's to report, with its own position, when the file is included.
    let file = syn::parse_file(text).ok()?;
    let marked: Vec<(&syn::Item, &syn::Attribute)> = file
        .items
        .iter()
        .filter_map(|item| item_attributes(item).iter().find(|a| is_data_migration(a)).map(|a| (item, a)))
        .collect();
    let offsets: Vec<usize> = text.match_indices(ATTRIBUTE).map(|(offset, _)| offset).collect();
    let location = |index: usize| {
        let offset = offsets.get(index).copied().unwrap_or(0);
        let (line, column) = source::line_column(text, offset);
        Location::at(path, line, column)
    };
    let Some(&(item, attribute)) = marked.first() else {
        problems.push(DataError::NoMigration { at: Location::file(path) });
        return None;
    };
    if marked.len() > 1 {
        problems.push(DataError::SeveralMigrations { at: location(1) });
        return None;
    }
    let arguments = match &attribute.meta {
        syn::Meta::List(list) => list.tokens.clone(),
        _ => TokenStream::new(),
    };
    let version = parse_arguments(arguments).ok()?;
    let description = check_item(item).ok()?;
    Some(Declaration { version, description, at: location(0) })
}

fn item_attributes(item: &syn::Item) -> &[syn::Attribute] {
    match item {
        syn::Item::Mod(module) => &module.attrs,
        syn::Item::Fn(function) => &function.attrs,
        syn::Item::Struct(structure) => &structure.attrs,
        syn::Item::Impl(implementation) => &implementation.attrs,
        syn::Item::Enum(enumeration) => &enumeration.attrs,
        _ => &[],
    }
}

#[cfg(test)]
mod tests {
    use quote::quote;

    use super::*;

    fn item(tokens: TokenStream) -> syn::Item {
        syn::parse2(tokens).expect("test item parses")
    }

    fn messages(result: Result<String, Vec<ItemError>>) -> Vec<String> {
        result.expect_err("the item has mistakes").iter().map(|error| error.problem.to_string()).collect()
    }

    #[test]
    fn a_module_with_both_async_functions_is_a_data_migration() {
        let module = item(quote! {
            mod backfill {
                pub async fn upgrade(db: &mut PgConnection) -> Result<(), DataError> { Ok(()) }
                pub async fn downgrade(db: &mut PgConnection) -> Result<(), DataError> { Ok(()) }
            }
        });
        assert_eq!(check_item(&module).expect("valid"), "backfill");
    }

    #[test]
    fn a_missing_downgrade_is_named_with_the_fix() {
        let module = item(quote! {
            mod backfill {
                pub async fn upgrade(db: &mut PgConnection) -> Result<(), DataError> { Ok(()) }
            }
        });
        let messages = messages(check_item(&module));
        assert_eq!(messages.len(), 1);
        assert!(messages[0].starts_with("data migration `backfill` has no `downgrade`"), "{}", messages[0]);
        assert!(messages[0].contains("every migration must be reversible"), "{}", messages[0]);
    }

    #[test]
    fn signatures_the_wrapper_cannot_call_are_refused() {
        let module = item(quote! {
            mod backfill {
                pub fn upgrade(db: &mut PgConnection) -> Result<(), DataError> { Ok(()) }
                pub async fn downgrade(db: &mut PgConnection, extra: u8) -> Result<(), DataError> { Ok(()) }
            }
        });
        let messages = messages(check_item(&module));
        assert!(messages[0].contains("`upgrade` must be an `async fn`"), "{}", messages[0]);
        assert!(messages[1].contains("`downgrade` takes one parameter"), "{}", messages[1]);
    }

    #[test]
    fn the_attribute_goes_on_an_inline_module() {
        let function = item(quote! { async fn upgrade() {} });
        assert!(messages(check_item(&function))[0].contains("goes on a module"));
        let out_of_line = item(quote! { mod backfill; });
        assert!(messages(check_item(&out_of_line))[0].contains("inside the module's braces"));
    }

    #[test]
    fn module_names_are_rust_identifiers() {
        assert_eq!(module_name(" Fill plan-limits ").as_deref(), Some("fill_plan_limits"));
        assert_eq!(module_name("8 limits"), None);
        assert_eq!(module_name("type"), None);
        assert_eq!(module_name("limits!"), None);
    }

    #[test]
    fn arguments_take_a_positive_version_only() {
        assert_eq!(parse_arguments(quote! { version = 8 }).expect("valid"), 8);
        let problem = |tokens: TokenStream| parse_arguments(tokens).expect_err("invalid").problem.to_string();
        assert!(problem(quote! {}).contains("needs its version"));
        assert!(problem(quote! { version = 0 }).contains("whole number from 1"));
        assert!(problem(quote! { version = "8" }).contains("whole number from 1"));
        assert!(problem(quote! { verison = 8 }).contains("did you mean `version`"));
    }

    fn inputs(files: &[(&str, &str)]) -> (tempfile::TempDir, Inputs) {
        let root = tempfile::tempdir().expect("temp dir");
        let mut inputs = Inputs { root: root.path().to_path_buf(), ..Inputs::default() };
        for (path, text) in files {
            let absolute = root.path().join(path);
            std::fs::create_dir_all(absolute.parent().expect("parent")).expect("create folder");
            std::fs::write(absolute, text).expect("write");
            inputs.data_files.push((*path).to_owned());
        }
        (root, inputs)
    }

    const VALID: &str = "use x::y;\n\n#[tradeforge_migrator::data_migration(version = 8)]\nmod backfill {\n    \
                         pub async fn upgrade(db: &mut C) -> R { Ok(()) }\n    \
                         pub async fn downgrade(db: &mut C) -> R { Ok(()) }\n}\n";

    #[test]
    fn check_reads_the_version_and_where_the_attribute_is() {
        let (_root, inputs) = inputs(&[("migrations/postgres/data/backfill.rs", VALID)]);
        let mut problems = Problems::default();
        let files = check(&inputs, &mut problems);
        assert!(problems.is_empty(), "{problems}");
        let declaration = files[0].declaration.clone().expect("declared");
        assert_eq!((declaration.version, declaration.description.as_str()), (8, "backfill"));
        assert_eq!(declaration.at.to_string(), "migrations/postgres/data/backfill.rs:3:24");
    }

    #[test]
    fn check_reports_files_without_exactly_one_migration() {
        let twice = format!("{VALID}\n#[data_migration(version = 9)]\nmod other {{}}\n");
        let (_root, inputs) = inputs(&[
            ("migrations/postgres/data/empty.rs", "fn helper() {}\n"),
            ("migrations/postgres/data/notes.txt", "x"),
            ("migrations/postgres/data/twice.rs", &twice),
        ]);
        let mut problems = Problems::default();
        check(&inputs, &mut problems);
        let messages: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert_eq!(messages.len(), 3, "{messages:?}");
        assert!(messages[0].starts_with("migrations/postgres/data/empty.rs: holds no"), "{}", messages[0]);
        assert!(messages[1].starts_with("migrations/postgres/data/notes.txt: "), "{}", messages[1]);
        assert!(messages[2].starts_with("migrations/postgres/data/twice.rs:9:3: a second"), "{}", messages[2]);
    }

    #[test]
    fn item_mistakes_are_left_to_the_attribute() {
        let missing = "#[data_migration(version = 8)]\nmod m {\n    pub async fn upgrade(db: &mut C) {}\n}\n";
        let broken = "#[data_migration(version = 8)]\nmod m {\n";
        let (_root, inputs) =
            inputs(&[("migrations/postgres/data/a.rs", missing), ("migrations/postgres/data/b.rs", broken)]);
        let mut problems = Problems::default();
        let files = check(&inputs, &mut problems);
        assert!(problems.is_empty(), "{problems}");
        assert!(files.iter().all(|file| file.declaration.is_none()));
    }
}
