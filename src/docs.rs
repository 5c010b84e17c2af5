//! Registry documentation generated from the provider's schemas and the templates in `templates/`.
//!
//! Pages follow the Terraform registry layout: `docs/index.md` for the provider,
//! `docs/resources/<name>.md` and `docs/data-sources/<name>.md`, where `<name>` is the type name
//! without the `sips_` prefix. Each page is YAML front matter followed by its template
//! (`templates/index.md.tmpl`, `templates/resources/<name>.md.tmpl`,
//! `templates/data-sources/<name>.md.tmpl`) with these placeholders replaced:
//!
//! - `{{ name }}`: the type name, such as `sips_rotation_policy`, or `sips` for the provider.
//! - `{{ description }}`: the schema's description.
//! - `{{ schema }}`: the attribute reference, built from the schema: Required, Optional and
//!   Read-Only attributes with type, description, default, validator rules and replacement
//!   notes, then one section per nested block or object attribute.
//! - `{{ example PATH }}`: the file at PATH, relative to the repository root, in a fenced code
//!   block (`terraform` for `.tf` files, `shell` for `.sh` files).
//!
//! A type without a template gets a default page: heading, description, the examples under
//! `examples/` that exist for it, and the schema. Guides in `docs/guides/` are written by hand
//! and not generated.
//!
//! `tests/docs.rs` renders every page and fails when a committed page differs. To rewrite the
//! pages after changing a schema, a template or an example, run:
//!
//! ```text
//! SIPS_UPDATE_DOCS=1 cargo test --test docs
//! ```

mod schema;

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::framework::{Provider, Schema};

pub use schema::schema_markdown;

/// Name of the provider, and with `_` the prefix of every type name.
pub const PROVIDER_NAME: &str = "sips";

/// Command that rewrites the generated pages.
pub const UPDATE_COMMAND: &str = "SIPS_UPDATE_DOCS=1 cargo test --test docs";

/// Directories, relative to the repository root, that contain only generated pages.
pub const GENERATED_DIRS: &[&str] = &[
    "docs/resources",
    "docs/data-sources",
    "docs/ephemeral-resources",
];

/// Errors from rendering the documentation.
#[derive(Debug, thiserror::Error)]
pub enum DocsError {
    #[error("failed to read {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    #[error("template {}: placeholder opened with `{{{{` is never closed", template.display())]
    UnclosedPlaceholder { template: PathBuf },

    #[error("template {}: unknown placeholder `{placeholder}`", template.display())]
    UnknownPlaceholder {
        template: PathBuf,
        placeholder: String,
    },
}

/// Kind of object that a page documents.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PageKind {
    Provider,
    Resource,
    DataSource,
    EphemeralResource,
}

impl PageKind {
    /// Returns the label used in headings and page titles.
    fn label(self) -> &'static str {
        match self {
            Self::Provider => "Provider",
            Self::Resource => "Resource",
            Self::DataSource => "Data Source",
            Self::EphemeralResource => "Ephemeral Resource",
        }
    }

    /// Returns the registry's directory for this kind, below `docs/` and `templates/`.
    fn directory(self) -> &'static str {
        match self {
            Self::Provider => "",
            Self::Resource => "resources",
            Self::DataSource => "data-sources",
            Self::EphemeralResource => "ephemeral-resources",
        }
    }
}

/// One provider, resource or data source to document.
#[derive(Clone, Debug)]
pub struct Subject {
    pub kind: PageKind,
    /// The type name, or [`PROVIDER_NAME`] for the provider.
    pub type_name: String,
    pub schema: Schema,
}

impl Subject {
    /// Returns the type name without the provider prefix, as page and template file names use it.
    fn short_name(&self) -> &str {
        let prefix = format!("{PROVIDER_NAME}_");
        self.type_name
            .strip_prefix(&prefix)
            .unwrap_or(&self.type_name)
    }

