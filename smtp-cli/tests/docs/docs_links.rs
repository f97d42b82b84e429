//! Every relative link in docs/*.md and the READMEs points at a file or
//! directory that exists: documentation moves with the code it names.

use std::path::{Path, PathBuf};

fn markdown_files(root: &Path) -> Vec<PathBuf> {
    let mut files = vec![root.join("README.md")];
    for dir in ["docs", "scripts/peers"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
            continue;
        };
        files.extend(
            entries
                .map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|e| e == "md")),
        );
    }
    for entry in std::fs::read_dir(root).unwrap() {
        let readme = entry.unwrap().path().join("README.md");
        if readme.is_file() {
            files.push(readme);
        }
    }
    files.sort();
    files
}

/// The targets of `[text](target)` links, in order.
fn link_targets(text: &str) -> Vec<&str> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("](") {
        rest = &rest[at + 2..];
        if let Some(end) = rest.find(')') {
            found.push(rest[..end].split_whitespace().next().unwrap_or(""));
            rest = &rest[end..];
        }
    }
    found
}

#[test]
fn relative_links_in_docs_and_readmes_resolve() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let files = markdown_files(root);
    assert!(files.len() > 10, "found only {files:?}");
    let mut dead = Vec::new();
    let mut checked = 0;
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        for target in link_targets(&text) {
            // Crate READMEs are also rustdoc pages: `smtp_core::Hint` is an
            // intra-doc link, checked by `cargo doc` with `-D warnings`.
            if target.is_empty()
                || target.starts_with('#')
                || target.contains("://")
                || target.contains("::")
                || target.starts_with("mailto:")
            {
                continue;
            }
            let path = target.split('#').next().unwrap();
            checked += 1;
            if !file.parent().unwrap().join(path).exists() {
                dead.push(format!(
                    "{}: {target}",
                    file.strip_prefix(root).unwrap().display()
                ));
            }
        }
    }
    assert!(
        checked > 20,
        "only {checked} relative links found: is the parser broken?"
    );
    assert!(dead.is_empty(), "dead links:\n{}", dead.join("\n"));
}

#[test]
fn the_link_parser_finds_links() {
    assert_eq!(
        link_targets("see [a](a.md) and [b](../b.md#x \"title\") [c]"),
        ["a.md", "../b.md#x"]
    );
}
