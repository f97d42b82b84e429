//! `smtp generate bash|zsh|fish|elvish|powershell|man`

use anyhow::{Result, bail};
use clap::CommandFactory;

use crate::cli::Cli;

pub fn run(what: &str) -> Result<()> {
    let mut cmd = Cli::command();
    let mut out = std::io::stdout();
    if what == "man" {
        clap_mangen::Man::new(cmd).render(&mut out)?;
        return Ok(());
    }
    let shell: clap_complete::Shell = match what.parse() {
        Ok(s) => s,
        Err(_) => bail!("unknown target {what:?}: bash, zsh, fish, elvish, powershell or man"),
    };
    clap_complete::generate(shell, &mut cmd, "smtp", &mut out);
    Ok(())
}
