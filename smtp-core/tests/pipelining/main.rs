//! Pipelined flights (PIPELINING, CHUNKING): windowed BDAT, the reply
//! stream staying in sync after failures, and QUIT riding with the last
//! write of `send_and_close`.

mod bdat_window;
mod reply_sync;
mod send_and_close;
