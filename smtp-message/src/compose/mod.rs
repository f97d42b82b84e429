//! Composing new messages: [`Composer`] (a reusable template),
//! [`Attachment`] and the built [`Composed`] message.

mod attachment;
mod mime;
mod recipient;
mod stream;

use std::fmt;
use std::sync::{Arc, Mutex, OnceLock};

use tokio::io::AsyncRead;

use crate::{Error, validate};

pub use attachment::Attachment;
pub(crate) use attachment::Source;
pub use recipient::Recipient;
pub use stream::Composed;

/// A single-use reader behind a lock, shared by clones of its attachment.
pub(crate) type SharedReader = Arc<Mutex<Option<Box<dyn AsyncRead + Send + Unpin>>>>;

/// A message template: sender, recipients, subject, bodies, attachments and
/// extra headers. [`Composer::build`] validates everything and returns a
/// [`Composed`] message to send; it takes `&self`, so one template builds
/// any number of messages (each with its own Date and Message-ID).
///
/// Cloning is cheap: everything but the recipients is shared (`Arc`) until
/// a clone changes it, so a bulk run clones one template per recipient.
#[derive(Clone)]
pub struct Composer {
    fixed: Arc<Fixed>,
    to: Vec<Recipient>,
    cc: Vec<Recipient>,
    bcc: Vec<Recipient>,
}

/// Everything of a [`Composer`] but its recipients.
#[derive(Clone)]
struct Fixed {
    from: String,
    from_name: Option<String>,
    reply_to: Vec<String>,
    subject: Option<String>,
    text: Option<Arc<str>>,
    html: Option<Arc<str>>,
    attachments: Vec<Attachment>,
    headers: Vec<(String, String)>,
    message_id: Option<String>,
    /// The MIME body as written once, shared by clones until one of them
    /// changes a body or an attachment (each setter starts a new one).
    body: mime::BodyCache,
    /// `from` once validated (`from` is given only to [`Composer::new`]).
    from_checked: OnceLock<smtp_core::Address>,
}

impl fmt::Debug for Composer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Composer")
            .field("from", &self.fixed.from)
            .field("to", &self.to)
            .field("cc", &self.cc)
            .field("bcc", &self.bcc)
            .field("subject", &self.fixed.subject)
            .field("attachments", &self.fixed.attachments)
            .finish_non_exhaustive()
    }
}

impl Composer {
    /// A message from `from`: the envelope sender and the `From` header.
    pub fn new(from: impl Into<String>) -> Composer {
        Composer {
            fixed: Arc::new(Fixed {
                from: from.into(),
                from_name: None,
                reply_to: Vec::new(),
                subject: None,
                text: None,
                html: None,
                attachments: Vec::new(),
                headers: Vec::new(),
                message_id: None,
                body: mime::BodyCache::default(),
                from_checked: OnceLock::new(),
            }),
            to: Vec::new(),
            cc: Vec::new(),
            bcc: Vec::new(),
        }
    }

    /// The shared part, copied first if another clone holds it too.
    fn fixed_mut(&mut self) -> &mut Fixed {
        Arc::make_mut(&mut self.fixed)
    }

    /// The display name in `From` (RFC 2047-encoded when not ASCII).
    pub fn from_name(mut self, name: impl Into<String>) -> Self {
        self.fixed_mut().from_name = Some(name.into());
        self
    }

    /// Adds a `To` recipient: text (`&str`, `String`), checked by
    /// [`build`](Composer::build), or an [`smtp_core::Address`], taken as
    /// already checked.
    pub fn to(mut self, addr: impl Into<Recipient>) -> Self {
        self.to.push(addr.into());
        self
    }

    /// Adds a `Cc` recipient.
    pub fn cc(mut self, addr: impl Into<Recipient>) -> Self {
        self.cc.push(addr.into());
        self
    }

    /// Adds a `Bcc` recipient: in the envelope only, never in the content.
    pub fn bcc(mut self, addr: impl Into<Recipient>) -> Self {
        self.bcc.push(addr.into());
        self
    }

    /// Adds a `Reply-To` address.
    pub fn reply_to(mut self, addr: impl Into<String>) -> Self {
        self.fixed_mut().reply_to.push(addr.into());
        self
    }

    /// Sets the subject (RFC 2047-encoded when not ASCII).
    pub fn subject(mut self, s: impl Into<String>) -> Self {
        self.fixed_mut().subject = Some(s.into());
        self
    }

    /// Sets the plain-text body.
    pub fn text_body(mut self, s: impl Into<String>) -> Self {
        let fixed = self.fixed_mut();
        fixed.text = Some(Arc::from(s.into()));
        fixed.body = mime::BodyCache::default();
        self
    }

