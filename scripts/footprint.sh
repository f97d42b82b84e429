#!/usr/bin/env bash
# What an integrator pays to build us, next to lettre for the same job
# (issue 21): crates in the dependency tree and a clean release build of a
# one-file program, wall and CPU seconds, one build after the other.
#
#   scripts/footprint.sh                 # ~5 minutes on 2 cores
#   FOOTPRINT_TIMINGS=1 scripts/footprint.sh   # also cargo --timings HTML reports
#   FOOTPRINT_KEEP=1 scripts/footprint.sh      # keep the temp dir (programs, targets)
#   FOOTPRINT_BUILD="ours lettre" scripts/footprint.sh   # build only these (crates are counted for all)
#   FOOTPRINT_FEATURES=1 scripts/footprint.sh  # + what each optional feature adds (crates, CPU)
#
# Programs (generated in a temp dir, each its own workspace and target dir):
#   ours           smtp-core + smtp-transport-tls + smtp-auth (path deps of
#                  this checkout) with the features an app-password user
#                  needs: STARTTLS, AUTH PLAIN/LOGIN, Mozilla roots, ring.
#   ours+message   the same + smtp-message (composition: mail-builder,
#                  mail-parser).
#   lettre         lettre 0.11 from crates.io: SMTP, pool, tokio + rustls
#                  (ring, webpki-roots) and its message builder.
# Our programs use this checkout's Cargo.lock (the versions CI tests);
# lettre's gets the newest it allows. Sources are fetched before any clock
# starts. Crates are the unique name+version pairs of
# `cargo tree -e normal,build` (build scripts and proc macros count: they
# are compiled too), the program itself not counted.
# Targets (issue 21): ours has fewer crates than lettre and builds in
# <= 0.8x its wall time; ours+message has no more crates than lettre.
# Results and method: docs/benchmarks.md#integrator-footprint. Not run in CI.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/smtp-footprint.XXXXXX)
if [ -z "${FOOTPRINT_KEEP:-}" ]; then
    trap 'rm -rf "$work"' EXIT
else
    echo "keeping $work"
fi
# An inherited target dir would make every build share (and skip) work.
unset CARGO_TARGET_DIR CARGO_BUILD_TARGET_DIR RUSTFLAGS CARGO_ENCODED_RUSTFLAGS
export CARGO_INCREMENTAL=0

timings=()
[ -n "${FOOTPRINT_TIMINGS:-}" ] && timings=(--timings)

for tool in cargo /usr/bin/time awk; do
    command -v "$tool" >/dev/null || { echo "footprint: $tool not found" >&2; exit 2; }
done

# $1 name, $2 dependency lines, $3 main.rs
program() {
    mkdir -p "$work/$1/src"
    cat >"$work/$1/Cargo.toml" <<EOF
[package]
name = "footprint-$1"
version = "0.0.0"
edition = "2024"
publish = false

[workspace]

[dependencies]
$2
EOF
    printf '%s\n' "$3" >"$work/$1/src/main.rs"
}

