//! One module per subcommand; each parses nothing and holds no protocol
//! logic: it asks `setup` for a transport and prints what comes back.

mod config;
mod deliver;
mod generate;
mod presets;
mod queue;
mod report;
mod send;
mod sendmail;
mod shell;
mod test;

use crate::cli::{Cli, Command, ConfigCommand};

/// Runs the chosen subcommand.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let global = cli.global;
    match cli.command {
        Command::Send(args) => send::run(&global, args).await,
        Command::Test(args) => test::run(&global, args).await,
        Command::Config(ConfigCommand::Show { origin, json, conn }) => {
            config::show(&global, &conn, origin, json)
        }
        Command::Config(ConfigCommand::Check { conn }) => config::check(&global, &conn),
        Command::Config(ConfigCommand::Schema) => config::schema(),
        Command::Presets { name } => presets::run(name.as_deref()),
        Command::Shell(args) => shell::run(&global, args).await,
        Command::Sendmail(args) => sendmail::run(&global, args).await,
        Command::Queue(command) => queue::run(&global, command).await,
        Command::Generate { what } => generate::run(&what),
    }
}