    /// Sets the HTML body (with a text body: `multipart/alternative`).
    pub fn html_body(mut self, s: impl Into<String>) -> Self {
        let fixed = self.fixed_mut();
        fixed.html = Some(Arc::from(s.into()));
        fixed.body = mime::BodyCache::default();
        self
    }

    /// Adds an attachment (the message becomes `multipart/mixed`).
    pub fn attach(mut self, a: Attachment) -> Self {
        let fixed = self.fixed_mut();
        fixed.attachments.push(a);
        fixed.body = mime::BodyCache::default();
        self
    }

    /// Adds an extra header, written as given after the standard ones.
    ///
    /// A `Message-ID` or `Date` header replaces the generated one. Headers
    /// this crate writes itself (`From`, `To`, `Cc`, `Reply-To`, `Subject`,
    /// `MIME-Version`, `Content-*`) and `Bcc` are refused by
    /// [`build`](Composer::build).
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.fixed_mut().headers.push((name.into(), value.into()));
        self
    }

    /// Sets the Message-ID (with or without `<>`). Without it, one is
    /// generated in the sender's domain for every [`build`](Composer::build).
    pub fn message_id(mut self, id: impl Into<String>) -> Self {
        self.fixed_mut().message_id = Some(id.into());
        self
    }

    /// How many recipients (To, Cc and Bcc) were added so far.
    pub fn recipients(&self) -> usize {
        self.to.len() + self.cc.len() + self.bcc.len()
    }

    /// Validates every value and lays out the message. Touches no network;
    /// file attachments are only looked at (their size), not read.
    pub fn build(&self) -> Result<Composed, Error> {
        let checked = self.check()?;
        stream::Composed::new(self, checked)
    }

    /// Every check, on the exact values that will be written.
    fn check(&self) -> Result<Checked, Error> {
        let fixed = &*self.fixed;
        let from = match fixed.from_checked.get() {
            Some(from) => from.clone(),
            None => {
                let from = validate::address("from", &fixed.from)?;
                let _ = fixed.from_checked.set(from.clone());
                from
            }
        };
        if let Some(name) = &fixed.from_name {
            validate::check_header_value("from name", name)?;
        }
        let mut rcpts = Vec::new();
        for (field, list) in [("to", &self.to), ("cc", &self.cc), ("bcc", &self.bcc)] {
            for a in list {
                let a = a.check(field)?;
                if !rcpts.contains(&a) {
                    rcpts.push(a);
                }
            }
        }
        for a in &fixed.reply_to {
            validate::address("reply-to", a)?;
        }
        if let Some(s) = &fixed.subject {
            validate::check_header_value("subject", s)?;
        }
        let mut own_id = None;
        let mut own_date = false;
        for (name, value) in &fixed.headers {
            validate::check_extra_header(name, value)?;
            if name.eq_ignore_ascii_case("Message-ID") {
                if own_id.is_some() || fixed.message_id.is_some() {
                    return Err(Error::invalid(
                        "header name",
                        name,
                        "a Message-ID is already given",
                    ));
                }
                own_id = Some(message_id("header Message-ID", value)?);
            } else if name.eq_ignore_ascii_case("Date") {
                if own_date {
                    return Err(Error::invalid("header name", name, "given twice"));
                }
                own_date = true;
            }
        }
        if let Some(id) = &fixed.message_id {
            own_id = Some(message_id("message id", id)?);
        }
        for a in &fixed.attachments {
            a.check()?;
        }
        if rcpts.is_empty() {
            return Err(Error::NoRecipients);
        }
        let envelope =
            smtp_core::Envelope::new(Some(from), rcpts).map_err(|_| Error::NoRecipients)?;
        Ok(Checked {
            envelope,
            own_id,
            own_date,
        })
    }
}

/// What [`Composer::check`] found.
pub(crate) struct Checked {
    pub(crate) envelope: smtp_core::Envelope,
    /// A Message-ID given by the caller, without `<>`.
    pub(crate) own_id: Option<String>,
    /// An extra `Date` header replaces the generated one.
    pub(crate) own_date: bool,
}

/// Checks a given Message-ID and returns it without `<>`.
fn message_id(field: &str, id: &str) -> Result<String, Error> {
    validate::check_header_value(field, id)?;
    let bare = id
        .strip_prefix('<')
        .and_then(|i| i.strip_suffix('>'))
        .unwrap_or(id);
    if bare.is_empty() || bare.contains(['<', '>', ' ', '\t']) {
        return Err(Error::invalid(
            field,
            id,
            "expected one id like <unique@example.com>",
        ));
    }
    Ok(bare.to_string())
}
