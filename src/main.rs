//! `migrator`: the runtime's command line over the plan compiled into this crate.

fn main() -> std::process::ExitCode {
    tradeforge_migrator::app::main(&tradeforge_migrator::PLAN)
}
