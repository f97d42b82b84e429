//! The scenarios of the secret-leak suite (secrets.rs): the rig's secrets
//! and the wrong ones, every form to search for, and the runs of the
//! binary, each with the outcome it must have.

use super::leak_check::{self, Needle};
pub use crate::common::get;

pub const WRONG_PASS: &str = "Wrong-Pass-9x";
pub const WRONG_PROXY_PASS: &str = "Wrong-Proxy-9x";
pub const WRONG_REFRESH: &str = "Wrong-Refresh-9x";
pub const WRONG_CLIENT_SECRET: &str = "Wrong-Client-9x";

/// Every secret of the rig and of the wrong-secret scenarios, in every
/// form, plus the protocol blobs that carry them.
pub fn needles() -> Vec<Needle> {
    let user = get("PEERS_SMTP_USER");
    let token = get("PEERS_OAUTH_TOKEN");
    let mut secrets: Vec<(&str, String)> = vec![
        ("smtp password", get("PEERS_SMTP_PASS")),
        ("utf-8 smtp password", get("PEERS_SMTP_PASS2")),
        ("oauth token", token.clone()),
        ("expired oauth token", get("PEERS_OAUTH_TOKEN_EXPIRED")),
        ("client secret", get("PEERS_OAUTH_CLIENT_SECRET")),
        ("refresh token", get("PEERS_OAUTH_REFRESH_TOKEN")),
        ("proxy password", get("PEERS_PROXY_PASS")),
        ("wrong password", WRONG_PASS.into()),
        ("wrong proxy password", WRONG_PROXY_PASS.into()),
        ("wrong refresh token", WRONG_REFRESH.into()),
        ("wrong client secret", WRONG_CLIENT_SECRET.into()),
    ];
    // A JWT's signature alone is as good as the token.
    for (name, jwt) in [
        ("oauth token signature", token),
        ("expired token signature", get("PEERS_OAUTH_TOKEN_EXPIRED")),
    ] {
        let sig = jwt.rsplit('.').next().unwrap().to_string();
        secrets.push((name, sig));
    }
    let mut out: Vec<Needle> = secrets
        .iter()
        .flat_map(|(name, s)| leak_check::forms(name, s.as_bytes()))
        .collect();
    let pass = get("PEERS_SMTP_PASS");
    let tok = get("PEERS_OAUTH_TOKEN");
    out.extend(leak_check::blob(
        "PLAIN",
        format!("\0{user}\0{pass}").as_bytes(),
    ));
    out.extend(leak_check::blob(
        "XOAUTH2",
        format!("user={user}\x01auth=Bearer {tok}\x01\x01").as_bytes(),
    ));
    out.extend(leak_check::blob(
        "OAUTHBEARER",
        format!("n,a={user},\x01auth=Bearer {tok}\x01\x01").as_bytes(),
    ));
    out.extend(leak_check::blob(
        "HTTP Basic",
        format!("{}:{}", get("PEERS_PROXY_USER"), get("PEERS_PROXY_PASS")).as_bytes(),
    ));
    // Any access token (the refresh flow mints new ones) is a JWT: its
    // header starts `eyJ`; no output of ours has a reason to contain one.
    for (what, text) in [
        ("a JWT (any access token)", "eyJ0eXAi"),
        ("a JWT (any access token)", "eyJhbGci"),
        ("an XOAUTH2 blob (base64 of 'user=')", "dXNlcj1"),
        ("an OAUTHBEARER blob (base64 of 'n,a=')", "bixhPQ"),
    ] {
        out.push(Needle {
            what: what.into(),
            text: text.into(),
        });
    }
    out
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Expect {
    Ok,
    Fail,
}

/// One way of running the binary; `{dir}` in arguments and environment
/// values is the scenario's scratch directory.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub name: String,
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
    /// Written to a file given with `--config`.
    pub toml: Option<String>,
    /// (name, content) written to the scratch directory first.
    pub files: Vec<(&'static str, String)>,
    pub expect: Expect,
}

pub fn scenario(name: &str, expect: Expect) -> Scenario {
    Scenario {
        name: name.into(),
        args: Vec::new(),
        env: Vec::new(),
        toml: None,
        files: Vec::new(),
        expect,
    }
}

impl Scenario {
    pub fn args(mut self, args: &[&str]) -> Self {
        self.args.extend(args.iter().map(|s| s.to_string()));
        self
    }
    pub fn env(mut self, k: &str, v: &str) -> Self {
        self.env.push((k.into(), v.into()));
        self
    }
    pub fn toml(mut self, t: String) -> Self {
        self.toml = Some(t);
        self
    }
    pub fn file(mut self, name: &'static str, content: &str) -> Self {
        self.files.push((name, content.into()));
        self
    }
}

/// Postfix submission port: STARTTLS required, AUTH required.
pub fn submission(mechanism: &str) -> Vec<String> {
    [
        "--host",
        "127.0.0.1",
        "--port",
        &get("PEERS_POSTFIX_SUBMISSION_PORT"),
        "--security",
        "starttls",
        "--ca-file",
        &get("PEERS_CA_CERT"),
        "--timeout",
        "20s",
        "--auth-mechanisms",
        mechanism,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

pub fn auth_scenarios() -> Vec<Scenario> {
    let user = get("PEERS_SMTP_USER");
    let pass = get("PEERS_SMTP_PASS");
    let token = get("PEERS_OAUTH_TOKEN");
    let expired = get("PEERS_OAUTH_TOKEN_EXPIRED");
    let mut out = Vec::new();
    let with = |s: Scenario, mech: &str, u: &str| {
        let mut s = s.args(&["--user", u]);
        s.args.extend(submission(mech));
        s
    };
    for (good, secret, expect) in [
        (true, pass.as_str(), Expect::Ok),
        (false, WRONG_PASS, Expect::Fail),
    ] {
        let tag = if good { "good" } else { "wrong" };
        // Each mechanism takes the password from a different source.
        out.push(
            with(
                scenario(&format!("PLAIN --password-env {tag}"), expect),
                "PLAIN",
                &user,
            )
            .args(&["--password-env", "PW_FOR_TEST"])
            .env("PW_FOR_TEST", secret),
        );
        out.push(
            with(
                scenario(&format!("LOGIN SMTP_AUTH__PASSWORD {tag}"), expect),
                "LOGIN",
                &user,
            )
            .env("SMTP_AUTH__PASSWORD", secret),
        );
        out.push(
            with(
                scenario(&format!("CRAM-MD5 toml {tag}"), expect),
                "CRAM-MD5",
                &user,
            )
            .toml(format!("[auth]\npassword = {secret:?}\n")),
        );
        out.push(
            with(
                scenario(&format!("SCRAM-SHA-1 --password-file {tag}"), expect),
                "SCRAM-SHA-1",
                &user,
            )
            .file("pw.txt", &format!("{secret}\n"))
            .args(&["--password-file", "{dir}/pw.txt"]),
        );
        out.push(
            with(
                scenario(&format!("SCRAM-SHA-256 --password-command {tag}"), expect),
                "SCRAM-SHA-256",
                &user,
            )
            .file("pw.txt", secret)
            .args(&["--password-command", "cat {dir}/pw.txt"]),
        );
    }
    out.push(
        with(
            scenario("SCRAM-SHA-256 utf-8 password", Expect::Ok),
            "SCRAM-SHA-256",
            &get("PEERS_SMTP_USER2"),
        )
        .env("SMTP_AUTH__PASSWORD", &get("PEERS_SMTP_PASS2")),
    );
    for (tok, expect, tag) in [
        (&token, Expect::Ok, "good"),
        (&expired, Expect::Fail, "expired"),
    ] {
        out.push(
            with(
                scenario(&format!("XOAUTH2 --oauth2-token-env {tag}"), expect),
                "XOAUTH2",
                &user,
            )
            .args(&["--oauth2-token-env", "TOKEN_FOR_TEST"])
            .env("TOKEN_FOR_TEST", tok),
        );
        out.push(
            with(
                scenario(&format!("OAUTHBEARER toml token {tag}"), expect),
                "OAUTHBEARER",
                &user,
            )
            .toml(format!("[auth.oauth2]\ntoken = {tok:?}\n")),
        );
        out.push(
            with(
                scenario(&format!("XOAUTH2 token command {tag}"), expect),
                "XOAUTH2",
                &user,
            )
            .file("token.txt", tok)
            .args(&["--oauth2-token-command", "cat {dir}/token.txt"]),
        );
    }
    let refresh = |secret: &str, refresh: &str| {
        format!(
            "[auth.oauth2]\ntoken_url = {:?}\nclient_id = {:?}\nclient_secret = {secret:?}\nrefresh_token = {refresh:?}\n",
            get("PEERS_TOKEN_ENDPOINT"),
            get("PEERS_OAUTH_CLIENT_ID"),
        )
    };
    let (cs, rt) = (
        get("PEERS_OAUTH_CLIENT_SECRET"),
        get("PEERS_OAUTH_REFRESH_TOKEN"),
    );
    for (name, toml, expect) in [
        ("refresh flow good", refresh(&cs, &rt), Expect::Ok),
        (
            "refresh flow wrong refresh token",
            refresh(&cs, WRONG_REFRESH),
            Expect::Fail,
        ),
        (
            "refresh flow wrong client secret",
            refresh(WRONG_CLIENT_SECRET, &rt),
            Expect::Fail,
        ),
    ] {
        out.push(with(scenario(name, expect), "OAUTHBEARER", &user).toml(toml));
    }
    out
}

pub fn proxy_scenarios() -> Vec<Scenario> {
    let (puser, ppass) = (get("PEERS_PROXY_USER"), get("PEERS_PROXY_PASS"));
    let (user, pass) = (get("PEERS_SMTP_USER"), get("PEERS_SMTP_PASS"));
    let mut out = Vec::new();
    for (i, (name, scheme, port)) in [
        ("microsocks", "socks5h", "PEERS_SOCKS5_AUTH_PORT"),
        ("tinyproxy", "http", "PEERS_HTTP_PROXY_AUTH_PORT"),
        ("squid", "http", "PEERS_SQUID_AUTH_PORT"),
    ]
    .into_iter()
    .enumerate()
    {
        for (secret, expect, tag) in [
            (ppass.as_str(), Expect::Ok, "good"),
            (WRONG_PROXY_PASS, Expect::Fail, "wrong"),
        ] {
            let url = format!("{scheme}://{puser}:{secret}@127.0.0.1:{}", get(port));
            let mut s = scenario(&format!("{name} proxy password {tag}"), expect)
                .args(&["--user", &user])
                .env("SMTP_AUTH__PASSWORD", &pass);
            s.args.extend(submission("PLAIN"));
            // The proxy URL comes from a flag, the environment or TOML.
            s = match i {
                0 => s.args(&["--proxy", &url]),
                1 => s.env("SMTP_PROXY__URL", &url),
                _ => s.toml(format!("[proxy]\nurl = {url:?}\n")),
            };
            out.push(s);
        }
    }
    out
}

pub fn config_scenarios() -> Vec<Scenario> {
    let pass = get("PEERS_SMTP_PASS");
    let proxy = format!(
        "socks5h://{}:{}@127.0.0.1:1082",
        get("PEERS_PROXY_USER"),
        get("PEERS_PROXY_PASS")
    );
    let token = get("PEERS_OAUTH_TOKEN");
    let (cs, rt) = (
        get("PEERS_OAUTH_CLIENT_SECRET"),
        get("PEERS_OAUTH_REFRESH_TOKEN"),
    );
    let base = |name: &str| {
        scenario(name, Expect::Ok).args(&["--host", "127.0.0.1", "--user", "tester@example.test"])
    };
    let refresh_toml = format!(
        "[auth.oauth2]\ntoken_url = {:?}\nclient_id = \"id\"\nclient_secret = {cs:?}\nrefresh_token = {rt:?}\n",
        get("PEERS_TOKEN_ENDPOINT")
    );
    vec![
        base("flags: password and proxy")
            .args(&["--password-env", "PW_FOR_TEST", "--proxy", &proxy])
            .env("PW_FOR_TEST", &pass),
        base("flags: token")
            .args(&["--oauth2-token-env", "TOKEN_FOR_TEST"])
            .env("TOKEN_FOR_TEST", &token),
        base("env: password and proxy")
            .env("SMTP_AUTH__PASSWORD", &pass)
            .env("SMTP_PROXY__URL", &proxy),
        base("env: token").env("SMTP_AUTH__OAUTH2__TOKEN", &token),
        base("env: refresh flow")
            .env("SMTP_AUTH__OAUTH2__TOKEN_URL", &get("PEERS_TOKEN_ENDPOINT"))
            .env("SMTP_AUTH__OAUTH2__CLIENT_ID", "id")
            .env("SMTP_AUTH__OAUTH2__CLIENT_SECRET", &cs)
            .env("SMTP_AUTH__OAUTH2__REFRESH_TOKEN", &rt),
        base("toml: password and proxy").toml(format!(
            "[auth]\npassword = {pass:?}\n[proxy]\nurl = {proxy:?}\n"
        )),
        base("toml: token").toml(format!("[auth.oauth2]\ntoken = {token:?}\n")),
        base("toml: refresh flow").toml(refresh_toml),
    ]
}
