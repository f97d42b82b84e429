//! DKIM signing (RFC 6376; Ed25519 per RFC 8463), streaming: a message is
//! read once to hash it and once to send it, so only its header block is
//! ever held in memory. The cryptography is mail-auth's.

mod key;
mod signed;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use mail_auth::common::crypto::DkimKey;
use mail_auth::common::headers::HeaderWriter;
use mail_auth::dkim::DkimSigner as AuthSigner;
use smtp_core::BodyEncoder;
use smtp_core::MessageSource;

use crate::Error;

pub use signed::Signed;

smtp_core::hint_table! {
    /// Hints for DKIM signing errors; [`Error::coded_hint`](crate::Error::coded_hint)
    /// returns one of these.
    pub mod hints {
        KEY_FILE = "dkim-key-file":
            "check {DkimKeyFile}: the file must exist and be readable by this user";
        KEY_FORMAT = "dkim-key-format":
            "{DkimKeyFile} must hold a PEM private key: RSA (BEGIN RSA PRIVATE KEY or BEGIN PRIVATE KEY) or Ed25519 (BEGIN PRIVATE KEY); `openssl genpkey -algorithm ed25519` makes one";
        SETTINGS = "dkim-settings":
            "fix the DKIM setting the message names ({DkimDomain}, {DkimSelector} or {DkimHeaders}); see docs/dkim.md";
        SIGN = "dkim-sign":
            "the message could not be signed: check that it has a header block with a From field";
    }
}

/// The signature algorithm, given by the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DkimAlgorithm {
    /// `rsa-sha256` (RFC 6376), from an RSA key.
    RsaSha256,
    /// `ed25519-sha256` (RFC 8463), from an Ed25519 key.
    Ed25519Sha256,
}

impl DkimAlgorithm {
    /// The name in the `a=` tag.
    pub fn name(self) -> &'static str {
        match self {
            DkimAlgorithm::RsaSha256 => "rsa-sha256",
            DkimAlgorithm::Ed25519Sha256 => "ed25519-sha256",
        }
    }
}

impl fmt::Display for DkimAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How header fields or the body are normalised before hashing (RFC 6376
/// §3.4). `relaxed` survives the whitespace and case changes relays make;
/// `simple` survives nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Canonicalization {
    /// Tolerates folding, whitespace and header-name case changes.
    #[default]
    Relaxed,
    /// Byte for byte (only trailing empty lines of the body are ignored).
    Simple,
}

impl Canonicalization {
    /// Parses `relaxed/simple`-style pairs (header/body); a single word
    /// sets the header and leaves the body `simple`, as RFC 6376 §3.5 says.
    pub fn parse_pair(text: &str) -> Result<(Canonicalization, Canonicalization), Error> {
        let one = |word: &str| match word.trim().to_ascii_lowercase().as_str() {
            "relaxed" => Ok(Canonicalization::Relaxed),
            "simple" => Ok(Canonicalization::Simple),
            _ => Err(Error::DkimSettings {
                setting: "canonicalization",
                reason: format!(
                    "{text:?} is not relaxed/relaxed, relaxed/simple, simple/relaxed or simple/simple"
                ),
            }),
        };
        match text.split_once('/') {
            Some((h, b)) => Ok((one(h)?, one(b)?)),
            None => Ok((one(text)?, Canonicalization::Simple)),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Canonicalization::Relaxed => "relaxed",
            Canonicalization::Simple => "simple",
        }
    }

    fn to_auth(self) -> mail_auth::dkim::Canonicalization {
        match self {
            Canonicalization::Relaxed => mail_auth::dkim::Canonicalization::Relaxed,
            Canonicalization::Simple => mail_auth::dkim::Canonicalization::Simple,
        }
    }
}

/// The header fields signed by default: those whose change would alter
/// what the reader sees or how the message is threaded. Of these, the
/// ones a message has are signed; the others are not listed in `h=`, so a
/// relay that adds one (Postfix adds a missing Date or Message-ID) does not
/// break the signature.
pub const DEFAULT_HEADERS: &[&str] = &[
    "From",
    "Reply-To",
    "Subject",
    "Date",
    "To",
    "Cc",
    "Message-ID",
    "In-Reply-To",
    "References",
    "MIME-Version",
    "Content-Type",
    "Content-Transfer-Encoding",
    "Content-Disposition",
];

/// Signs messages for one domain and selector with one private key.
///
/// Cheap to clone (the key is shared). `Debug` never shows the key.
///
/// ```no_run
/// # async fn demo() -> Result<(), smtp_message::Error> {
/// use smtp_message::dkim::DkimSigner;
/// let signer = DkimSigner::from_pem_file("/etc/dkim/mail.pem", "example.com", "mail")?;
/// let message = smtp_message::Composer::new("me@example.com")
///     .to("you@example.org")
///     .subject("Signed")
///     .text_body("hello\n")
///     .build()?;
/// let signed = signer.sign(message); // an smtp_core::Message: send it as usual
/// # let _ = signed; Ok(()) }
/// ```
#[derive(Clone)]
pub struct DkimSigner {
    domain: String,
    selector: String,
    headers: Vec<String>,
    header_canon: Canonicalization,
    body_canon: Canonicalization,
    key: Arc<DkimKey>,
    algorithm: DkimAlgorithm,
    key_file: Option<PathBuf>,
}

