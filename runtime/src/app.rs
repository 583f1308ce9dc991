//! `migrator`'s command line: parse the arguments, read the environment, set up logging, run the
//! command against the plan compiled into the binary (`src/main.rs` passes it), and on failure print
//! one `error: …` line and choose the exit code (see `cli::exit_code`).

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use crate::backup::Settings;
use crate::cli::{
    exit_code, sql_targets, BaselineArgs, Cli, Command, DownArgs, ImportArgs, MigrateArgs, NewArgs, OutputFormat,
    PlanArgs, RedoArgs, RepairArgs, StatusArgs, UpArgs, VerifyDowngradesArgs,
};
use crate::commands::backup as backup_command;
use crate::commands::confirm::Confirmation;
use crate::commands::status::{self as status_output, Verdict};
use crate::commands::versions::{self, Session};
use crate::commands::{dry_run, import, new, plan_sql, sources, verify, CommandError};
use crate::config::{Config, ConfigError, Environment, MigrateSwitch};
use crate::logging::{self, FilterSetting, LoggingError};
use crate::plan::Plan;
use crate::run::{self, Request, RunError};
use crate::targets::ApplyOptions;
use anyhow::Context;
use clap::Parser;

/// The `migrator` binary: runs the command line against `plan`, the plan compiled into the binary.
pub fn main(plan: &'static Plan) -> ExitCode {
    // clap prints its own usage errors and exits with 2, as `exit_code::USAGE` documents.
    let cli = Cli::parse();
    // SIGINT and SIGTERM stop a command that changes servers at a safe point (exit 130/143).
    crate::targets::checkpoint::handle_signals();
    match execute(plan, cli) {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            eprintln!("error: {}", run::error_chain(error.as_ref()));
            ExitCode::from(exit_code_of(&error))
        }
    }
}

/// Runs the command; `Ok` carries the exit code of a command that ran to its end.
fn execute(plan: &'static Plan, cli: Cli) -> anyhow::Result<u8> {
    // The env file comes first: it may set `RUST_LOG` as well as the connection variables.
    let environment = Environment::capture(cli.env_file.as_deref())?;
    let filter = FilterSetting::choose(cli.log_level.as_deref(), environment.get("RUST_LOG")?);
    logging::init(cli.log_format, &filter)?;
    let mut stdout = std::io::stdout();
    match &cli.command {
        Command::Plan(args) => match &args.check_sources {
            Some(root) => {
                let fingerprint = sources::check(plan, root).map_err(CommandError::from)?;
                println!("the plan ({fingerprint}) was compiled from the sources in `{}`", root.display());
                Ok(exit_code::SUCCESS)
            }
            None => print_plan(plan, &environment, args),
        },
        Command::New(args) => new_migration(args),
        Command::Migrate(args) => migrate(plan, &environment, args),
        Command::Status(args) => status(plan, &environment, args, Verdict::Status),
        Command::Check(args) => status(plan, &environment, args, Verdict::Check),
        Command::History(args) => {
            let config = Config::load(&environment, &args.connection.overrides())?;
            let session = Session { plan, config: &config };
            // `-v` names the backup before each run; a backup folder that cannot be read only
            // leaves that out.
            let backups = match (args.verbose, Settings::load(&environment, args.backup.backup_dir.as_deref(), None)) {
                (true, Ok(settings)) => crate::backup::folder::list(&settings.dir).unwrap_or_default(),
                _ => Vec::new(),
            };
            let targets = sql_targets(args.target);
            runtime()?.block_on(versions::history_with_backups(
                session,
                &targets,
                args.verbose,
                &backups,
                &mut stdout,
            ))?;
            Ok(exit_code::SUCCESS)
        }
        Command::Up(args) => up(plan, &environment, args),
        Command::Down(args) => down(plan, &environment, args),
        Command::Redo(args) => redo(plan, &environment, args),
        Command::Baseline(args) => baseline(plan, &environment, args),
        Command::Repair(args) => repair(plan, &environment, args),
        Command::VerifyDowngrades(args) => verify_downgrades(plan, &environment, args),
        Command::Import(args) => import(args),
        Command::Backup(args) => {
            let config = Config::load(&environment, &args.connection.overrides_with_lock(&args.lock))?;
            let settings = Settings::load(&environment, args.dir.backup_dir.as_deref(), args.backup_keep.as_deref())
                .map_err(CommandError::from)?;
            let targets = crate::cli::in_run_order(&args.targets);
            runtime()?.block_on(backup_command::backup(plan, &config, &settings, &targets, &mut stdout))?;
            Ok(exit_code::SUCCESS)
        }
        Command::Backups(args) => {
            let settings =
                Settings::load(&environment, args.dir.backup_dir.as_deref(), None).map_err(CommandError::from)?;
            backup_command::list(&settings, &mut stdout).map_err(CommandError::from)?;
            Ok(exit_code::SUCCESS)
        }
        Command::Restore(args) => {
            let config = Config::load(&environment, &args.connection.overrides_with_lock(&args.lock))?;
            let settings =
                Settings::load(&environment, args.dir.backup_dir.as_deref(), None).map_err(CommandError::from)?;
            runtime()?.block_on(backup_command::restore(
                plan,
                &config,
                &settings,
                &args.backup,
                args.yes,
                &mut stdout,
            ))?;
            Ok(exit_code::SUCCESS)
        }
    }
}

