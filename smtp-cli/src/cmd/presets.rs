//! `smtp presets [NAME]`

use anyhow::{Result, bail};

pub fn run(name: Option<&str>) -> Result<()> {
    let Some(name) = name else {
        out!("NAME                     HOST                                PORT  SECURITY");
        for p in smtp_config::presets::presets() {
            out!(
                "{:<24} {:<34} {:>5}  {}",
                p.name,
                p.host.unwrap_or("(you give the host)"),
                p.port,
                p.security
            );
        }
        out!("\nsmtp presets NAME describes one; use it with --preset NAME or preset = \"NAME\".");
        return Ok(());
    };
    let Some(p) = smtp_config::presets::find(name) else {
        let names: Vec<&str> = smtp_config::presets::presets()
            .iter()
            .map(|p| p.name)
            .collect();
        bail!("no preset {name:?}; known: {}", names.join(", "));
    };
    out!("{} — {}", p.name, p.description);
    out!("  host:      {}", p.host.unwrap_or("(you give the host)"));
    out!("  port:      {}", p.port);
    out!("  security:  {}", p.security);
    if let Some(v) = p.min_tls {
        out!("  min TLS:   {v}");
    }
    if let Some(u) = p.username {
        out!("  username:  {u}");
    }
    for note in p.notes {
        out!("  note:      {note}");
    }
    Ok(())
}