ours_deps="smtp-core = { path = \"$repo/smtp-core\" }
smtp-transport-tls = { path = \"$repo/smtp-transport-tls\" }
smtp-auth = { path = \"$repo/smtp-auth\", default-features = false }
tokio = { version = \"1\", features = [\"rt\", \"macros\"] }"

ours_main='use std::sync::Arc;

use smtp_auth::{Credentials, SaslAuthenticator};
use smtp_core::{Address, Envelope, MessageSource, Transport};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let password = std::env::var("SMTP_PASSWORD")?;
    let auth = SaslAuthenticator::builder()
        .credentials(Credentials::password("me@example.com", password))
        .build()?;
    let transport = smtp_transport_tls::starttls_required("smtp.example.com")
        .authenticator(Arc::new(auth))
        .build()?;
    let envelope = Envelope::new(
        Some(Address::new("me@example.com")?),
        vec![Address::new("you@example.org")?],
    )?;
    let body = b"From: me@example.com\r\nTo: you@example.org\r\nSubject: hi\r\n\r\nhello\r\n";
    transport.send(&envelope, MessageSource::from_bytes(body.to_vec())).await?;
    Ok(())
}'

message_main='use std::sync::Arc;

use smtp_auth::{Credentials, SaslAuthenticator};
use smtp_core::Transport;
use smtp_message::Composer;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let password = std::env::var("SMTP_PASSWORD")?;
    let auth = SaslAuthenticator::builder()
        .credentials(Credentials::password("me@example.com", password))
        .build()?;
    let transport = smtp_transport_tls::starttls_required("smtp.example.com")
        .authenticator(Arc::new(auth))
        .build()?;
    let message = Composer::new("me@example.com")
        .to("you@example.org")
        .subject("hi")
        .text_body("hello\n")
        .build()?;
    transport.send(message.envelope(), message.open().await?).await?;
    Ok(())
}'

lettre_main='use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let password = std::env::var("SMTP_PASSWORD")?;
    let message = Message::builder()
        .from("me@example.com".parse()?)
        .to("you@example.org".parse()?)
        .subject("hi")
        .body(String::from("hello\n"))?;
    let transport = AsyncSmtpTransport::<Tokio1Executor>::starttls_relay("smtp.example.com")?
        .credentials(Credentials::new("me@example.com".into(), password))
        .build();
    transport.send(message).await?;
    Ok(())
}'

program ours "$ours_deps" "$ours_main"
program ours-message "$ours_deps
smtp-message = { path = \"$repo/smtp-message\" }" "$message_main"
program lettre 'lettre = { version = "0.11", default-features = false, features = ["smtp-transport", "pool", "tokio1-rustls", "ring", "webpki-roots", "builder"] }
tokio = { version = "1", features = ["rt", "macros"] }' "$lettre_main"

names=(ours ours-message lettre)
for name in "${names[@]}"; do
    case $name in
    ours*) cp "$repo/Cargo.lock" "$work/$name/Cargo.lock" ;;
    esac
    (cd "$work/$name" && cargo fetch --quiet) || { echo "footprint: cargo fetch failed for $name" >&2; exit 2; }
done

declare -A crates wall cpu
for name in "${names[@]}"; do
    crates[$name]=$(cd "$work/$name" && cargo tree -e normal,build --prefix none --offline |
        awk '{print $1, $2}' | sort -u | grep -vc "^footprint-")
done

lettre_version=$(cd "$work/lettre" && cargo tree -e normal --prefix none --offline -i lettre --depth 0 | awk '{print $2}')

# Back to back, each in a fresh target dir: the machine's load when one
# build runs is the load when the next one does, or close to it.
read -r -a builds <<<"${FOOTPRINT_BUILD:-${names[*]}}"
for name in "${builds[@]}"; do
    echo "building $name (clean release)..." >&2
    (cd "$work/$name" &&
        /usr/bin/time -f '%e %U %S' -o "$work/$name.time" \
            cargo build --release --offline --quiet --target-dir "$work/target-$name" "${timings[@]}") ||
        { echo "footprint: build of $name failed" >&2; exit 1; }
    read -r e u s <"$work/$name.time"
    wall[$name]=$e
    cpu[$name]=$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.1f", u + s }')
    if [ -n "${FOOTPRINT_TIMINGS:-}" ]; then
        mkdir -p "$repo/target/footprint"
        cp "$work/target-$name"/cargo-timings/cargo-timing.html "$repo/target/footprint/$name.html"
    fi
done