    /// Returns the path of the page relative to the repository root.
    pub fn page_path(&self) -> PathBuf {
        match self.kind {
            PageKind::Provider => PathBuf::from("docs/index.md"),
            kind => Path::new("docs")
                .join(kind.directory())
                .join(format!("{}.md", self.short_name())),
        }
    }

    /// Returns the path of the template relative to the repository root.
    pub fn template_path(&self) -> PathBuf {
        match self.kind {
            PageKind::Provider => PathBuf::from("templates/index.md.tmpl"),
            kind => Path::new("templates")
                .join(kind.directory())
                .join(format!("{}.md.tmpl", self.short_name())),
        }
    }

    /// Returns the conventional example files of this subject, relative to the repository
    /// root: the usage example, then the import command for resources.
    fn example_paths(&self) -> Vec<String> {
        match self.kind {
            PageKind::Provider => vec!["examples/provider/provider.tf".to_owned()],
            PageKind::Resource => vec![
                format!("examples/resources/{}/resource.tf", self.type_name),
                format!("examples/resources/{}/import.sh", self.type_name),
            ],
            PageKind::DataSource => {
                vec![format!(
                    "examples/data-sources/{}/data-source.tf",
                    self.type_name
                )]
            }
            PageKind::EphemeralResource => {
                vec![format!(
                    "examples/ephemeral-resources/{}/ephemeral-resource.tf",
                    self.type_name
                )]
            }
        }
    }
}

/// A rendered page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page {
    /// Path relative to the repository root.
    pub path: PathBuf,
    pub content: String,
}

/// Lists the provider and every resource and data source that `provider` registers.
pub fn subjects<P: Provider>(provider: &P) -> Vec<Subject> {
    let mut subjects = vec![Subject {
        kind: PageKind::Provider,
        type_name: PROVIDER_NAME.to_owned(),
        schema: provider.schema(),
    }];
    for resource in provider.resources() {
        subjects.push(Subject {
            kind: PageKind::Resource,
            type_name: resource.type_name().to_owned(),
            schema: resource.schema(),
        });
    }
    for data_source in provider.data_sources() {
        subjects.push(Subject {
            kind: PageKind::DataSource,
            type_name: data_source.type_name().to_owned(),
            schema: data_source.schema(),
        });
    }
    for ephemeral in provider.ephemeral_resources() {
        subjects.push(Subject {
            kind: PageKind::EphemeralResource,
            type_name: ephemeral.type_name().to_owned(),
            schema: ephemeral.schema(),
        });
    }
    subjects
}

/// Renders every page of `provider`, reading templates and examples below `root`.
pub fn render_provider<P: Provider>(provider: &P, root: &Path) -> Result<Vec<Page>, DocsError> {
    subjects(provider)
        .iter()
        .map(|subject| render_page(root, subject))
        .collect()
}

/// Renders the page of one subject from its template, or from the default page.
pub fn render_page(root: &Path, subject: &Subject) -> Result<Page, DocsError> {
    let template_path = subject.template_path();
    let template = match fs::read_to_string(root.join(&template_path)) {
        Ok(text) => text,
        Err(error) if error.kind() == io::ErrorKind::NotFound => default_template(root, subject),
        Err(source) => {
            return Err(DocsError::Read {
                path: template_path,
                source,
            });
        }
    };
    let body = expand(&template, &template_path, root, subject)?;
    let content = format!("{}\n{}", front_matter(subject), tidy(&body));
    Ok(Page {
        path: subject.page_path(),
        content,
    })
}

