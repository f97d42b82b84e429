//! What real servers never do, played by a scripted server: stalls,
//! garbage, drops, STARTTLS response injection, replies to commands never
//! sent, and answers lost once the message was handed over.

mod matrix;
mod replies;
mod stalls_and_injection;
mod unknown_outcome;
