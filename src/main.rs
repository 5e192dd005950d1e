//! The `acdd` command line: parse arguments, load configuration, run.

use std::path::{Path, PathBuf};

use acdd::eventlog;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(
    name = "acdd",
    version,
    about = "Automatic call distributor for SIP, chat, mail and forms"
)]
struct Cli {
    /// Log format.
    #[arg(long, value_enum, default_value_t = LogFormat::Human, global = true)]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    Human,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Run the daemon.
    Run {
        #[arg(long, default_value = "config/acdd.toml")]
        config: PathBuf,
    },
    /// Validate a configuration file and print a short summary.
    CheckConfig {
        #[arg(long, default_value = "config/acdd.toml")]
        config: PathBuf,
    },
    /// Re-run an event log through the engine and check every decision;
    /// with --config, also replay its traffic under another configuration.
    Replay {
        log: PathBuf,
        /// "What if": the same traffic under this configuration.
        #[arg(long)]
        config: Option<PathBuf>,
        /// Service-level target: answered within this many seconds.
        #[arg(long, default_value_t = 20)]
        target_seconds: u64,
    },
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("ACDD_LOG").unwrap_or_else(|_| "info".into());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Human => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.log_format);
    match cli.command {
        Command::CheckConfig { config } => match acdd::config::load(&config) {
            Ok(loaded) => {
                print!("{}", loaded.summary());
                ExitCode::SUCCESS
            }
            Err(error) => {
                eprintln!("{error}");
                ExitCode::from(2)
            }
        },
        Command::Replay {
            log,
            config,
            target_seconds,
        } => replay(&log, config.as_deref(), target_seconds),
        Command::Run { config } => match acdd::config::load(&config) {
            Ok(loaded) => match acdd::daemon::run(config, loaded) {
                Ok(()) => ExitCode::SUCCESS,
                Err(error) => {
                    tracing::error!("{error:#}");
                    ExitCode::FAILURE
                }
            },
            Err(error) => {
                eprintln!("{error}");
                ExitCode::from(2)
            }
        },
    }
}

fn replay(log: &Path, other: Option<&Path>, target_seconds: u64) -> ExitCode {
    let target_ms = target_seconds * 1000;
    let replayed = match acdd::eventlog::replay(log, target_ms) {
        Ok(replayed) => replayed,
        Err(error) => {
            eprintln!("{}: {error}", log.display());
            return ExitCode::FAILURE;
        }
    };
    println!(
        "replayed {} steps in {} run(s) of {}: every decision is the same",
        replayed.steps,
        replayed.runs,
        log.display()
    );
    let Some(other) = other else {
        print!("{}", eventlog::side_by_side(&[("recorded", &replayed.figures)]));
        return ExitCode::SUCCESS;
    };
    let other_setup = match acdd::config::load(other) {
        Ok(config) => config.engine_setup(),
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::from(2);
        }
    };
    let Some(recorded_setup) = replayed.setup.clone() else {
        eprintln!("{}: the log holds no run", log.display());
        return ExitCode::FAILURE;
    };
    let model = eventlog::simulate(recorded_setup, &replayed.traffic, target_ms);
    let what_if = eventlog::simulate(other_setup, &replayed.traffic, target_ms);
    print!(
        "{}",
        eventlog::side_by_side(&[
            ("recorded", &replayed.figures),
            ("model, logged config", &model),
            ("model, other config", &what_if),
        ])
    );
    ExitCode::SUCCESS
}
