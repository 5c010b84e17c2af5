//! The attribute reference of a schema in Markdown: the Required, Optional and Read-Only lists
//! that the registry shows, and an anchored section per nested block or object attribute.

use std::collections::{BTreeMap, VecDeque};
use std::fmt::{self, Write as _};

use super::PageKind;
use crate::framework::{Attribute, Block, NestedBlock, Nesting};
use crate::value::{Type, Value};

/// A section of the schema reference below the top-level lists.
enum Nested<'a> {
    Block(&'a Block),
    Object(&'a BTreeMap<String, Type>),
}

struct Section<'a> {
    /// Names from the top-level block down to this one.
    path: Vec<String>,
    nested: Nested<'a>,
}

impl Section<'_> {
    fn anchor(&self) -> String {
        let prefix = match self.nested {
            Nested::Block(_) => "nestedblock",
            Nested::Object(_) => "nestedatt",
        };
        format!("{prefix}--{}", self.path.join("--"))
    }
}

/// The list of a block's reference in which an attribute or nested block appears.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Group {
    Required,
    Optional,
    ReadOnly,
}

impl Group {
    const ALL: [Group; 3] = [Group::Required, Group::Optional, Group::ReadOnly];

    fn heading(self) -> &'static str {
        match self {
            Group::Required => "Required",
            Group::Optional => "Optional",
            Group::ReadOnly => "Read-Only",
        }
    }

    fn of_attribute(attribute: &Attribute) -> Group {
        if attribute.required {
            Group::Required
        } else if attribute.optional {
            Group::Optional
        } else {
            Group::ReadOnly
        }
    }

    fn of_block(nested: &NestedBlock) -> Group {
        if nested.min_items > 0 {
            Group::Required
        } else {
            Group::Optional
        }
    }
}

/// Renders the attribute reference of `block`: a `## Schema` heading, the Required, Optional
/// and Read-Only lists, and one anchored section per nested block or object attribute.
pub fn schema_markdown(block: &Block, kind: PageKind) -> String {
    let mut out = String::new();
    write_schema(&mut out, block, kind).expect("writing to a String cannot fail");
    out
}

fn write_schema(out: &mut String, block: &Block, kind: PageKind) -> fmt::Result {
    out.push_str("## Schema\n");
    let mut queue = VecDeque::new();
    write_block(out, block, &[], kind, &mut queue)?;
    while let Some(section) = queue.pop_front() {
        write!(out, "\n<a id=\"{}\"></a>\n", section.anchor())?;
        writeln!(out, "### Nested Schema for `{}`", section.path.join("."))?;
        match section.nested {
            Nested::Block(nested) => write_block(out, nested, &section.path, kind, &mut queue)?,
            Nested::Object(fields) => write_object_fields(out, fields)?,
        }
    }
    Ok(())
}

/// Writes the lists of one block and queues its nested sections.
fn write_block<'a>(
    out: &mut String,
    block: &'a Block,
    path: &[String],
    kind: PageKind,
    queue: &mut VecDeque<Section<'a>>,
) -> fmt::Result {
    for group in Group::ALL {
        let attributes: Vec<&Attribute> = block
            .attributes
            .iter()
            .filter(|a| Group::of_attribute(a) == group)
            .collect();
        let blocks: Vec<&NestedBlock> = block
            .blocks
            .iter()
            .filter(|b| Group::of_block(b) == group)
            .collect();
        if attributes.is_empty() && blocks.is_empty() {
            continue;
        }
        // Nested sections already sit under a level-3 heading, so their lists get a label.
        if path.is_empty() {
            write!(out, "\n### {}\n\n", group.heading())?;
        } else {
            write!(out, "\n{}:\n\n", group.heading())?;
        }
        for attribute in attributes {
            write_attribute(out, attribute, path, kind, queue)?;
        }
        for nested in blocks {
            write_nested_block(out, nested, path, kind, queue)?;
        }
    }
    Ok(())
}

fn write_attribute<'a>(
    out: &mut String,
    attribute: &'a Attribute,
    path: &[String],
    kind: PageKind,
    queue: &mut VecDeque<Section<'a>>,
) -> fmt::Result {
    let mut flags = vec![type_label(&attribute.ty)];
    if attribute.sensitive {
        flags.push("Sensitive".to_owned());
    }
    if attribute.write_only {
        flags.push("Write-only".to_owned());
    }
    if attribute.deprecated {
        flags.push("Deprecated".to_owned());
    }
    let mut sentences = vec![attribute.description.clone()];
    sentences.extend(attribute_notes(attribute, kind));
    if let Some(fields) = object_fields(&attribute.ty) {
        let path = child_path(path, &attribute.name);
        let section = Section {
            path,
            nested: Nested::Object(fields),
        };
        sentences.push(format!(
            "(see [below for nested schema](#{}))",
            section.anchor()
        ));
        queue.push_back(section);
    }
    write_item(out, &attribute.name, &flags.join(", "), &sentences)
}

/// Phrases by which a description already states that a change replaces the resource.
const REPLACEMENT_PHRASES: &[&str] = &["replaces the resource", "forces a new resource"];