impl fmt::Debug for DkimSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DkimSigner")
            .field("domain", &self.domain)
            .field("selector", &self.selector)
            .field("algorithm", &self.algorithm)
            .field("headers", &self.headers)
            .field("canonicalization", &self.canonicalization_name())
            .field("key_file", &self.key_file)
            .field("key", &"<redacted>")
            .finish()
    }
}

impl DkimSigner {
    /// A signer from a PEM private key (PKCS#1 or PKCS#8 RSA, PKCS#8
    /// Ed25519); the algorithm follows from the key. Signs
    /// [`DEFAULT_HEADERS`] with `relaxed/relaxed`.
    pub fn from_pem(pem: &[u8], domain: &str, selector: &str) -> Result<DkimSigner, Error> {
        let (key, algorithm) = key::parse_pem(pem, None)?;
        DkimSigner::new(key, algorithm, None, domain, selector)
    }

    /// [`DkimSigner::from_pem`] with the key read from a file. Errors name
    /// the file, never its content.
    pub fn from_pem_file(
        path: impl AsRef<Path>,
        domain: &str,
        selector: &str,
    ) -> Result<DkimSigner, Error> {
        let path = path.as_ref();
        let pem = std::fs::read(path).map_err(|source| Error::DkimKeyFile {
            path: path.to_path_buf(),
            source,
        })?;
        let (key, algorithm) = key::parse_pem(&pem, Some(path))?;
        DkimSigner::new(key, algorithm, Some(path.to_path_buf()), domain, selector)
    }

    fn new(
        key: DkimKey,
        algorithm: DkimAlgorithm,
        key_file: Option<PathBuf>,
        domain: &str,
        selector: &str,
    ) -> Result<DkimSigner, Error> {
        check_tag_value("domain", domain, true)?;
        check_tag_value("selector", selector, true)?;
        Ok(DkimSigner {
            domain: domain.to_string(),
            selector: selector.to_string(),
            headers: DEFAULT_HEADERS.iter().map(|h| h.to_string()).collect(),
            header_canon: Canonicalization::Relaxed,
            body_canon: Canonicalization::Relaxed,
            key: Arc::new(key),
            algorithm,
            key_file,
        })
    }

    /// Signs these header fields instead of [`DEFAULT_HEADERS`]. `From`
    /// must be among them (RFC 6376 §5.4).
    pub fn headers<S: AsRef<str>>(
        mut self,
        headers: impl IntoIterator<Item = S>,
    ) -> Result<DkimSigner, Error> {
        let mut list = Vec::new();
        for h in headers {
            let h = h.as_ref().trim();
            crate::check_header_name(h).map_err(|_| Error::DkimSettings {
                setting: "headers",
                reason: format!("{h:?} is not a header field name"),
            })?;
            if !list.iter().any(|l: &String| l.eq_ignore_ascii_case(h)) {
                list.push(h.to_string());
            }
        }
        if !list.iter().any(|h| h.eq_ignore_ascii_case("from")) {
            return Err(Error::DkimSettings {
                setting: "headers",
                reason: "the list must include From (RFC 6376 §5.4)".into(),
            });
        }
        self.headers = list;
        Ok(self)
    }

    /// Sets the header and body canonicalization.
    pub fn canonicalization(mut self, header: Canonicalization, body: Canonicalization) -> Self {
        self.header_canon = header;
        self.body_canon = body;
        self
    }

    /// The signing domain (`d=`).
    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// The selector (`s=`): the key's public half is published at
    /// `<selector>._domainkey.<domain>`.
    pub fn selector(&self) -> &str {
        &self.selector
    }

    /// The algorithm, from the key.
    pub fn algorithm(&self) -> DkimAlgorithm {
        self.algorithm
    }

    /// The key file, when the key was read from one.
    pub fn key_file(&self) -> Option<&Path> {
        self.key_file.as_deref()
    }

    /// The signed header fields.
    pub fn signed_headers(&self) -> &[String] {
        &self.headers
    }

    /// `header/body`, as in the `c=` tag.
    pub fn canonicalization_name(&self) -> String {
        format!("{}/{}", self.header_canon.name(), self.body_canon.name())
    }

    /// Wraps a message so every [`open`](smtp_core::Message::open) signs
    /// it afresh: a retry or a queued resend carries a signature made when
    /// it is sent.
    pub fn sign<M: smtp_core::Message>(&self, message: M) -> Signed<M> {
        Signed::new(message, self.clone())
    }

