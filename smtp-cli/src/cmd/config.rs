//! `smtp config show|check|schema`

use anyhow::Result;

use crate::cli::{ConnectionArgs, GlobalArgs};
use crate::setup;

pub fn show(global: &GlobalArgs, conn: &ConnectionArgs, origin: bool, json: bool) -> Result<()> {
    let loaded = setup::load(global, conn)?;
    let p = loaded.provenance();
    if json {
        out!("{}", p.to_json());
        return Ok(());
    }
    if let Some(profile) = loaded.profile() {
        out!("# profile: {profile}");
    }
    if let Some(preset) = loaded.preset() {
        out!("# preset: {}", preset.name);
    }
    if loaded.is_outbox() {
        out!(
            "# no host: messages go to the outbox {}",
            loaded.outbox_dir().display()
        );
    }
    let width = p.rows().map(|(k, _, _)| k.len()).max().unwrap_or(0);
    for (key, value, from) in p.rows() {
        if origin {
            out!("{key:<width$} = {value:<40} # {from}");
        } else {
            out!("{key:<width$} = {value}");
        }
    }
    Ok(())
}

pub fn check(global: &GlobalArgs, conn: &ConnectionArgs) -> Result<()> {
    // A check is where a misspelt SMTP_* variable must not pass unnoticed.
    let strict = GlobalArgs {
        strict_env: true,
        ..global.clone()
    };
    let loaded = setup::load(&strict, conn)?;
    setup::build(
        &loaded,
        None::<std::sync::Arc<smtp_core::MemoryTranscript>>,
        None,
    )?;
    let warnings = loaded.warnings().len();
    out!(
        "configuration ok ({warnings} warning{})",
        if warnings == 1 { "" } else { "s" }
    );
    Ok(())
}

/// Prints the configuration file's JSON Schema (generated from the key
/// table, so it always lists exactly the keys this build understands).
pub fn schema() -> Result<()> {
    out!("{:#}", smtp_config::json_schema());
    Ok(())
}