/// Builds the page of a subject that has no template yet.
fn default_template(root: &Path, subject: &Subject) -> String {
    let examples = subject.example_paths();
    let existing = |index: usize| examples.get(index).filter(|path| root.join(path).is_file());
    let mut parts = vec![
        format!("# {} ({})", placeholder_tag("name"), subject.kind.label()),
        placeholder_tag("description"),
    ];
    if let Some(usage) = existing(0) {
        parts.push("## Example Usage".to_owned());
        parts.push(placeholder_tag(&format!("example {usage}")));
    }
    parts.push(placeholder_tag("schema"));
    if let Some(import) = existing(1) {
        parts.push("## Import".to_owned());
        parts.push(placeholder_tag(&format!("example {import}")));
    }
    parts.join("\n\n") + "\n"
}

fn placeholder_tag(text: &str) -> String {
    format!("{{{{ {text} }}}}")
}

/// Writes the YAML front matter that the registry reads: title, subcategory and description.
fn front_matter(subject: &Subject) -> String {
    let title = match subject.kind {
        PageKind::Provider => format!("{PROVIDER_NAME} Provider"),
        kind => format!(
            "{} {} - terraform-provider-{PROVIDER_NAME}",
            subject.type_name,
            kind.label()
        ),
    };
    let description: String = subject
        .schema
        .block
        .description
        .lines()
        .map(|line| format!("  {line}\n"))
        .collect();
    format!(
        "---\n\
         # Generated from the provider schema and templates/; run `{UPDATE_COMMAND}`.\n\
         page_title: \"{title}\"\n\
         subcategory: \"\"\n\
         description: |-\n\
         {description}---\n"
    )
}

