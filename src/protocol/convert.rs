//! Conversions between generated protocol messages and framework types.
//!
//! tfplugin5 and tfplugin6 share these messages field for field, so one macro
//! writes the converters for both packages; a field one version lacks is
//! covered by `..Default::default()`.

macro_rules! conversions {
    ($pb:ident) => {
        use crate::framework::server::{Dynamic, RawState};
        use crate::framework::{
            AttributePath, Block, ClientCapabilities, Diagnostics, NestedBlock, Nesting, Schema,
            Severity,
        };
        use crate::protocol::generated::$pb as pb;
        use pb::attribute_path::{Step, step::Selector};

        pub fn dynamic_in(value: Option<pb::DynamicValue>) -> Dynamic {
            let value = value.unwrap_or_default();
            Dynamic {
                msgpack: value.msgpack,
                json: value.json,
            }
        }

        pub fn dynamic_out(msgpack: Vec<u8>) -> Option<pb::DynamicValue> {
            Some(pb::DynamicValue {
                msgpack,
                json: Vec::new(),
            })
        }

        pub fn raw_state_in(raw: Option<pb::RawState>) -> RawState {
            let raw = raw.unwrap_or_default();
            RawState {
                json: raw.json,
                flatmap: raw.flatmap.into_iter().collect(),
            }
        }

        pub fn client_in(client: Option<pb::ClientCapabilities>) -> ClientCapabilities {
            let client = client.unwrap_or_default();
            ClientCapabilities {
                write_only_attributes_allowed: client.write_only_attributes_allowed,
                deferral_allowed: client.deferral_allowed,
            }
        }

        pub fn path_out(path: &AttributePath) -> pb::AttributePath {
            use crate::framework::diag::PathStep;
            let steps = path
                .steps
                .iter()
                .map(|step| {
                    let selector = match step {
                        PathStep::Attribute(name) => Selector::AttributeName(name.clone()),
                        PathStep::Key(key) => Selector::ElementKeyString(key.clone()),
                        PathStep::Index(index) => Selector::ElementKeyInt(*index),
                    };
                    Step {
                        selector: Some(selector),
                    }
                })
                .collect();
            pb::AttributePath { steps }
        }

        pub fn diagnostics_out(diagnostics: Diagnostics) -> Vec<pb::Diagnostic> {
            diagnostics
                .into_iter()
                .map(|diagnostic| {
                    let severity = match diagnostic.severity {
                        Severity::Error => pb::diagnostic::Severity::Error,
                        Severity::Warning => pb::diagnostic::Severity::Warning,
                    };
                    pb::Diagnostic {
                        severity: severity.into(),
                        summary: diagnostic.summary,
                        detail: diagnostic.detail,
                        attribute: diagnostic.attribute.as_ref().map(path_out),
                    }
                })
                .collect()
        }

        pub fn schema_out(schema: &Schema) -> pb::Schema {
            pb::Schema {
                version: schema.version,
                block: Some(block_out(&schema.block, schema.version)),
            }
        }

        fn block_out(block: &Block, version: i64) -> pb::schema::Block {
            pb::schema::Block {
                version,
                attributes: block.attributes.iter().map(attribute_out).collect(),
                block_types: block.blocks.iter().map(nested_block_out).collect(),
                description: block.description.clone(),
                description_kind: pb::StringKind::Markdown.into(),
                deprecated: block.deprecated,
                ..Default::default()
            }
        }

        fn attribute_out(attribute: &crate::framework::Attribute) -> pb::schema::Attribute {
            pb::schema::Attribute {
                name: attribute.name.clone(),
                r#type: attribute.ty.to_json_bytes(),
                description: attribute.description.clone(),
                required: attribute.required,
                optional: attribute.optional,
                computed: attribute.computed,
                sensitive: attribute.sensitive,
                description_kind: pb::StringKind::Markdown.into(),
                deprecated: attribute.deprecated,
                write_only: attribute.write_only,
                ..Default::default()
            }
        }

        fn nested_block_out(nested: &NestedBlock) -> pb::schema::NestedBlock {
            use pb::schema::nested_block::NestingMode;
            let nesting = match nested.nesting {
                Nesting::Single => NestingMode::Single,
                Nesting::Group => NestingMode::Group,
                Nesting::List => NestingMode::List,
                Nesting::Set => NestingMode::Set,
                Nesting::Map => NestingMode::Map,
            };
            pb::schema::NestedBlock {
                type_name: nested.type_name.clone(),
                block: Some(block_out(&nested.block, 0)),
                nesting: nesting.into(),
                min_items: nested.min_items,
                max_items: nested.max_items,
            }
        }
    };
}

pub mod tfplugin5 {
    conversions!(tfplugin5);
}

pub mod tfplugin6 {
    conversions!(tfplugin6);
}
