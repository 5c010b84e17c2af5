//! Checks that the committed registry pages under `docs/` match what `sips::docs` renders.
//!
//! With `SIPS_UPDATE_DOCS=1` the test rewrites the pages instead, and deletes generated pages
//! whose resource or data source no longer exists.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use sips::docs::{self, GENERATED_DIRS, Page, UPDATE_COMMAND};
use sips::provider::SipsProvider;

fn repository_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn update_requested() -> bool {
    std::env::var_os("SIPS_UPDATE_DOCS").is_some_and(|value| value == "1")
}

/// Lists the Markdown files in the generated directories, relative to the repository root.
fn committed_generated_pages(root: &Path) -> BTreeSet<PathBuf> {
    let mut pages = BTreeSet::new();
    for directory in GENERATED_DIRS {
        let Ok(entries) = fs::read_dir(root.join(directory)) else {
            continue;
        };
        for entry in entries {
            let path = Path::new(directory).join(entry.unwrap().file_name());
            if path.extension().is_some_and(|extension| extension == "md") {
                pages.insert(path);
            }
        }
    }
    pages
}

fn write_pages(root: &Path, pages: &[Page], stale: &BTreeSet<PathBuf>) {
    for page in pages {
        let path = root.join(&page.path);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, &page.content).unwrap();
    }
    for path in stale {
        fs::remove_file(root.join(path)).unwrap();
    }
}

/// Returns one line per page that is missing, differs, or belongs to no registered type.
fn differences(root: &Path, pages: &[Page], stale: &BTreeSet<PathBuf>) -> Vec<String> {
    let mut problems = Vec::new();
    for page in pages {
        match fs::read_to_string(root.join(&page.path)) {
            Ok(committed) if committed == page.content => {}
            Ok(_) => problems.push(format!("{} is out of date", page.path.display())),
            Err(_) => problems.push(format!("{} is missing", page.path.display())),
        }
    }
    for path in stale {
        problems.push(format!("{} documents no registered type", path.display()));
    }
    problems
}

#[test]
fn docs_are_up_to_date() {
    let root = repository_root();
    let pages = docs::render_provider(&SipsProvider, root).unwrap_or_else(|error| {
        panic!("rendering the docs failed: {error}");
    });
    let rendered: BTreeSet<PathBuf> = pages.iter().map(|page| page.path.clone()).collect();
    let stale: BTreeSet<PathBuf> = committed_generated_pages(root)
        .difference(&rendered)
        .cloned()
        .collect();

    if update_requested() {
        write_pages(root, &pages, &stale);
        return;
    }
    let problems = differences(root, &pages, &stale);
    assert!(
        problems.is_empty(),
        "generated docs differ from the schemas and templates:\n  {}\nRun `{UPDATE_COMMAND}` \
         and commit the result.",
        problems.join("\n  ")
    );
}

#[test]
fn every_type_has_a_page() {
    let pages = docs::render_provider(&SipsProvider, repository_root()).unwrap();
    let paths: Vec<String> = pages
        .iter()
        .map(|page| page.path.display().to_string())
        .collect();
    assert!(paths.contains(&"docs/index.md".to_owned()), "{paths:?}");
    assert!(
        paths.contains(&"docs/resources/rotation_policy.md".to_owned()),
        "{paths:?}"
    );
}