fn import(args: &ImportArgs) -> anyhow::Result<u8> {
    let imported = import::import(args.tool, &args.dir, args.target, &args.into).map_err(CommandError::from)?;
    let mut stdout = std::io::stdout().lock();
    for path in &imported.written {
        let _ = writeln!(stdout, "created {}", path.display());
    }
    if imported.needs_a_person.is_empty() {
        let _ = writeln!(stdout, "nothing needs a person: build to check the plan");
    } else {
        let _ = writeln!(stdout, "needs a person:");
        for line in &imported.needs_a_person {
            let _ = writeln!(stdout, "  {line}");
        }
    }
    Ok(exit_code::SUCCESS)
}

fn print_plan(plan: &Plan, environment: &Environment, args: &PlanArgs) -> anyhow::Result<u8> {
    if args.sql {
        // The ClickHouse statements as they run on this cluster, or on a single server.
        let cluster = match &args.clickhouse_cluster {
            Some(name) => Some(name.clone()),
            None => environment.get("CLICKHOUSE_CLUSTER")?.map(str::to_owned),
        };
        print!("{}", plan_sql::render(plan, &args.selected_targets(), cluster.as_deref()));
    } else {
        print!("{}", plan.render());
    }
    Ok(exit_code::SUCCESS)
}

fn new_migration(args: &NewArgs) -> anyhow::Result<u8> {
    let root = args.dir.as_deref().unwrap_or(Path::new("."));
    if args.data {
        let (version, path) = new::create_data(root, args.target, &args.description).map_err(CommandError::from)?;
        let mut stdout = std::io::stdout().lock();
        let _ = writeln!(stdout, "created {} (V{version})", path.display());
        let _ = writeln!(stdout, "write its upgrade and downgrade; until then it refuses to run and the build warns");
        return Ok(exit_code::SUCCESS);
    }
    let created = new::create(root, args.target, &args.description).map_err(CommandError::from)?;
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "created {}", created.upgrade.display());
    let _ = writeln!(stdout, "created {}", created.downgrade.display());
    let _ = writeln!(
        stdout,
        "write the SQL of both files in place of their placeholder `SELECT 'written by migrator new: …'`: \
         the build accepts the placeholder (it runs and changes nothing) and warns on every build until both \
         files are written"
    );
    Ok(exit_code::SUCCESS)
}

fn migrate(plan: &'static Plan, environment: &Environment, args: &MigrateArgs) -> anyhow::Result<u8> {
    // A dry run changes nothing, so `MIGRATE` (which switches changes off) does not stop it.
    let switch = MigrateSwitch::from_environment(environment)?;
    if let (MigrateSwitch::Disabled(value), false) = (switch, args.dry_run) {
        tracing::info!(
            event = "migrator.disabled",
            migrate = value.as_str(),
            "migrations are disabled (MIGRATE=`{value}`); set MIGRATE=enabled or unset it to run them"
        );
        println!("migrate: skipped, migrations are disabled (MIGRATE=`{value}`)");
        return Ok(exit_code::SUCCESS);
    }
    // Every setting is checked before the runtime exists, so a typo never reaches a server.
    let config = Config::load(environment, &args.connection.overrides_with_lock(&args.lock))?;
    let backup = backup_command::migrate_settings(environment, &args.backup).map_err(CommandError::from)?;
    let request = Request {
        plan,
        config: &config,
        targets: args.selected_targets(),
        options: ApplyOptions { allow_delete: args.allow_delete },
    };
    let mut stdout = std::io::stdout();
    if args.dry_run {
        runtime()?.block_on(dry_run::dry_run(&request, &mut stdout))?;
        return Ok(exit_code::SUCCESS);
    }
    runtime()?.block_on(run::migrate_with_backup(&request, backup.as_ref(), &mut stdout))?;
    Ok(exit_code::SUCCESS)
}