/// Replaces every `{{ ... }}` placeholder in `template`.
fn expand(
    template: &str,
    template_path: &Path,
    root: &Path,
    subject: &Subject,
) -> Result<String, DocsError> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let inner = &rest[start + 2..];
        let Some(end) = inner.find("}}") else {
            return Err(DocsError::UnclosedPlaceholder {
                template: template_path.to_owned(),
            });
        };
        out.push_str(&placeholder(
            inner[..end].trim(),
            template_path,
            root,
            subject,
        )?);
        rest = &inner[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

fn placeholder(
    text: &str,
    template_path: &Path,
    root: &Path,
    subject: &Subject,
) -> Result<String, DocsError> {
    let (directive, argument) = text.split_once(char::is_whitespace).unwrap_or((text, ""));
    match (directive, argument.trim().trim_matches('"')) {
        ("name", "") => Ok(subject.type_name.clone()),
        ("description", "") => Ok(subject.schema.block.description.clone()),
        ("schema", "") => Ok(schema_markdown(&subject.schema.block, subject.kind)),
        ("example", path) if !path.is_empty() => example_block(root, path),
        _ => Err(DocsError::UnknownPlaceholder {
            template: template_path.to_owned(),
            placeholder: text.to_owned(),
        }),
    }
}

/// Reads an example file into a fenced code block.
fn example_block(root: &Path, path: &str) -> Result<String, DocsError> {
    let text = fs::read_to_string(root.join(path)).map_err(|source| DocsError::Read {
        path: PathBuf::from(path),
        source,
    })?;
    let language = match Path::new(path).extension().and_then(|e| e.to_str()) {
        Some("tf") => "terraform",
        Some("sh") => "shell",
        Some("json") => "json",
        _ => "text",
    };
    Ok(format!("```{language}\n{}\n```", text.trim_end()))
}

/// Strips trailing spaces, collapses runs of blank lines outside code blocks, and ends the
/// text with one newline. Templates can then leave blank lines around placeholders freely.
fn tidy(text: &str) -> String {
    let mut out = String::new();
    let mut in_code = false;
    let mut blank_run = 0;
    for line in text.trim().lines().map(str::trim_end) {
        if line.starts_with("```") {
            in_code = !in_code;
        }
        blank_run = if line.is_empty() { blank_run + 1 } else { 0 };
        if in_code || blank_run < 2 {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::{Attribute, Block, NestedBlock, Nesting, OneOf};
    use crate::value::{Type, Value};

    fn sample_schema() -> Schema {
        let inner = Block::new("Inner settings.").attribute(Attribute::required(
            "role",
            Type::String,
            "Role to use.",
        ));
        let outer = Block::new("Outer settings.")
            .attribute(Attribute::optional(
                "region",
                Type::String,
                "Region to use.",
            ))
            .block(NestedBlock::new("inner", Nesting::Single, inner));
        let block = Block::new("A sample resource.")
            .attribute(Attribute::required("name", Type::String, "Name.").force_new())
            .attribute(
                Attribute::required(
                    "zone",
                    Type::String,
                    "Zone. Changing it replaces the resource.",
                )
                .force_new(),
            )
            .attribute(
                Attribute::optional("mode", Type::String, "Mode.")
                    .default(Value::string("fast"))
                    .validate(OneOf(&["fast", "slow"])),
            )
            .attribute(
                Attribute::optional("days", Type::Number, "Days. Defaults to 3.")
                    .default(Value::int(3)),
            )
            .attribute(Attribute::optional("secret_wo", Type::String, "Secret.").write_only())
            .attribute(Attribute::computed(
                "summary",
                Type::object([("count", Type::Number)]),
                "Summary.",
            ))
            .block(NestedBlock::new("outer", Nesting::List, outer));
        Schema { version: 0, block }
    }

    fn sample_subject() -> Subject {
        Subject {
            kind: PageKind::Resource,
            type_name: "sips_sample".to_owned(),
            schema: sample_schema(),
        }
    }

    fn line_of<'a>(text: &'a str, start: &str) -> &'a str {
        text.lines()
            .find(|line| line.starts_with(start))
            .unwrap_or_else(|| panic!("no line starts with {start:?} in:\n{text}"))
    }

    #[test]
    fn schema_groups_attributes() {
        let markdown = schema_markdown(&sample_schema().block, PageKind::Resource);
        let required = markdown.find("### Required").unwrap();
        let optional = markdown.find("### Optional").unwrap();
        let read_only = markdown.find("### Read-Only").unwrap();
        assert!(required < optional, "{markdown}");
        assert!(optional < read_only, "{markdown}");
        assert!(markdown.find("- `name`").unwrap() < optional, "{markdown}");
        assert!(
            markdown.find("- `summary`").unwrap() > read_only,
            "{markdown}"
        );
    }

    #[test]
    fn schema_notes_per_attribute() {
        let markdown = schema_markdown(&sample_schema().block, PageKind::Resource);
        assert_eq!(
            line_of(&markdown, "- `name`"),
            "- `name` (String) Name. Changing this forces a new resource."
        );
        assert_eq!(
            line_of(&markdown, "- `mode`"),
            "- `mode` (String) Mode. Defaults to `\"fast\"`. Must be one of \"fast\", \"slow\"."
        );
        assert_eq!(
            line_of(&markdown, "- `days`"),
            "- `days` (Number) Days. Defaults to 3."
        );
        let secret = line_of(&markdown, "- `secret_wo`");
        assert!(secret.starts_with("- `secret_wo` (String, Sensitive, Write-only) Secret."));
        assert!(
            secret.contains("stays out of the plan and state"),
            "{secret}"
        );
    }

    #[test]
    fn schema_nested_sections() {
        let markdown = schema_markdown(&sample_schema().block, PageKind::Resource);
        assert_eq!(
            line_of(&markdown, "- `outer`"),
            "- `outer` (Block List) Outer settings. \
             (see [below for nested schema](#nestedblock--outer))"
        );
        assert!(
            markdown.contains("<a id=\"nestedblock--outer\"></a>\n### Nested Schema for `outer`")
        );
        assert!(markdown.contains(
            "<a id=\"nestedblock--outer--inner\"></a>\n### Nested Schema for `outer.inner`"
        ));
        assert!(markdown.contains("`outer.inner`\n\nRequired:\n\n- `role` (String) Role to use."));
        assert!(
            markdown.contains("<a id=\"nestedatt--summary\"></a>"),
            "{markdown}"
        );
        assert!(markdown.contains("- `count` (Number)"), "{markdown}");
    }

    #[test]
    fn provider_attributes_never_force_new() {
        let markdown = schema_markdown(&sample_schema().block, PageKind::Provider);
        assert!(!markdown.contains("forces a new resource"), "{markdown}");
    }

    #[test]
    fn default_page_embeds_existing_examples() {
        let root = tempfile::tempdir().unwrap();
        let examples = root.path().join("examples/resources/sips_sample");
        fs::create_dir_all(&examples).unwrap();
        fs::write(
            examples.join("resource.tf"),
            "resource \"sips_sample\" \"x\" {}\n",
        )
        .unwrap();

        let page = render_page(root.path(), &sample_subject()).unwrap();

        assert_eq!(page.path, PathBuf::from("docs/resources/sample.md"));
        assert!(
            page.content
                .contains("# sips_sample (Resource)\n\nA sample resource.\n")
        );
        assert!(
            page.content
                .contains("## Example Usage\n\n```terraform\nresource \"sips_sample\"")
        );
        assert!(page.content.contains("## Schema\n"));
        assert!(!page.content.contains("## Import"), "{}", page.content);
    }

    #[test]
    fn front_matter_for_registry() {
        let root = tempfile::tempdir().unwrap();
        let page = render_page(root.path(), &sample_subject()).unwrap();
        let expected_start = "---\n# Generated from the provider schema and templates/; run \
             `SIPS_UPDATE_DOCS=1 cargo test --test docs`.\n\
             page_title: \"sips_sample Resource - terraform-provider-sips\"\n\
             subcategory: \"\"\n\
             description: |-\n  A sample resource.\n---\n\n# sips_sample";
        assert!(page.content.starts_with(expected_start), "{}", page.content);
    }

    #[test]
    fn template_placeholders_expand() {
        let root = tempfile::tempdir().unwrap();
        let templates = root.path().join("templates/resources");
        fs::create_dir_all(&templates).unwrap();
        fs::write(
            root.path().join("import.sh"),
            "terraform import sips_sample.x x\n",
        )
        .unwrap();
        let template = "# {{ name }}\n\n{{description}}\n\n{{ example \"import.sh\" }}\n";
        fs::write(templates.join("sample.md.tmpl"), template).unwrap();

        let page = render_page(root.path(), &sample_subject()).unwrap();

        let body = page.content.split_once("---\n\n").unwrap().1;
        assert_eq!(
            body,
            "# sips_sample\n\nA sample resource.\n\n```shell\nterraform import sips_sample.x x\n```\n"
        );
    }

    #[test]
    fn template_errors_name_the_template() {
        let root = tempfile::tempdir().unwrap();
        let templates = root.path().join("templates/resources");
        fs::create_dir_all(&templates).unwrap();
        let cases = [
            ("{{ nmae }}", "unknown placeholder `nmae`"),
            ("{{ schema", "placeholder opened with `{{` is never closed"),
            ("{{ example missing.tf }}", "failed to read missing.tf"),
        ];
        for (template, message) in cases {
            fs::write(templates.join("sample.md.tmpl"), template).unwrap();
            let error = render_page(root.path(), &sample_subject()).unwrap_err();
            assert!(error.to_string().contains(message), "{template}: {error}");
        }
    }

    #[test]
    fn tidy_collapses_blank_lines() {
        assert_eq!(tidy("\n\na  \n\n\n\nb\n\n"), "a\n\nb\n");
    }

    #[test]
    fn tidy_keeps_code_blocks() {
        let text = "a\n\n```terraform\nx = 1\n\n\ny = 2\n```\n\n\nb\n";
        assert_eq!(
            tidy(text),
            "a\n\n```terraform\nx = 1\n\n\ny = 2\n```\n\nb\n"
        );
    }
}
