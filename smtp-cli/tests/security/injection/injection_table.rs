//! The injection table: every input that reaches the wire, how the test
//! feeds it to the binary, the over-long values past its limit, and what
//! the error must say. Used by injection.rs.
/// The kinds of bad value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Bad {
    Cr,
    Lf,
    CrLf,
    Nul,
    Long,
    /// `value\r\n\r\n`: ends a header block early if written raw.
    CrLfTail,
    /// ESC, BEL, VT: terminal escapes and other C0 controls (compose
    /// inputs only; every one of them is refused in a header).
    Esc,
    Bel,
    Vt,
}

impl Bad {
    /// Every kind, in the order the test tries them.
    pub const ALL: [Bad; 9] = [
        Bad::Cr,
        Bad::Lf,
        Bad::CrLf,
        Bad::Nul,
        Bad::Long,
        Bad::CrLfTail,
        Bad::Esc,
        Bad::Bel,
        Bad::Vt,
    ];

    /// Only message inputs (addresses, names, subject, headers) must
    /// refuse every C0 control; a password may hold any byte.
    pub fn compose_only(self) -> bool {
        matches!(self, Bad::Esc | Bad::Bel | Bad::Vt)
    }
}

/// The inputs that end up in the message's headers or envelope.
pub fn is_compose(row: &Row) -> bool {
    [
        "--from",
        "--to",
        "--cc",
        "--bcc",
        "--reply-to",
        "--subject",
        "--header",
        "message.",
    ]
    .iter()
    .any(|p| row.input.starts_with(p))
}

