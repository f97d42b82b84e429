//! A private world for each test: its own system file, XDG dirs and
//! environment map, so no test reads /etc/smtp, the user's files or the
//! process environment.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::PathBuf;

use smtp_config::{CliOverrides, Config, Error, LoadOptions, Loaded};

pub struct Rig {
    pub dir: tempfile::TempDir,
    pub env: BTreeMap<String, String>,
    pub config_file: Option<PathBuf>,
    pub profile: Option<String>,
    pub preset: Option<String>,
    pub cli: CliOverrides,
    pub strict_env: bool,
}

impl Rig {
    pub fn new() -> Rig {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("home");
        std::fs::create_dir_all(&home).unwrap();
        let env = [
            ("HOME", home.clone()),
            ("XDG_CONFIG_HOME", dir.path().join("xdg-config")),
            ("XDG_DATA_HOME", dir.path().join("xdg-data")),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.display().to_string()))
        .collect();
        Rig {
            dir,
            env,
            config_file: None,
            profile: None,
            preset: None,
            cli: CliOverrides::new(),
            strict_env: false,
        }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn write(&self, rel: &str, content: &str) -> PathBuf {
        let path = self.path(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, content).unwrap();
        path
    }

    pub fn system_path(&self) -> PathBuf {
        self.path("etc/smtp/config.toml")
    }

    pub fn system(&mut self, content: &str) -> &mut Rig {
        self.write("etc/smtp/config.toml", content);
        self
    }

    pub fn user_path(&self) -> PathBuf {
        self.path("xdg-config/smtp/config.toml")
    }

    pub fn user(&mut self, content: &str) -> &mut Rig {
        self.write("xdg-config/smtp/config.toml", content);
        self
    }

    /// A file given by `--config`.
    pub fn config(&mut self, content: &str) -> &mut Rig {
        self.config_file = Some(self.write("given/config.toml", content));
        self
    }

    pub fn env(&mut self, key: &str, value: &str) -> &mut Rig {
        self.env.insert(key.to_string(), value.to_string());
        self
    }

    pub fn cli(&mut self, key: &str, value: &str) -> &mut Rig {
        self.cli.push(key, value);
        self
    }

    pub fn options(&self) -> LoadOptions {
        let mut o = LoadOptions::new()
            .env(self.env.clone())
            .system_file(self.system_path())
            .overrides(self.cli.clone())
            .strict_env(self.strict_env);
        if let Some(f) = &self.config_file {
            o = o.config_file(f);
        }
        if let Some(p) = &self.profile {
            o = o.profile(p);
        }
        if let Some(p) = &self.preset {
            o = o.preset(p);
        }
        o
    }

    pub fn load(&self) -> Result<Loaded, Error> {
        Config::load(&self.options())
    }

    pub fn ok(&self) -> Loaded {
        match self.load() {
            Ok(l) => l,
            Err(e) => panic!("load failed: {e}"),
        }
    }

    pub fn err(&self) -> String {
        match self.load() {
            Ok(l) => panic!("load succeeded: {:?}", l.config()),
            Err(e) => e.to_string(),
        }
    }
}

/// `(value, origin)` of one key in the provenance.
pub fn at(loaded: &Loaded, key: &str) -> (String, String) {
    let e = loaded
        .provenance()
        .get(key)
        .unwrap_or_else(|| panic!("{key} not in provenance:\n{}", loaded.provenance()));
    (e.value.clone(), e.from.clone())
}
