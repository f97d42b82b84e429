//! `[dkim]` -> `smtp_message::dkim::DkimSigner` (feature `dkim`).

use crate::error::Error;
use crate::loaded::Loaded;

#[cfg(feature = "dkim")]
impl Loaded {
    /// The DKIM signer `dkim.*` describes, with its key loaded and
    /// checked; `None` when `dkim.domain` is not set. Errors name the key
    /// file, never its content.
    pub fn dkim_signer(&self) -> Result<Option<smtp_message::dkim::DkimSigner>, Error> {
        use smtp_message::dkim::{Canonicalization, DkimSigner};

        let d = &self.config.dkim;
        // validate.rs made sure all three are set together.
        let (Some(domain), Some(selector), Some(key_file)) = (&d.domain, &d.selector, &d.key_file)
        else {
            return Ok(None);
        };
        let plugin = |e: smtp_message::Error| Error::Plugin {
            what: "dkim",
            source: Box::new(e),
        };
        let mut signer = DkimSigner::from_pem_file(key_file, domain, selector).map_err(plugin)?;
        if !d.headers.is_empty() {
            signer = signer.headers(&d.headers).map_err(plugin)?;
        }
        if let Some(c) = &d.canonicalization {
            let (header, body) = Canonicalization::parse_pair(c).map_err(plugin)?;
            signer = signer.canonicalization(header, body);
        }
        Ok(Some(signer))
    }
}

/// Without the feature a configured signature cannot be made: sending the
/// mail unsigned would fail DMARC later, far from the cause.
#[cfg(not(feature = "dkim"))]
pub(super) fn refuse_without_feature(loaded: &Loaded) -> Result<(), Error> {
    match loaded.config.dkim.domain {
        Some(_) => Err(Error::FeatureDisabled {
            feature: "dkim",
            key: "dkim.domain".into(),
            origin: Box::new(loaded.origin_or_default("dkim.domain")),
        }),
        None => Ok(()),
    }
}
