//! [`Setting`]: the settings a hint or an error cause can name.
//!
//! Lower crates speak of settings, never of config keys or CLI flags: a
//! hint's text names a setting as `{TlsCaFile}` (or `{Security=implicit}`
//! with the value to give it), and whoever shows the hint words it for its
//! reader. [`Hint`](crate::Hint)'s `Display` names the library method;
//! `smtp-config` names the config key; the `smtp` CLI adds its flag. So a
//! renamed key or flag is changed in one table, not in every crate.

use std::fmt;

use crate::tls::Security;

macro_rules! settings {
    ($( $(#[$meta:meta])* $name:ident => $api:literal; )*) => {
        /// A setting a hint or an error cause names.
        ///
        /// ```
        /// use smtp_core::Setting;
        ///
        /// assert_eq!("TlsCaFile".parse::<Setting>(), Ok(Setting::TlsCaFile));
        /// assert_eq!(Setting::TlsCaFile.api(), "`RustlsUpgradeBuilder::add_ca_file`");
        /// ```
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum Setting {
            $( $(#[$meta])* $name, )*
        }

        impl Setting {
            /// Every setting.
            pub const ALL: &[Setting] = &[$(Setting::$name),*];

            /// The name a hint's text uses for it: the variant's name.
            pub fn id(self) -> &'static str {
                match self {
                    $( Setting::$name => stringify!($name), )*
                }
            }

            /// The library API that sets it, for readers of the library's
            /// own wording (no config file, no CLI).
            pub fn api(self) -> &'static str {
                match self {
                    $( Setting::$name => $api, )*
                }
            }
        }
    };
}

settings! {
    /// The server's host name.
    Host => "the host given to `SmtpTransport::builder`";
    /// The server's port.
    Port => "`SmtpTransportBuilder::port`";
    /// Implicit TLS, STARTTLS or none.
    Security => "`SmtpTransportBuilder::security`";
    /// The name sent in EHLO.
    EhloName => "`SmtpTransportBuilder::ehlo_name`";
    /// Every phase's timeout.
    Timeouts => "`SmtpTransportBuilder::timeouts`";
    /// The time allowed to reach the server (through a proxy too).
    ConnectTimeout => "`Timeouts::connect`";
    /// The sending rate.
    RateLimit => "`BulkSender::rate_limit`";
    /// The envelope sender.
    MessageFrom => "the sender of the `Envelope`";
    /// The SASL user name.
    AuthUsername => "the user name of `smtp_auth::Credentials`";
    /// The password, from any source.
    AuthPassword => "`smtp_auth::Credentials::password`";
    /// A file holding the password.
    AuthPasswordFile => "`smtp_auth::PasswordSource::file`";
    /// A command printing the password.
    AuthPasswordCommand => "`smtp_auth::PasswordSource::command`";
    /// The SASL mechanisms allowed.
    AuthMechanisms => "`SaslAuthenticatorBuilder::mechanisms`";
    /// Allowing a password over a connection without TLS.
    AuthAllowCleartext => "`SaslAuthenticatorBuilder::allow_cleartext`";
    /// An OAuth2 token, from any source.
    OAuth2Token => "`smtp_auth::Credentials::oauth2`";
    /// A command printing an OAuth2 token.
    OAuth2TokenCommand => "`smtp_auth::TokenCommand`";
    /// The OAuth2 token endpoint.
    OAuth2TokenUrl => "the token URL of `RefreshTokenFlow::builder`";
    /// The OAuth2 client id.
    OAuth2ClientId => "the client id of `RefreshTokenFlow::builder`";
    /// The OAuth2 client secret.
    OAuth2ClientSecret => "`RefreshTokenFlowBuilder::client_secret`";
    /// The OAuth2 refresh token.
    OAuth2RefreshToken => "the refresh token of `RefreshTokenFlow::builder`";
    /// The lowest TLS version offered.
    TlsMinVersion => "`RustlsUpgradeBuilder::min_version`";
    /// The highest TLS version offered.
    TlsMaxVersion => "`RustlsUpgradeBuilder::max_version`";
    /// CA certificates to trust.
    TlsCaFile => "`RustlsUpgradeBuilder::add_ca_file`";
    /// The client certificate chain (mutual TLS).
    TlsClientCert => "the certificate of `RustlsUpgradeBuilder::client_auth`";
    /// The client certificate's key (mutual TLS).
    TlsClientKey => "the key of `RustlsUpgradeBuilder::client_auth`";
    /// Pins of the server's public key.
    TlsPinSha256 => "`RustlsUpgradeBuilder::pin_sha256`";
    /// The name the server's certificate must match.
    TlsServerName => "`SmtpTransportBuilder::tls_server_name`";
    /// Also trusting the operating system's trust store.
    TlsPlatformRoots => "`RustlsUpgradeBuilder::platform_roots`";
    /// The bundled Mozilla root store.
    TlsWebpkiRoots => "`RustlsUpgradeBuilder::webpki_roots`";
    /// The rustls crypto provider.
    TlsCryptoProvider => "`RustlsUpgradeBuilder::crypto_provider`";
    /// The proxy, with its user name and password.
    ProxyUrl => "`smtp_core::ProxyUrl::parse`";
    /// The DKIM private key file.
    DkimKeyFile => "the path given to `DkimSigner::from_pem_file`";
    /// The DKIM signing domain (`d=`).
    DkimDomain => "the domain given to `DkimSigner::from_pem_file`";
    /// The DKIM selector (`s=`).
    DkimSelector => "the selector given to `DkimSigner::from_pem_file`";
    /// The header fields DKIM signs.
    DkimHeaders => "`DkimSigner::headers`";
    /// What happens when the server lacks DSN.
    DsnIfUnsupported => "`Dsn::if_unsupported`";
    /// REQUIRETLS for a message.
    RequireTls => "`Envelope::with_require_tls`";
    /// The configuration file.
    ConfigFile => "`LoadOptions::config_file`";
}

impl Setting {
    /// The library's wording of "set this setting to `value`".
    ///
    /// ```
    /// use smtp_core::Setting;
    ///
    /// assert_eq!(
    ///     Setting::Security.api_with("implicit"),
    ///     "`SmtpTransportBuilder::security(Security::ImplicitTls)`"
    /// );
    /// ```
    pub fn api_with(self, value: &str) -> String {
        let api = self.api();
        let value = match (self, value.parse::<Security>()) {
            (Setting::Security, Ok(s)) => format!("Security::{s:?}"),
            _ => value.to_string(),
        };
        match api.strip_prefix('`').and_then(|a| a.strip_suffix('`')) {
            Some(method) if !method.contains('`') => format!("`{method}({value})`"),
            _ => format!("{api} = {value}"),
        }
    }
}

impl fmt::Display for Setting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

impl std::str::FromStr for Setting {
    type Err = String;

    fn from_str(s: &str) -> Result<Setting, String> {
        Setting::ALL
            .iter()
            .copied()
            .find(|setting| setting.id() == s)
            .ok_or_else(|| format!("no setting is named {s:?}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_name_the_variants_and_parse_back() {
        for &s in Setting::ALL {
            assert_eq!(s.id().parse::<Setting>(), Ok(s));
            assert!(s.api().contains('`'), "{s}: {}", s.api());
        }
        assert!("tls.ca_file".parse::<Setting>().is_err());
    }

    #[test]
    fn a_value_goes_into_the_call() {
        assert_eq!(
            Setting::AuthAllowCleartext.api_with("true"),
            "`SaslAuthenticatorBuilder::allow_cleartext(true)`"
        );
        assert_eq!(
            Setting::Security.api_with("starttls"),
            "`SmtpTransportBuilder::security(Security::StartTlsRequired)`"
        );
        assert_eq!(
            Setting::Host.api_with("x"),
            "the host given to `SmtpTransport::builder` = x"
        );
    }
}