fn status(plan: &'static Plan, environment: &Environment, args: &StatusArgs, verdict: Verdict) -> anyhow::Result<u8> {
    let config = Config::load(environment, &args.connection.overrides())?;
    let request = Request { plan, config: &config, targets: args.selected_targets(), options: ApplyOptions::default() };
    let report = runtime()?.block_on(run::status(&request))?;
    let mut stdout = std::io::stdout();
    match args.format {
        OutputFormat::Text => status_output::write_text(&mut stdout, &report, verdict),
        OutputFormat::Json => status_output::write_json(&mut stdout, &report),
    }
    Ok(if report.is_at_plan() { exit_code::SUCCESS } else { exit_code::NOT_AT_PLAN })
}

fn up(plan: &'static Plan, environment: &Environment, args: &UpArgs) -> anyhow::Result<u8> {
    let config = Config::load(environment, &args.connection.overrides_with_lock(&args.lock))?;
    let session = Session { plan, config: &config };
    let to = args.to.unwrap_or(crate::cli::UpgradeTarget::Head);
    runtime()?.block_on(versions::up(session, args.target, to, &mut std::io::stdout()))?;
    Ok(exit_code::SUCCESS)
}

/// What `down` and `redo` do, in their confirmation error.
const UNDOES: &str = "undoes migrations";

fn down(plan: &'static Plan, environment: &Environment, args: &DownArgs) -> anyhow::Result<u8> {
    // Before anything connects: a script without `--yes` fails at once rather than after `--wait`.
    let confirmation = Confirmation::for_command("down", UNDOES, args.yes).map_err(CommandError::from)?;
    let config = Config::load(environment, &args.connection.overrides_with_lock(&args.lock))?;
    let session = Session { plan, config: &config };
    runtime()?.block_on(versions::down(session, args.target, args.to, confirmation, &mut std::io::stdout()))?;
    Ok(exit_code::SUCCESS)
}

fn redo(plan: &'static Plan, environment: &Environment, args: &RedoArgs) -> anyhow::Result<u8> {
    let confirmation = Confirmation::for_command("redo", UNDOES, args.yes).map_err(CommandError::from)?;
    let config = Config::load(environment, &args.connection.overrides_with_lock(&args.lock))?;
    let session = Session { plan, config: &config };
    runtime()?.block_on(versions::redo(session, args.target, confirmation, &mut std::io::stdout()))?;
    Ok(exit_code::SUCCESS)
}

fn baseline(plan: &'static Plan, environment: &Environment, args: &BaselineArgs) -> anyhow::Result<u8> {
    let config = Config::load(environment, &args.connection.overrides_with_lock(&args.lock))?;
    let session = Session { plan, config: &config };
    runtime()?.block_on(versions::baseline(session, args.target, args.version, &mut std::io::stdout()))?;
    Ok(exit_code::SUCCESS)
}

fn repair(plan: &'static Plan, environment: &Environment, args: &RepairArgs) -> anyhow::Result<u8> {
    let config = Config::load(environment, &args.connection.overrides_with_lock(&args.lock))?;
    let session = Session { plan, config: &config };
    runtime()?.block_on(versions::repair(session, &sql_targets(args.target), args.yes, &mut std::io::stdout()))?;
    Ok(exit_code::SUCCESS)
}

fn verify_downgrades(
    plan: &'static Plan,
    environment: &Environment,
    args: &VerifyDowngradesArgs,
) -> anyhow::Result<u8> {
    let config = Config::load(environment, &args.connection.overrides())?;
    let session = Session { plan, config: &config };
    let targets = sql_targets(args.target);
    runtime()?.block_on(verify::verify_downgrades(
        session,
        &targets,
        verify::VerifyOptions { create_scratch: args.create_scratch, keep_going: args.keep_going },
        &mut std::io::stdout(),
    ))?;
    Ok(exit_code::SUCCESS)
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().context("cannot start the async runtime")
}

fn exit_code_of(error: &anyhow::Error) -> u8 {
    if let Some(command_error) = error.downcast_ref::<CommandError>() {
        return command_error.exit_code();
    }
    if let Some(run_error) = error.downcast_ref::<RunError>() {
        return run_error.exit_code();
    }
    if error.is::<ConfigError>() || error.is::<LoggingError>() {
        return exit_code::USAGE;
    }
    exit_code::FAILED
}
