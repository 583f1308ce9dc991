//! `migrator`: parse the arguments, read the environment, set up logging, run the command, and on
//! failure print one `error: …` line and choose the exit code (see `cli::exit_code`).

use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use tradeforge_migrator::cli::{exit_code, Cli, Command, MigrateArgs, StatusArgs};
use tradeforge_migrator::config::{Config, ConfigError, Environment, MigrateSwitch};
use tradeforge_migrator::logging::{self, FilterSetting, LoggingError};
use tradeforge_migrator::run::{self, Request, RunError};
use tradeforge_migrator::target::ApplyOptions;
use tradeforge_migrator::PLAN;

fn main() -> ExitCode {
    // clap prints its own usage errors and exits with 2, as `exit_code::USAGE` documents.
    let cli = Cli::parse();
    match execute(cli) {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            eprintln!("error: {}", run::error_chain(error.as_ref()));
            ExitCode::from(exit_code_of(&error))
        }
    }
}

/// Runs the command; `Ok` carries the exit code of a command that ran to its end.
fn execute(cli: Cli) -> anyhow::Result<u8> {
    // The env file comes first: it may set `RUST_LOG` as well as the connection variables.
    let environment = Environment::capture(cli.env_file.as_deref())?;
    let filter = FilterSetting::choose(cli.log_level.as_deref(), environment.get("RUST_LOG")?);
    logging::init(cli.log_format, &filter)?;
    match &cli.command {
        Command::Plan => {
            print!("{}", PLAN.render());
            Ok(exit_code::SUCCESS)
        }
        Command::Migrate(args) => migrate(&environment, args),
        Command::Status(args) => status(&environment, args),
    }
}

fn migrate(environment: &Environment, args: &MigrateArgs) -> anyhow::Result<u8> {
    if let MigrateSwitch::Disabled(value) = MigrateSwitch::from_environment(environment)? {
        tracing::info!(
            event = "migrator.disabled",
            migrate = value.as_str(),
            "migrations are disabled (MIGRATE=`{value}`); set MIGRATE=enabled or unset it to run them"
        );
        println!("migrate: skipped, migrations are disabled (MIGRATE=`{value}`)");
        return Ok(exit_code::SUCCESS);
    }
    // Every setting is checked before the runtime exists, so a typo never reaches a server.
    let config = Config::load(environment, &args.connection.overrides())?;
    let request = Request {
        plan: &PLAN,
        config: &config,
        targets: args.selected_targets(),
        options: ApplyOptions { allow_delete: args.allow_delete },
    };
    runtime()?.block_on(run::migrate(&request, &mut std::io::stdout()))?;
    Ok(exit_code::SUCCESS)
}

fn status(environment: &Environment, args: &StatusArgs) -> anyhow::Result<u8> {
    let config = Config::load(environment, &args.connection.overrides())?;
    let request =
        Request { plan: &PLAN, config: &config, targets: args.selected_targets(), options: ApplyOptions::default() };
    let at_plan = runtime()?.block_on(run::status(&request, &mut std::io::stdout()))?;
    Ok(if at_plan { exit_code::SUCCESS } else { exit_code::NOT_AT_PLAN })
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().context("cannot start the async runtime")
}

fn exit_code_of(error: &anyhow::Error) -> u8 {
    if let Some(run_error) = error.downcast_ref::<RunError>() {
        return run_error.exit_code();
    }
    if error.is::<ConfigError>() || error.is::<LoggingError>() {
        return exit_code::USAGE;
    }
    exit_code::FAILED
}
