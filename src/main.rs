//! The `authzd` binary: parse the command line, set up logging, run the subcommand.

use std::process::ExitCode;

use authzd::app::App;
use authzd::cli::{Cli, Command};
use authzd::config::Config;
use authzd::{commands, logging, shutdown};

// The global allocator is regorus' mimalloc (its `mimalloc` feature declares it); with the
// memory-limit feature it counts every allocation, which lets an evaluation stop at the limit.

fn main() -> ExitCode {
    authzd::allocator::no_huge_pages();
    let cli = Cli::parse_or_run();
    logging::init(cli.log_format, &cli.log_level);
    let Some(command) = cli.command else {
        return ExitCode::FAILURE;
    };
    match command {
        Command::Run(args) => match args.into_config() {
            Ok(config) => run(config),
            Err(e) => {
                tracing::error!("invalid configuration: {e}");
                ExitCode::FAILURE
            }
        },
        Command::Eval(args) => commands::eval::run(args),
        Command::Test(args) => commands::test::run(args),
        Command::Build(args) => commands::build::run(args),
        Command::Check(args) => commands::check::run(args),
        Command::Inspect(args) => commands::inspect::run(args),
        Command::Replay(args) => commands::replay::run(args),
        Command::Capabilities => commands::capabilities::run(),
    }
}

fn run(config: Config) -> ExitCode {
    // One worker more than decide at once (--max-concurrent-decisions defaults to --threads):
    // health, probes and refusals are answered while every slot evaluates.
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(config.threads + 1)
        .thread_stack_size(authzd::threads::EVAL_STACK_BYTES)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("authzd: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async {
        // Before anything binds or serves: a SIGTERM from then on is a graceful shutdown.
        let shutdown = shutdown::signal();
        match App::build(config).await {
            Ok(app) => {
                app.run(shutdown).await;
                ExitCode::SUCCESS
            }
            Err(e) => {
                tracing::error!("{e}");
                ExitCode::FAILURE
            }
        }
    })
}