/// Returns the sentences that follow an attribute's own description.
fn attribute_notes(attribute: &Attribute, kind: PageKind) -> Vec<String> {
    let mut notes = Vec::new();
    // Several descriptions already state their default or the replacement in words, and
    // repeating it reads as noise.
    let description = &attribute.description;
    if let Some(default) = &attribute.default
        && !description.contains("Defaults to")
    {
        notes.push(format!("Defaults to `{}`.", value_literal(default)));
    }
    notes.extend(attribute.validators.iter().map(|v| v.description()));
    let replacement_stated = REPLACEMENT_PHRASES
        .iter()
        .any(|phrase| description.contains(phrase));
    if attribute.force_new && kind == PageKind::Resource && !replacement_stated {
        notes.push("Changing this forces a new resource.".to_owned());
    }
    if attribute.write_only {
        notes.push(
            "Write-only: the provider plans and stores this attribute as null, so its value \
             stays out of the plan and state. Needs Terraform 1.11 or OpenTofu 1.11 or later."
                .to_owned(),
        );
    }
    notes
}

fn write_nested_block<'a>(
    out: &mut String,
    nested: &'a NestedBlock,
    path: &[String],
    kind: PageKind,
    queue: &mut VecDeque<Section<'a>>,
) -> fmt::Result {
    let path = child_path(path, &nested.type_name);
    let section = Section {
        path,
        nested: Nested::Block(&nested.block),
    };
    let mut sentences = vec![nested.block.description.clone()];
    if nested.force_new && kind == PageKind::Resource {
        sentences.push("Changing anything in this block forces a new resource.".to_owned());
    }
    sentences.push(format!(
        "(see [below for nested schema](#{}))",
        section.anchor()
    ));
    queue.push_back(section);
    write_item(out, &nested.type_name, &block_label(nested), &sentences)
}

fn write_object_fields(out: &mut String, fields: &BTreeMap<String, Type>) -> fmt::Result {
    out.push('\n');
    for (name, ty) in fields {
        writeln!(out, "- `{name}` ({})", type_label(ty))?;
    }
    Ok(())
}

fn write_item(out: &mut String, name: &str, label: &str, sentences: &[String]) -> fmt::Result {
    let text: Vec<&str> = sentences
        .iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .collect();
    writeln!(out, "- `{name}` ({label}) {}", text.join(" "))
}

fn child_path(path: &[String], name: &str) -> Vec<String> {
    let mut child = path.to_vec();
    child.push(name.to_owned());
    child
}

/// Returns the attributes of an object type, directly or as the element of a collection.
fn object_fields(ty: &Type) -> Option<&BTreeMap<String, Type>> {
    match ty {
        Type::Object { attributes, .. } => Some(attributes),
        Type::List(element) | Type::Set(element) | Type::Map(element) => object_fields(element),
        _ => None,
    }
}

/// Returns the type as the registry docs spell it, such as `List of String`.
fn type_label(ty: &Type) -> String {
    match ty {
        Type::Bool => "Boolean".to_owned(),
        Type::Number => "Number".to_owned(),
        Type::String => "String".to_owned(),
        Type::Dynamic => "Dynamic".to_owned(),
        Type::List(element) => format!("List of {}", type_label(element)),
        Type::Set(element) => format!("Set of {}", type_label(element)),
        Type::Map(element) => format!("Map of {}", type_label(element)),
        Type::Object { .. } => "Object".to_owned(),
        Type::Tuple(_) => "Tuple".to_owned(),
    }
}

fn block_label(nested: &NestedBlock) -> String {
    let mut label = match nested.nesting {
        Nesting::Single | Nesting::Group => "Block".to_owned(),
        Nesting::List => "Block List".to_owned(),
        Nesting::Set => "Block Set".to_owned(),
        Nesting::Map => "Block Map".to_owned(),
    };
    if nested.min_items > 0 {
        label.push_str(&format!(", Min: {}", nested.min_items));
    }
    let single = matches!(nested.nesting, Nesting::Single | Nesting::Group);
    if nested.max_items > 0 && !single {
        label.push_str(&format!(", Max: {}", nested.max_items));
    }
    label
}

/// Writes a default value the way it would appear in a configuration.
fn value_literal(value: &Value) -> String {
    match value {
        Value::Bool(flag) => flag.to_string(),
        Value::Number(number) => number.to_string(),
        Value::String(text) => format!("{text:?}"),
        Value::List(items) | Value::Set(items) | Value::Tuple(items) => {
            let items: Vec<String> = items.iter().map(value_literal).collect();
            format!("[{}]", items.join(", "))
        }
        Value::Map(entries) | Value::Object(entries) => {
            let entries: Vec<String> = entries
                .iter()
                .map(|(k, v)| format!("{k} = {}", value_literal(v)))
                .collect();
            format!("{{ {} }}", entries.join(", "))
        }
        Value::Null | Value::Unknown | Value::Dynamic(..) => "null".to_owned(),
    }
}
