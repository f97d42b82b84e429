//! [`Signed`]: any message, signed each time it is opened.

use async_trait::async_trait;
use smtp_core::{Message, MessageSource};

use super::DkimSigner;

/// A message that carries a fresh `DKIM-Signature:` every time it is
/// opened. Opening reads the inner message twice: once through the hash,
/// once to send; memory stays at the header block plus read buffers.
#[derive(Debug)]
pub struct Signed<M> {
    inner: M,
    signer: DkimSigner,
}

impl<M> Signed<M> {
    pub(super) fn new(inner: M, signer: DkimSigner) -> Signed<M> {
        Signed { inner, signer }
    }

    /// The unsigned message.
    pub fn inner(&self) -> &M {
        &self.inner
    }

    /// The signer.
    pub fn signer(&self) -> &DkimSigner {
        &self.signer
    }
}

#[async_trait]
impl<M: Message> Message for Signed<M> {
    async fn open(&self) -> Result<MessageSource, smtp_core::Error> {
        let field = self
            .signer
            .signature_field(self.inner.open().await?)
            .await
            .map_err(|e| match e {
                crate::Error::Io(io) => smtp_core::Error::Message(io),
                other => smtp_core::Error::Message(std::io::Error::other(other.to_string())),
            })?;
        Ok(self.inner.open().await?.prepend(field))
    }
}
