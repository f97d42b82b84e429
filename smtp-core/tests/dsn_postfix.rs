//! DSN (RFC 3461) through real Postfix (plain port, which offers DSN):
//! NOTIFY=SUCCESS makes Postfix send a success report to the sender (an
//! address of the rig, so it lands in the same Maildir), and the report
//! carries our ENVID and ORCPT back, xtext-decoded: proof that the
//! parameters were sent and encoded as Postfix reads them.

use smtp_core::dsn::{Dsn, Notify, OriginalRecipient, RecipientDsn, Ret};
use smtp_core::{MessageSource, Transport};
use smtp_testkit::engine::*;

fn message(subject: &str) -> MessageSource {
    MessageSource::from_bytes(format!(
        "From: sender@example.test\r\nTo: rcpt@example.test\r\nSubject: {subject}\r\n\
         Message-ID: <{subject}@example.test>\r\n\r\nbody\r\n"
    ))
}

/// The success report whose Original-Envelope-Id is `envid` (the token
/// appears nowhere in the message itself).
async fn report(envid: &str) -> String {
    let got = postfix_mail(&format!("Original-Envelope-Id: {envid}")).await;
    String::from_utf8_lossy(&got).into_owned()
}

#[tokio::test]
async fn postfix_reports_success_with_our_envid_and_orcpt_decoded() {
    let token = smtp_testkit::unique_tag("envid");
    // '+', '=' and a space must travel as xtext (+2B, +3D, +20).
    let envid = format!("{token} a+b=c");
    let original = format!("first+{token}@example.test");
    let (builder, transcript) = plain(port("PEERS_POSTFIX_PLAIN_PORT"));
    let t = builder.build().unwrap();
    let env = envelope("sender@example.test", &["rcpt@example.test"])
        .with_dsn(
            Dsn::new()
                .notify(Notify::SUCCESS | Notify::FAILURE)
                .ret(Ret::Headers)
                .envid(&envid)
                .unwrap(),
        )
        .with_recipient_dsn(
            0,
            RecipientDsn::new().orcpt(OriginalRecipient::new("rfc822", &original).unwrap()),
        )
        .unwrap();
    t.send(&env, message(&token)).await.unwrap();
    let text = transcript.text();
    assert!(
        text.contains(&format!("RET=HDRS ENVID={token}+20a+2Bb+3Dc")),
        "{text}"
    );
    let dsn = report(&envid).await;
    assert!(
        dsn.contains("Subject: Successful Mail Delivery Report"),
        "{dsn}"
    );
    assert!(dsn.contains("To: sender@example.test"), "{dsn}");
    assert!(
        dsn.contains(&format!("Original-Recipient: rfc822;{original}")),
        "{dsn}"
    );
    assert!(dsn.contains("Action: delivered"), "{dsn}");
}

#[tokio::test]
async fn postfix_reports_each_message_of_a_windowed_batch_by_its_own_envid() {
    let (builder, _) = plain(port("PEERS_POSTFIX_PLAIN_PORT"));
    let t = builder.pipeline_window(3).build().unwrap();
    let tokens: Vec<String> = (0..4)
        .map(|i| smtp_testkit::unique_tag(&format!("batch{i}")))
        .collect();
    let items = tokens
        .iter()
        .map(|tok| {
            let e = envelope("sender@example.test", &["rcpt@example.test"])
                .with_dsn(Dsn::new().notify(Notify::SUCCESS).envid(tok).unwrap());
            (e, message(tok))
        })
        .collect();
    let results = t.send_batch(items).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    for tok in &tokens {
        let dsn = report(tok).await;
        assert!(dsn.contains("Action: delivered"), "{dsn}");
        // The report is about this message: its own Message-ID is quoted.
        assert!(dsn.contains(&format!("<{tok}@example.test>")), "{dsn}");
    }
}