    /// Reads the message to its end and returns the `DKIM-Signature:`
    /// field (CRLF-ended) to put in front of it. Line ends are hashed as
    /// the engine sends them (bare LF and CR become CRLF); the header block
    /// is held, the body only streamed through the hash.
    pub async fn signature_field(&self, mut source: MessageSource) -> Result<Vec<u8>, Error> {
        let mut encoder = BodyEncoder::new(false);
        let mut buf = Vec::with_capacity(CHUNK);
        // The header block (and the start of the body read with it), as sent.
        let mut head = Vec::with_capacity(CHUNK + CHUNK / 8);
        let mut eof = false;
        while !eof && memchr::memmem::find(&head, b"\r\n\r\n").is_none() {
            if head.len() > MAX_HEADER_BLOCK {
                return Err(Error::DkimSign {
                    reason: format!("no end of the header block within {MAX_HEADER_BLOCK} bytes"),
                });
            }
            buf.clear();
            if source.read_buf(&mut buf).await? == 0 {
                encoder.finish(&mut head);
                eof = true;
            } else {
                encoder.encode(&buf, &mut head);
            }
        }
        let present = self.present_headers(&head);
        if !present.iter().any(|h| h.eq_ignore_ascii_case("from")) {
            return Err(Error::DkimSign {
                reason: "the message has no From field".into(),
            });
        }
        let signer = AuthSigner::from_key(KeyRef(&self.key))
            .domain(self.domain.as_str())
            .selector(self.selector.as_str())
            .headers(present)
            .header_canonicalization(self.header_canon.to_auth())
            .body_canonicalization(self.body_canon.to_auth());
        let mut stream = signer.sign_streaming();
        stream.write(&head);
        drop(head);
        let mut wire = Vec::with_capacity(CHUNK + CHUNK / 8);
        while !eof {
            buf.clear();
            wire.clear();
            if source.read_buf(&mut buf).await? == 0 {
                encoder.finish(&mut wire);
                eof = true;
            } else {
                encoder.encode(&buf, &mut wire);
            }
            stream.write(&wire);
        }
        let signature = stream.finish().map_err(|e| Error::DkimSign {
            reason: e.to_string(),
        })?;
        let mut field = signature.to_header().into_bytes();
        if !field.ends_with(b"\r\n") {
            field.extend_from_slice(b"\r\n");
        }
        Ok(field)
    }
}

/// Largest header block signed: beyond it the message is surely not mail
/// (smtp-message's raw reader stops at 1 MiB already).
const MAX_HEADER_BLOCK: usize = 4 * 1024 * 1024;

/// Read size of the hashing pass: large enough that per-chunk overhead
/// vanishes, small next to the 16 MiB budget of a 50 MiB message.
const CHUNK: usize = 64 * 1024;

impl DkimSigner {
    /// The configured header names the message has, in the configured
    /// order. A listed field the message lacks is left out of `h=`: signed
    /// as absent, it would break the signature when a relay adds it
    /// (Postfix adds Date and Message-ID to mail without them).
    fn present_headers<'s>(&'s self, head: &[u8]) -> Vec<&'s str> {
        let end = memchr::memmem::find(head, b"\r\n\r\n").map_or(head.len(), |p| p + 4);
        let parsed = mail_parser::MessageParser::default().parse_headers(&head[..end]);
        let found: Vec<&str> = parsed
            .as_ref()
            .map(|m| m.headers().iter().map(|h| h.name.as_str()).collect())
            .unwrap_or_default();
        self.headers
            .iter()
            .filter(|h| found.iter().any(|f| f.eq_ignore_ascii_case(h)))
            .map(String::as_str)
            .collect()
    }
}

/// mail-auth's signer owns its key; this lends it the shared one, so a
/// signer is built per message without copying or re-parsing the key.
struct KeyRef<'a>(&'a DkimKey);

impl mail_auth::common::crypto::SigningKey for KeyRef<'_> {
    type Hasher = mail_auth::common::crypto::Sha256;

    fn sign(&self, input: impl mail_auth::common::headers::Writable) -> mail_auth::Result<Vec<u8>> {
        self.0.sign(input)
    }

    fn algorithm(&self) -> mail_auth::common::crypto::Algorithm {
        self.0.algorithm()
    }
}

/// Domain and selector go into tags unquoted: a `;`, space or control
/// character would end or corrupt the signature field.
fn check_tag_value(setting: &'static str, value: &str, required: bool) -> Result<(), Error> {
    if value.is_empty() && required {
        return Err(Error::DkimSettings {
            setting,
            reason: "is empty".into(),
        });
    }
    let ok = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_');
    if let Some(bad) = value.chars().find(|&c| !ok(c)) {
        return Err(Error::DkimSettings {
            setting,
            reason: format!(
                "{value:?} has {bad:?}: only letters, digits, '.', '-' and '_' are allowed"
            ),
        });
    }
    Ok(())
}
