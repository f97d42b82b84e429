#!/usr/bin/env python3
"""License check (CI: scripts/test.sh): only smtp-proxy, and builds that
enable it, carry GPL code.

For every publishable workspace crate, and for smtp-cli built with
--no-default-features, reads the licenses of its normal dependency closure
(`cargo tree -e normal --target all`: what ends up in the build, on every
platform; dev and build dependencies excluded) with smtp-proxy pruned, and
fails when a copyleft (GPL, LGPL, AGPL) licence is the only choice of any
crate, or a licence is outside the allow list. It also checks the other
side: smtp-proxy itself is GPL, smtp-cli's default build includes it, and
the --no-default-features build has no smtp-proxy at all, so the check can
tell the two builds apart.

Needs only cargo (no cargo-deny): cargo tree works offline once the
dependencies are fetched, as they are after the test build.
"""
import json
import re
import subprocess
import sys

# Permissive licences accepted in the closure of a non-GPL build.
ALLOWED = {
    "MIT", "Apache-2.0", "Apache-2.0 WITH LLVM-exception", "BSD-2-Clause",
    "BSD-3-Clause", "ISC", "Zlib", "Unicode-3.0", "Unicode-DFS-2016",
    "0BSD", "Unlicense", "BSL-1.0", "CDLA-Permissive-2.0", "MPL-2.0",
    "OpenSSL", "CC0-1.0",
}
COPYLEFT = re.compile(r"\b[AL]?GPL")


def cargo(*args):
    out = subprocess.run(["cargo", *args], capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"license check: cargo {' '.join(args)} failed:\n{out.stderr}")
    return out.stdout


def closure(package, *extra):
    """{(name, version): licence} of `package`'s normal dependency closure."""
    text = cargo("tree", "-q", "--locked", "-p", package, "-e", "normal", "--target", "all",
                 "--prefix", "none", "--format", "{p}|{l}", *extra)
    found = {}
    for line in text.splitlines():
        # cargo tree marks a crate it already printed with " (*)".
        line = line.removesuffix(" (*)")
        spec, _, licence = line.partition("|")
        name, version = spec.split()[:2]
        found[(name, version)] = licence.strip()
    return found


def alternatives(expr):
    """The OR-alternatives of an SPDX expression (one level of parentheses)."""
    expr = expr.replace("/", " OR ").strip()
    if expr.startswith("(") and expr.endswith(")"):
        expr = expr[1:-1]
    return [a.strip().strip("()") for a in re.split(r"\s+OR\s+", expr) if a.strip()]


def problems_in(label, found):
    problems = []
    for (name, version), licence in sorted(found.items()):
        if not licence:
            problems.append(f"{label}: {name} {version} declares no licence")
            continue
        alts = alternatives(licence)
        if all(COPYLEFT.search(a) for a in alts):
            problems.append(f"{label}: {name} {version} is {licence} (copyleft) outside smtp-proxy")
            continue
        ok = [a for a in alts if not COPYLEFT.search(a)
              and all(p.strip("() ") in ALLOWED for p in re.split(r"\s+AND\s+", a))]
        if not ok:
            problems.append(f"{label}: {name} {version} has licence {licence!r}, not in the allow list")
    return problems


def main():
    meta = json.loads(cargo("metadata", "-q", "--locked", "--no-deps", "--format-version", "1"))
    members = sorted(
        p["name"] for p in meta["packages"]
        if p["publish"] != [] and p["name"] != "smtp-proxy"
    )
    problems = []
    for name in members:
        found = closure(name)
        if any(n == "smtp-proxy" for n, _ in found):
            # Whatever only smtp-proxy brings in is allowed to be GPL.
            found = closure(name, "--prune", "smtp-proxy")
        problems += problems_in(name, found)
    lean = closure("smtp-cli", "--no-default-features")
    problems += problems_in("smtp-cli --no-default-features", lean)
    if any(n == "smtp-proxy" for n, _ in lean):
        problems.append("smtp-cli --no-default-features still depends on smtp-proxy")

    # The other side, so the check is known to see GPL when it is there.
    proxy = closure("smtp-proxy")
    if not COPYLEFT.search(proxy.get(next(k for k in proxy if k[0] == "smtp-proxy"), "")):
        problems.append("smtp-proxy is expected to be GPL; update this check with its licence")
    if not any(n == "smtp-proxy" for n, _ in closure("smtp-cli")):
        problems.append("smtp-cli's default build is expected to include smtp-proxy")

    checked = ", ".join(members)
    if problems:
        print("license check FAILED:\n  " + "\n  ".join(problems), file=sys.stderr)
        return 1
    print(f"license check ok: no copyleft outside smtp-proxy in {checked} and smtp-cli --no-default-features")
    return 0


if __name__ == "__main__":
    sys.exit(main())