# What each optional feature adds to "ours": its crates, and the CPU of
# the release build that turning it on costs once "ours" is built (the new
# crates plus the plugin crate and the program rebuilt with it), each from
# a copy of the built "ours" target dir so the rows do not share work.
feature_rows=()
if [ -n "${FOOTPRINT_FEATURES:-}" ]; then
    base_target="$work/target-features-base"
    (cd "$work/ours" && cargo build --release --offline --quiet --target-dir "$base_target") ||
        { echo "footprint: base build for the feature rows failed" >&2; exit 1; }
    for spec in smtp-transport-tls:platform-roots smtp-transport-tls:cert-details \
        smtp-auth:password-command smtp-auth:scram smtp-auth:cram-md5 smtp-auth:ntlm \
        smtp-auth:refresh-token crate:smtp-message; do
        crate=${spec%%:*} feature=${spec#*:}
        dir="$work/feature-$feature"
        rm -rf "$dir" && cp -r "$work/ours" "$dir"
        rm -rf "$dir/target"
        case $crate in
        crate) printf '%s = { path = "%s/%s" }\n' "$feature" "$repo" "$feature" >>"$dir/Cargo.toml" ;;
        smtp-transport-tls) sed -i "s|^smtp-transport-tls = { path = \"\([^\"]*\)\" }|smtp-transport-tls = { path = \"\\1\", features = [\"$feature\"] }|" "$dir/Cargo.toml" ;;
        smtp-auth) sed -i "s|default-features = false }|default-features = false, features = [\"$feature\"] }|" "$dir/Cargo.toml" ;;
        esac
        n=$(cd "$dir" && cargo tree -e normal,build --prefix none --offline | awk '{print $1, $2}' | sort -u | grep -vc "^footprint-")
        cp -a "$base_target" "$dir/target-build"
        (cd "$dir" && /usr/bin/time -f '%e %U %S' -o "$dir.time" \
            cargo build --release --offline --quiet --target-dir "$dir/target-build") ||
            { echo "footprint: build with $spec failed" >&2; exit 1; }
        read -r e u s <"$dir.time"
        rm -rf "$dir/target-build"
        feature_rows+=("| $crate \`$feature\` | +$((n - crates[ours])) | $(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.1f", u + s }') s |")
    done
fi

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "") print "-"; else printf "%.2f", a / b }'; }

echo
echo "$(nproc) cores, $(rustc --version | awk '{print $1, $2}'), lettre $lettre_version, $(date -u +%Y-%m-%d)"
echo
echo "| program | crates | clean release build | wall / lettre | CPU / lettre |"
echo "|---|---:|---:|---:|---:|"
label() {
    case $1 in
    ours) echo "smtp-core + smtp-transport-tls + smtp-auth (PLAIN/LOGIN, ring, webpki-roots)" ;;
    ours-message) echo "the same + smtp-message (composition)" ;;
    lettre) echo "lettre $lettre_version: SMTP, pool, tokio + rustls (ring, webpki-roots), builder" ;;
    esac
}
for name in "${names[@]}"; do
    build="not built"
    [ -n "${wall[$name]:-}" ] && build="${wall[$name]} s wall, ${cpu[$name]} s CPU"
    printf '| %s | %s | %s | %s | %s |\n' "$(label "$name")" "${crates[$name]}" "$build" \
        "$(ratio "${wall[$name]:-}" "${wall[lettre]:-}")" "$(ratio "${cpu[$name]:-}" "${cpu[lettre]:-}")"
done
echo
verdict() { if [ "$1" = 1 ]; then echo met; else echo "NOT met"; fi; }
ours=${crates[ours]} message=${crates[ours-message]} lettre=${crates[lettre]}
wall_ratio=$(ratio "${wall[ours]:-}" "${wall[lettre]:-}")
echo "targets: ours fewer crates than lettre ($ours < $lettre): $(verdict "$((ours < lettre))");" \
    "ours wall <= 0.8x lettre's ($wall_ratio): $(verdict "$(awk -v r="$wall_ratio" 'BEGIN { print (r != "-" && r <= 0.8) }')");" \
    "ours+message no more crates than lettre ($message <= $lettre): $(verdict "$((message <= lettre))")"
if [ ${#feature_rows[@]} -gt 0 ]; then
    echo
    echo "| feature (on top of ours) | crates added | CPU of the extra release build |"
    echo "|---|---:|---:|"
    printf '%s\n' "${feature_rows[@]}"
fi
