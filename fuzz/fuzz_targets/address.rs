//! Address validation on arbitrary text: never panics; an accepted
//! address displays as given, parses again to itself, and carries nothing
//! that could break an SMTP command line; a rejection is one line.
#![no_main]

use libfuzzer_sys::fuzz_target;
use smtp_core::Address;
use smtp_fuzz::oracles;

fuzz_target!(|text: &str| {
    match Address::new(text) {
        Ok(address) => {
            assert_eq!(address.as_str(), text);
            assert_eq!(address.to_string(), text);
            assert_eq!(text.parse::<Address>().ok().as_ref(), Some(&address));
            assert_eq!(
                format!("{}@{}", address.local_part(), address.domain()),
                text
            );
            assert!(!address.local_part().is_empty() && address.local_part().len() <= 64);
            assert!(!address.domain().is_empty());
            assert!(text.len() <= 254);
            assert!(!text.contains(|c: char| c.is_control() || c == '<' || c == '>'));
            assert_eq!(address.needs_smtputf8(), !text.is_ascii());
        }
        Err(error) => {
            let shown = error.to_string();
            assert!(oracles::is_one_printable_line(&shown), "{shown:?}");
        }
    }
});
