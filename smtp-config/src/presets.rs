//! Provider presets: the host, port and security a provider documents, and
//! the notes people trip over (app passwords, API-key user names, ...).
//!
//! A preset is the layer just above the built-in defaults: every file,
//! variable and flag overrides it.

use smtp_core::Security;

/// One provider preset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Preset {
    /// Name used in `preset = "..."`.
    pub name: &'static str,
    /// One line for listings.
    pub description: &'static str,
    /// Server host; `{region}` is replaced by `aws_region`. `None` when the
    /// user must give the host (on-premises servers).
    pub host: Option<&'static str>,
    /// Server port.
    pub port: u16,
    /// TLS mode.
    pub security: Security,
    /// Lowest TLS version the provider accepts, when it says so.
    pub min_tls: Option<&'static str>,
    /// A fixed user name (SendGrid's `apikey`).
    pub username: Option<&'static str>,
    /// What a person must know to make it work.
    pub notes: &'static [&'static str],
}

impl Preset {
    /// True when the host template needs `aws_region`.
    pub fn needs_region(&self) -> bool {
        self.host.is_some_and(|h| h.contains("{region}"))
    }

    /// The host with `{region}` filled in, or `None` if the preset has no
    /// host or the region is missing.
    pub fn host_for(&self, region: Option<&str>) -> Option<String> {
        let host = self.host?;
        if self.needs_region() {
            Some(host.replace("{region}", region?))
        } else {
            Some(host.to_string())
        }
    }
}

/// Every preset, in listing order.
pub fn presets() -> &'static [Preset] {
    PRESETS
}

/// The preset called `name` (case-insensitive).
pub fn find(name: &str) -> Option<&'static Preset> {
    PRESETS.iter().find(|p| p.name.eq_ignore_ascii_case(name))
}

const fn preset(
    name: &'static str,
    description: &'static str,
    host: Option<&'static str>,
    port: u16,
    security: Security,
    notes: &'static [&'static str],
) -> Preset {
    Preset {
        name,
        description,
        host,
        port,
        security,
        min_tls: None,
        username: None,
        notes,
    }
}

const STARTTLS: Security = Security::StartTlsRequired;
const IMPLICIT: Security = Security::ImplicitTls;

