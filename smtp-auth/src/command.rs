//! Runs a password or token command: `sh -c`, stdout captured, stderr
//! discarded (it may echo secrets, and we never log it), a time limit.

use std::time::Duration;

use secrecy::zeroize::Zeroizing;

use crate::error::Error;

/// Default limit for a password or token command.
pub const DEFAULT_COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

/// Most stdout bytes kept; a token or password is far smaller.
#[cfg(feature = "password-command")]
const MAX_OUTPUT: u64 = 64 * 1024;

/// Without the `password-command` feature: the configured command is
/// refused, so a build that left it out says why instead of failing
/// obscurely (tokio's process support is not compiled in).
#[cfg(not(feature = "password-command"))]
pub(crate) async fn run(
    what: &'static str,
    _command: &str,
    _timeout: Duration,
) -> Result<Zeroizing<String>, Error> {
    Err(Error::CommandNotBuilt { what })
}

/// Runs `command` with `sh -c` and returns its stdout (not trimmed).
#[cfg(feature = "password-command")]
pub(crate) async fn run(
    what: &'static str,
    command: &str,
    timeout: Duration,
) -> Result<Zeroizing<String>, Error> {
    use std::process::Stdio;
    use tokio::io::AsyncReadExt;

    let mut child = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(command)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .map_err(|source| Error::CommandSpawn { what, source })?;
    let mut stdout = child.stdout.take().ok_or_else(|| Error::CommandSpawn {
        what,
        source: std::io::Error::other("no stdout pipe"),
    })?;
    let work = async {
        let mut out = Zeroizing::new(Vec::new());
        (&mut stdout).take(MAX_OUTPUT).read_to_end(&mut out).await?;
        let status = child.wait().await?;
        Ok::<_, std::io::Error>((out, status))
    };
    let (out, status) = match tokio::time::timeout(timeout, work).await {
        Ok(Ok(done)) => done,
        Ok(Err(source)) => return Err(Error::CommandSpawn { what, source }),
        // Dropping `child` kills it (kill_on_drop).
        Err(_) => {
            return Err(Error::CommandTimedOut {
                what,
                after: timeout,
            });
        }
    };
    if !status.success() {
        tracing::debug!(what, code = ?status.code(), "secret command failed");
        return Err(Error::CommandFailed {
            what,
            code: status.code(),
        });
    }
    let text = std::str::from_utf8(&out).map_err(|_| Error::EmptySecret {
        what,
        problem: "output that is not utf-8",
    })?;
    Ok(Zeroizing::new(text.to_string()))
}

#[cfg(all(test, not(feature = "password-command")))]
mod tests_without_the_feature {
    use super::*;

    #[tokio::test]
    async fn a_command_is_refused_naming_the_feature() {
        let e = run("password command", "echo secret", Duration::from_secs(1))
            .await
            .unwrap_err();
        assert!(matches!(e, Error::CommandNotBuilt { .. }), "{e}");
        assert!(e.to_string().contains("`password-command`"), "{e}");
        assert_eq!(e.coded_hint().code, "auth-command-not-built");
    }
}

#[cfg(all(test, feature = "password-command"))]
mod tests {
    use super::*;

    const T: Duration = Duration::from_secs(10);

    #[tokio::test]
    async fn stdout_is_returned_stderr_is_dropped() {
        let out = run(
            "token command",
            "echo hidden-stderr >&2; printf 'tok\\n'",
            T,
        )
        .await
        .unwrap();
        assert_eq!(out.as_str(), "tok\n");
    }

    #[tokio::test]
    async fn failure_reports_only_the_exit_code() {
        let e = run(
            "token command",
            "echo the-secret-is-here >&2; echo also-here; exit 7",
            T,
        )
        .await
        .unwrap_err();
        let text = e.to_string();
        assert_eq!(text, "token command failed with exit code 7");
        assert!(!format!("{e:?}").contains("here"));
    }

    #[tokio::test]
    async fn slow_command_is_killed() {
        let started = std::time::Instant::now();
        let e = run("password command", "sleep 30", Duration::from_millis(300))
            .await
            .unwrap_err();
        assert!(matches!(e, Error::CommandTimedOut { .. }), "{e}");
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[tokio::test]
    async fn non_utf8_output_is_an_error() {
        let e = run("password command", "printf '\\377\\376'", T)
            .await
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "password command produced output that is not utf-8"
        );
    }
}