/// How the value reaches the program.
#[derive(Debug, Clone, Copy)]
pub enum Via {
    /// `--flag value` (the flag replaces the base one of that name).
    Flag(&'static str),
    /// An environment variable that a flag names (`--password-env VAR`).
    EnvOfFlag(&'static str),
    /// `key = "value"` in the `--config` TOML file; drops the base flag.
    Toml(&'static str, Option<&'static str>),
    /// `SMTP_...` environment variable for the key; drops the base flag.
    Env(&'static str, Option<&'static str>),
    /// A line of the `--to-file` list.
    ToFile,
    /// `smtp sendmail -f value`.
    SendmailFrom,
    /// A recipient argument of `smtp sendmail`.
    SendmailRcpt,
}

pub struct Row {
    /// The input, as a person names it.
    pub input: &'static str,
    /// How it reaches the binary.
    pub via: Via,
    /// Subcommand: send, test or sendmail.
    pub cmd: &'static str,
    /// `{}` is replaced by the bad value, `{port}` by the trap's port.
    pub template: &'static str,
    /// A valid value; the bad ones are built from it.
    pub good: &'static str,
    /// Over-long values (each above the documented limit).
    pub long: fn() -> Vec<String>,
    /// What the error must say (lower case).
    pub says: &'static str,
    /// A secret: the error must not show it.
    pub secret: bool,
}

pub const SECRET: &str = "Inj3ct-S3cret";

pub fn too_long_address() -> Vec<String> {
    vec![
        format!("{}@example.test", "l".repeat(65)),
        format!("a@{}.test", vec!["d".repeat(60); 5].join(".")),
    ]
}
pub fn too_long_name() -> Vec<String> {
    vec![format!(
        "{}.example.test",
        vec!["h".repeat(60); 4].join(".")
    )]
}
pub fn too_long_header() -> Vec<String> {
    vec!["x".repeat(999)]
}
pub fn too_long_255() -> Vec<String> {
    vec![format!("{SECRET}{}", "u".repeat(256))]
}
pub fn too_long_secret() -> Vec<String> {
    vec![format!("{SECRET}{}", "s".repeat(8193))]
}
pub fn none() -> Vec<String> {
    Vec::new()
}

pub fn rows() -> Vec<Row> {
    use Via::*;
    let row = |input, via, template, good, long, says| Row {
        input,
        via,
        cmd: "send",
        template,
        good,
        long,
        says,
        secret: false,
    };
    let secret = |input, via, template, long, says| Row {
        secret: true,
        ..row(input, via, template, SECRET, long, says)
    };
    let on = |cmd, r: Row| Row { cmd, ..r };
    let addr = "a@example.test";
    vec![
        row(
            "--from",
            Flag("--from"),
            "{}",
            addr,
            too_long_address,
            "invalid address",
        ),
        row(
            "--to",
            Flag("--to"),
            "{}",
            addr,
            too_long_address,
            "invalid address",
        ),
        row(
            "--cc",
            Flag("--cc"),
            "{}",
            addr,
            too_long_address,
            "invalid address",
        ),
        row(
            "--bcc",
            Flag("--bcc"),
            "{}",
            addr,
            too_long_address,
            "invalid address",
        ),
        row(
            "--reply-to",
            Flag("--reply-to"),
            "{}",
            addr,
            too_long_address,
            "invalid address",
        ),
        row(
            "--to-file line",
            ToFile,
            "{}",
            addr,
            too_long_address,
            "invalid address",
        ),
        row(
            "--from-name",
            Flag("--from-name"),
            "{}",
            "App Bot",
            too_long_header,
            "from name",
        ),
        row(
            "--subject",
            Flag("--subject"),
            "{}",
            "Nightly",
            too_long_header,
            "subject",
        ),
        row(
            "--subject-prefix",
            Flag("--subject-prefix"),
            "{}",
            "[x] ",
            too_long_header,
            "subject",
        ),
        row(
            "--header value",
            Flag("--header"),
            "X-Job: {}",
            "nightly",
            too_long_header,
            "--header",
        ),
        row(
            "--header name",
            Flag("--header"),
            "{}: v",
            "X-Job",
            none,
            "--header",
        ),
        row(
            "--ehlo-name",
            Flag("--ehlo-name"),
            "{}",
            "client.example.test",
            too_long_name,
            "ehlo_name",
        ),
        row(
            "--host",
            Flag("--host"),
            "{}",
            "127.0.0.1",
            too_long_name,
            "host",
        ),
        row(
            "--tls-server-name",
            Flag("--tls-server-name"),
            "{}",
            "mail.example.test",
            too_long_name,
            "server_name",
        ),
        row(
            "--user",
            Flag("--user"),
            "{}",
            "tester@example.test",
            too_long_255,
            "user",
        ),
        secret(
            "--password-env",
            EnvOfFlag("--password-env"),
            "{}",
            too_long_secret,
            "password",
        ),
        secret(
            "--oauth2-token-env",
            EnvOfFlag("--oauth2-token-env"),
            "{}",
            too_long_secret,
            "token",
        ),
        secret(
            "--proxy password",
            Flag("--proxy"),
            "socks5h://proxyuser:{}@127.0.0.1:{port}",
            too_long_255,
            "proxy",
        ),
        secret(
            "--proxy password (%-encoded)",
            Flag("--proxy"),
            "http://proxyuser:{}@127.0.0.1:{port}",
            too_long_255,
            "proxy",
        ),
        row(
            "--proxy user",
            Flag("--proxy"),
            "socks5h://{}:pw@127.0.0.1:{port}",
            "proxyuser",
            too_long_255,
            "proxy",
        ),
        row(
            "--proxy host",
            Flag("--proxy"),
            "http://{}:{port}",
            "127.0.0.1",
            too_long_name,
            "proxy",
        ),
        row(
            "ehlo_name (toml)",
            Toml("ehlo_name", Some("--ehlo-name")),
            "{}",
            "client.example.test",
            too_long_name,
            "ehlo_name",
        ),
        row(
            "host (toml)",
            Toml("host", Some("--host")),
            "{}",
            "127.0.0.1",
            too_long_name,
            "host",
        ),
        row(
            "tls.server_name (toml)",
            Toml("tls.server_name", None),
            "{}",
            "mail.example.test",
            too_long_name,
            "server_name",
        ),
        row(
            "message.from (toml)",
            Toml("message.from", Some("--from")),
            "{}",
            addr,
            too_long_address,
            "message.from",
        ),
        row(
            "message.from_name (toml)",
            Toml("message.from_name", None),
            "{}",
            "App Bot",
            too_long_header,
            "from_name",
        ),
        row(
            "message.subject_prefix (toml)",
            Toml("message.subject_prefix", None),
            "{}",
            "[x] ",
            too_long_header,
            "subject_prefix",
        ),
        row(
            "auth.username (toml)",
            Toml("auth.username", None),
            "{}",
            "tester@example.test",
            too_long_255,
            "username",
        ),
        secret(
            "auth.password (toml)",
            Toml("auth.password", None),
            "{}",
            too_long_secret,
            "auth.password",
        ),
        secret(
            "auth.oauth2.token (toml)",
            Toml("auth.oauth2.token", None),
            "{}",
            too_long_secret,
            "auth.oauth2.token",
        ),
        secret(
            "proxy.url password (toml)",
            Toml("proxy.url", None),
            "socks5h://proxyuser:{}@127.0.0.1:{port}",
            too_long_255,
            "proxy",
        ),
        row(
            "SMTP_EHLO_NAME",
            Env("ehlo_name", Some("--ehlo-name")),
            "{}",
            "client.example.test",
            too_long_name,
            "ehlo_name",
        ),
        row(
            "SMTP_MESSAGE__FROM_NAME",
            Env("message.from_name", None),
            "{}",
            "App Bot",
            too_long_header,
            "from_name",
        ),
        row(
            "SMTP_AUTH__USERNAME",
            Env("auth.username", None),
            "{}",
            "tester@example.test",
            too_long_255,
            "username",
        ),
        secret(
            "SMTP_AUTH__PASSWORD",
            Env("auth.password", None),
            "{}",
            too_long_secret,
            "auth.password",
        ),
        secret(
            "SMTP_PROXY__URL password",
            Env("proxy.url", None),
            "http://proxyuser:{}@127.0.0.1:{port}",
            too_long_255,
            "proxy",
        ),
        on(
            "test",
            row(
                "test --send-to",
                Flag("--send-to"),
                "{}",
                addr,
                too_long_address,
                "invalid address",
            ),
        ),
        on(
            "test",
            row(
                "test --from",
                Flag("--from"),
                "{}",
                addr,
                too_long_address,
                "invalid address",
            ),
        ),
        on(
            "sendmail",
            row(
                "sendmail -f",
                SendmailFrom,
                "{}",
                addr,
                too_long_address,
                "invalid address",
            ),
        ),
        on(
            "sendmail",
            row(
                "sendmail recipient",
                SendmailRcpt,
                "{}",
                addr,
                too_long_address,
                "invalid address",
            ),
        ),
    ]
}