const PRESETS: &[Preset] = &[
    preset(
        "gmail",
        "Gmail and Google Workspace mailboxes (smtp.gmail.com)",
        Some("smtp.gmail.com"),
        587,
        STARTTLS,
        &[
            "with 2-Step Verification your normal password is refused: create an app password (Google Account > Security > App passwords)",
            "or use OAuth2 (XOAUTH2): auth.oauth2.token_url = \"https://oauth2.googleapis.com/token\" with client_id, client_secret and refresh_token",
            "Gmail rewrites the From address to the account unless it is a verified \"send mail as\" alias",
        ],
    ),
    preset(
        "google-workspace-relay",
        "Google Workspace SMTP relay service (smtp-relay.gmail.com)",
        Some("smtp-relay.gmail.com"),
        587,
        STARTTLS,
        &[
            "turn the SMTP relay service on in the Admin console (Apps > Google Workspace > Gmail > Routing)",
            "the relay authenticates by allowed IP addresses, or by SMTP AUTH with a Workspace account",
            "set ehlo_name to a name in your domain: generic EHLO names may be refused",
        ],
    ),
    Preset {
        min_tls: Some("1.2"),
        ..preset(
            "office365",
            "Microsoft 365 / Exchange Online (smtp.office365.com)",
            Some("smtp.office365.com"),
            587,
            STARTTLS,
            &[
                "basic authentication (SMTP AUTH with a password) is deprecated by Microsoft and off by default: prefer OAuth2 (XOAUTH2) via auth.oauth2.*",
                "if you use a password, SMTP AUTH must be enabled for the mailbox (Exchange admin center > mailbox > Email apps)",
                "the From address must be the mailbox or one it has Send As rights for",
            ],
        )
    },
    preset(
        "outlook",
        "Outlook.com / Hotmail personal accounts (smtp-mail.outlook.com)",
        Some("smtp-mail.outlook.com"),
        587,
        STARTTLS,
        &[
            "Microsoft is retiring basic authentication for Outlook.com: use OAuth2 (XOAUTH2) via auth.oauth2.*",
            "accounts with two-step verification need an app password where passwords still work",
        ],
    ),
    preset(
        "exchange",
        "On-premises Microsoft Exchange (client submission); set host yourself",
        None,
        587,
        STARTTLS,
        &[
            "set host to your Exchange server, e.g. host = \"mail.example.com\"",
            "client submission is port 587 with STARTTLS (the Client Frontend receive connector)",
            "an internal CA needs tls.ca_file = \"/path/to/your-ca.pem\"",
        ],
    ),
    preset(
        "amazon-ses",
        "Amazon SES SMTP interface (email-smtp.REGION.amazonaws.com); set aws_region",
        Some("email-smtp.{region}.amazonaws.com"),
        587,
        STARTTLS,
        &[
            "set aws_region, e.g. aws_region = \"eu-west-1\"",
            "use SES SMTP credentials (created in the SES console), not IAM access keys",
            "sender addresses or domains must be verified; new accounts start in the sandbox",
        ],
    ),
    Preset {
        username: Some("apikey"),
        ..preset(
            "sendgrid",
            "Twilio SendGrid (smtp.sendgrid.net)",
            Some("smtp.sendgrid.net"),
            587,
            STARTTLS,
            &[
                "the user name is literally \"apikey\" (set by this preset); the password is your API key (SG....)",
                "the From address must be a verified Sender Identity",
            ],
        )
    },
    preset(
        "mailgun",
        "Mailgun, US region (smtp.mailgun.org)",
        Some("smtp.mailgun.org"),
        587,
        STARTTLS,
        &[
            "use the SMTP credentials of your sending domain (e.g. postmaster@mg.example.com)",
            "domains in the EU region need the mailgun-eu preset",
        ],
    ),
    preset(
        "mailgun-eu",
        "Mailgun, EU region (smtp.eu.mailgun.org)",
        Some("smtp.eu.mailgun.org"),
        587,
        STARTTLS,
        &["use the SMTP credentials of your sending domain (e.g. postmaster@mg.example.com)"],
    ),
    preset(
        "postmark",
        "Postmark (smtp.postmarkapp.com)",
        Some("smtp.postmarkapp.com"),
        587,
        STARTTLS,
        &[
            "user name and password are both your Server API token",
            "the From address must be a confirmed sender signature or domain",
        ],
    ),
    preset(
        "fastmail",
        "Fastmail (smtp.fastmail.com)",
        Some("smtp.fastmail.com"),
        465,
        IMPLICIT,
        &[
            "needs an app password (Settings > Privacy & Security > App passwords)",
            "the user name is your full Fastmail address",
        ],
    ),
    preset(
        "zoho",
        "Zoho Mail (smtp.zoho.com)",
        Some("smtp.zoho.com"),
        465,
        IMPLICIT,
        &[
            "accounts in other data centres use their own host: smtp.zoho.eu, smtp.zoho.in, smtp.zoho.com.au",
            "with two-factor authentication use an application-specific password",
            "organisation (custom domain) accounts may need smtppro.zoho.com",
        ],
    ),
    preset(
        "icloud",
        "iCloud Mail (smtp.mail.me.com)",
        Some("smtp.mail.me.com"),
        587,
        STARTTLS,
        &[
            "needs an app-specific password (appleid.apple.com > Sign-In and Security)",
            "the user name is your iCloud Mail address",
        ],
    ),
    preset(
        "yahoo",
        "Yahoo Mail (smtp.mail.yahoo.com)",
        Some("smtp.mail.yahoo.com"),
        465,
        IMPLICIT,
        &[
            "needs an app password (Account Security > Generate app password); the normal password is refused",
        ],
    ),
    preset(
        "mailjet",
        "Mailjet (in-v3.mailjet.com)",
        Some("in-v3.mailjet.com"),
        587,
        STARTTLS,
        &[
            "the user name is your API key and the password your secret key",
            "the From address must be a validated sender",
        ],
    ),
    preset(
        "brevo",
        "Brevo, formerly Sendinblue (smtp-relay.brevo.com)",
        Some("smtp-relay.brevo.com"),
        587,
        STARTTLS,
        &[
            "the user name is the SMTP login shown under SMTP & API, not always your account e-mail",
            "the password is an SMTP key created there, not your account password",
        ],
    ),
    preset(
        "proton-bridge",
        "Proton Mail Bridge on this machine (127.0.0.1:1025)",
        Some("127.0.0.1"),
        1025,
        STARTTLS,
        &[
            "Proton Mail Bridge must be running; use the user name and the bridge password it shows, not your Proton password",
            "the bridge uses a self-signed certificate: export it from the bridge settings and set tls.ca_file to it (or tls.pin_sha256); do not turn verification off",
        ],
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_is_complete() {
        assert!(presets().len() >= 14);
        let names: Vec<_> = presets().iter().map(|p| p.name).collect();
        for want in [
            "gmail",
            "google-workspace-relay",
            "office365",
            "outlook",
            "exchange",
            "amazon-ses",
            "sendgrid",
            "mailgun",
            "postmark",
            "fastmail",
            "zoho",
            "icloud",
            "yahoo",
            "mailjet",
            "brevo",
            "proton-bridge",
        ] {
            assert!(names.contains(&want), "{want}");
        }
        let mut sorted = names.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), names.len(), "duplicate preset name");
        for p in presets() {
            assert!(!p.notes.is_empty(), "{} has no notes", p.name);
            assert_eq!(
                p.port == 465,
                p.security == Security::ImplicitTls,
                "{}",
                p.name
            );
        }
    }

    #[test]
    fn region_template() {
        let ses = find("Amazon-SES").unwrap();
        assert!(ses.needs_region());
        assert_eq!(
            ses.host_for(Some("eu-west-1")).unwrap(),
            "email-smtp.eu-west-1.amazonaws.com"
        );
        assert_eq!(ses.host_for(None), None);
        assert_eq!(find("exchange").unwrap().host_for(None), None);
        assert_eq!(
            find("gmail").unwrap().host_for(Some("x")).unwrap(),
            "smtp.gmail.com"
        );
    }
}
