//! `cli`: the command line of the flows project. See `cli --help`.
//!
//! Each subcommand lives in its own file; this one parses the arguments, runs
//! the command, and turns any error into one line on stderr and exit status 1
//! (2 for a malformed command line).

mod args;
mod bench;
mod bench_figure;
mod checkpoint;
mod commands;
mod csv;
mod dataset;
mod error;
mod figures;
mod files;
mod limits;
mod metrics;
mod plot;
mod progress;
mod report;
mod signals;
mod snapshots;
mod tape_demo;
mod train;
mod train_data;
mod training_gif;
mod vi;
mod vi_figures;

use args::{Cli, Command};
use clap::error::ErrorKind;
use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) => {
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = e.print();
            return ExitCode::from(2);
        }
        Err(e) => {
            eprintln!("error: {}", error::one_line(&e.to_string()));
            return ExitCode::from(2);
        }
    };
    signals::install();
    let result = match &cli.command {
        Command::Train(a) => train::run(a),
        Command::Sample(a) => commands::sample(a),
        Command::Eval(a) => commands::eval(a),
        Command::Plot(a) => commands::plot(a),
        Command::Tape(a) => tape_demo::run(a),
        Command::Bench(a) => bench::run(a),
        Command::Report(a) => report::run(a),
        Command::Vi(a) => vi::run(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if !e.message.is_empty() {
                eprintln!("error: {e}");
            }
            ExitCode::from(e.status)
        }
    }
}
