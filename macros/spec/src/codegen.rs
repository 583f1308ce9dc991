//! Turns a checked [`Plan`] into Rust tokens: a `static PLAN` of `tradeforge_migrator::plan`
//! types (the indicator catalogue inside it as one encoded string, see
//! [`compiled`](crate::indicators::compiled)), and a constant per topic and per indicator for
//! application code. On problems it
//! expands to one `compile_error!` per problem plus the same items, empty, so that one mistake
//! gives one error rather than a cascade. [`expand_data_migration`] is the `#[data_migration]`
//! attribute's expansion.

use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;

use crate::diag::Problems;
use crate::indicators::compiled::{self, CompiledIndicator};
use crate::model::{Migration, Plan, Reversal, Script, Topic};
use crate::{data, indicators, topics};

/// The module `plan!()` includes the data migration files into, one `v<version>` module each.
const DATA_MODULE: &str = "__tradeforge_data_migrations";

/// What a macro expands the checked sources to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expansion {
    /// `plan!()`: the `static PLAN` the runtime applies, plus the names.
    Plan,
    /// `names!()`: only the `topics` and `indicators` constant modules, for application code that
    /// must not link the runtime (sqlx, rdkafka, the ClickHouse client).
    Names,
}

/// The items the plan expands to.
pub fn expand(plan: &Plan, expansion: Expansion) -> TokenStream {
    let names = names(plan);
    if expansion == Expansion::Names {
        return names;
    }
    let fingerprint = &plan.fingerprint;
    let postgres = plan.postgres.iter().map(migration);
    let clickhouse = plan.clickhouse.iter().map(migration);
    let mongodb = crate::mongodb::codegen::migrations(&plan.mongodb);
    let topic_items = plan.topics.iter().map(topic);
    let catalogue: Vec<_> = plan.indicators.iter().map(CompiledIndicator::new).collect();
    let catalogue = compiled::encode(&catalogue);
    let data_module = Ident::new(DATA_MODULE, Span::call_site());
    let data_files = plan.postgres.iter().filter_map(|migration| {
        let file = &migration.data.as_ref()?.file;
        let module = data_module_name(migration.version);
        Some(quote! { #[path = #file] pub mod #module; })
    });
    let rejected_files = plan.rejected_data_files.iter().enumerate().map(|(index, file)| {
        let module = Ident::new(&format!("rejected_{index}"), Span::call_site());
        quote! { #[path = #file] mod #module; }
    });
    quote! {
        /// The plan compiled from the sources: what `migrate` applies, in this order.
        pub static PLAN: ::tradeforge_migrator::plan::Plan = ::tradeforge_migrator::plan::Plan {
            fingerprint: #fingerprint,
            postgres: &[#(#postgres),*],
            clickhouse: &[#(#clickhouse),*],
            mongodb: #mongodb,
            topics: &[#(#topic_items),*],
            indicators: ::tradeforge_migrator::plan::Catalogue::new(#catalogue),
        };
        /// The PostgreSQL data migrations, each file included as a module.
        #[doc(hidden)]
        pub mod #data_module {
            #(#data_files)*
            #(#rejected_files)*
        }
        #names
    }
}

/// The `topics` and `indicators` constant modules.
fn names(plan: &Plan) -> TokenStream {
    let topic_constants = plan.topics.iter().filter(|topic| !topic.deleted).map(|topic| {
        let constant = Ident::new(&topics::constant_name(&topic.name), Span::call_site());
        let name = &topic.name;
        let doc = format!("The topic `{name}`.");
        quote! { #[doc = #doc] pub const #constant: &str = #name; }
    });
    let indicator_constants = plan.indicators.iter().map(|indicator| {
        let constant = Ident::new(&indicators::constant_name(&indicator.name), Span::call_site());
        let name = &indicator.name;
        let doc = format!("The indicator `{name}` ({}).", indicator.display_name);
        quote! { #[doc = #doc] pub const #constant: &str = #name; }
    });
    quote! {
        /// A constant per declared topic (tombstones excluded), named after the topic.
        pub mod topics {
            #(#topic_constants)*
        }
        /// A constant per indicator of the catalogue, named after the indicator.
        pub mod indicators {
            #(#indicator_constants)*
        }
    }
}

/// One `compile_error!` per problem, followed by the plan's items, empty.
pub fn expand_errors(problems: &Problems, expansion: Expansion) -> TokenStream {
    let errors = problems.iter().map(|problem| {
        let message = problem.to_string();
        quote! { ::core::compile_error!(#message); }
    });
    let items = expand(&Plan::default(), expansion);
    quote! { #(#errors)* #items }
}

fn migration(migration: &Migration) -> TokenStream {
    let Migration { version, description, upgrade, downgrade, checksum, data, reversal } = migration;
    let upgrade = script(upgrade);
    let downgrade = script(downgrade);
    let reversal = self::reversal(reversal);
    let data = match data {
        Some(_) => {
            let data_module = Ident::new(DATA_MODULE, Span::call_site());
            let module = data_module_name(*version);
            let item = Ident::new(data::STATIC_NAME, Span::call_site());
            quote! { ::core::option::Option::Some(&self::#data_module::#module::#item) }
        }
        None => quote! { ::core::option::Option::None },
    };
    quote! {
        ::tradeforge_migrator::plan::Migration {
            version: #version,
            description: #description,
            checksum: #checksum,
            upgrade: #upgrade,
            downgrade: #downgrade,
            data: #data,
            reversal: #reversal,
        }
    }
}

/// How a migration is undone, as a `plan::Reversal` (shared with `mongodb::codegen`).
pub(crate) fn reversal(reversal: &Reversal) -> TokenStream {
    match reversal {
        Reversal::Script => quote! { ::tradeforge_migrator::plan::Reversal::Script },
        Reversal::NoOp { reason } => quote! { ::tradeforge_migrator::plan::Reversal::NoOp { reason: #reason } },
        Reversal::Irreversible { reason } => {
            quote! { ::tradeforge_migrator::plan::Reversal::Irreversible { reason: #reason } }
        }
    }
}

fn data_module_name(version: u64) -> Ident {
    Ident::new(&format!("v{version}"), Span::call_site())
}

/// What `#[data_migration]` turns a checked module into: the module with two wrappers that box
/// its functions' futures, and beside it the static `plan!()` refers to. The wrappers are
/// `pub(super)` so the static can name them whatever the visibility of the user's functions.
pub fn expand_data_migration(mut module: syn::ItemMod) -> TokenStream {
    let name = module.ident.clone();
    let static_name = Ident::new(data::STATIC_NAME, Span::call_site());
    let [upgrade, downgrade] = data::FUNCTIONS.map(|function| Ident::new(function, Span::call_site()));
    let [upgrade_wrapper, downgrade_wrapper] =
        data::FUNCTIONS.map(|function| Ident::new(&format!("__tradeforge_{function}"), Span::call_site()));
    let wrappers: [syn::Item; 2] =
        [(&upgrade_wrapper, &upgrade), (&downgrade_wrapper, &downgrade)].map(|(wrapper, function)| {
            syn::parse_quote! {
                #[doc(hidden)]
                pub(super) fn #wrapper(
                    connection: &mut ::tradeforge_migrator::plan::PgConnection,
                ) -> ::tradeforge_migrator::plan::DataFuture<'_> {
                    ::std::boxed::Box::pin(async move {
                        #function(connection).await.map_err(::core::convert::Into::into)
                    })
                }
            }
        });
    if let Some((_, items)) = &mut module.content {
        items.extend(wrappers);
    }
    quote! {
        #module
        /// The data migration `#name`, as the plan runs it.
        #[doc(hidden)]
        pub static #static_name: ::tradeforge_migrator::plan::DataMigration =
            ::tradeforge_migrator::plan::DataMigration {
                upgrade: #name::#upgrade_wrapper,
                downgrade: #name::#downgrade_wrapper,
            };
    }
}

/// A script embeds its text once: each statement is cut out of that text while the binary is
/// compiled (`plan::Script::slice`), so a 50 MB file adds 50 MB to the binary, not 100, and
/// rustc holds one copy of it. The offsets end at the statement's last byte, as split.
fn script(script: &Script) -> TokenStream {
    let Script { path, sql, statements, statement_offsets, transactional } = script;
    let statements = statements.iter().zip(statement_offsets).map(|(statement, &start)| {
        let end = start + statement.len();
        quote! { ::tradeforge_migrator::plan::Script::slice(SQL, #start, #end) }
    });
    quote! {
        {
            const SQL: &str = #sql;
            ::tradeforge_migrator::plan::Script {
                path: #path,
                sql: SQL,
                statements: {
                    const STATEMENTS: &[&str] = &[#(#statements),*];
                    STATEMENTS
                },
                transactional: #transactional,
            }
        }
    }
}

fn topic(topic: &Topic) -> TokenStream {
    let Topic { name, partitions, replication_factor, config, deleted } = topic;
    let config = config.iter().map(|(key, value)| quote! { (#key, #value) });
    quote! {
        ::tradeforge_migrator::plan::Topic {
            name: #name,
            partitions: #partitions,
            replication_factor: #replication_factor,
            config: &[#(#config),*],
            deleted: #deleted,
        }
    }
}
