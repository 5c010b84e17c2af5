//! Message types, clients and servers generated from `proto/tfplugin5.proto` and
//! `proto/tfplugin6.proto` by `build.rs`.

/// Plugin protocol 5.10.
#[allow(clippy::all, clippy::pedantic, missing_docs, rustdoc::all)]
pub mod tfplugin5 {
    tonic::include_proto!("tfplugin5");
}

/// Plugin protocol 6.10.
#[allow(clippy::all, clippy::pedantic, missing_docs, rustdoc::all)]
pub mod tfplugin6 {
    tonic::include_proto!("tfplugin6");
}

#[cfg(test)]
mod tests {
    use prost::Message;

    use super::{tfplugin5, tfplugin6};

    #[test]
    fn tfplugin5_diagnostic_round_trips() {
        use tfplugin5::attribute_path::{Step, step::Selector};

        let path = tfplugin5::AttributePath {
            steps: vec![
                Step {
                    selector: Some(Selector::AttributeName("rotation".to_owned())),
                },
                Step {
                    selector: Some(Selector::ElementKeyInt(3)),
                },
            ],
        };
        let diagnostic = tfplugin5::Diagnostic {
            severity: tfplugin5::diagnostic::Severity::Error.into(),
            summary: "invalid environment".to_owned(),
            detail: "expected \"staging\" or \"production\"".to_owned(),
            attribute: Some(path),
        };

        let bytes = diagnostic.encode_to_vec();
        let decoded = tfplugin5::Diagnostic::decode(bytes.as_slice()).unwrap();

        assert_eq!(decoded, diagnostic);
        assert_eq!(decoded.severity(), tfplugin5::diagnostic::Severity::Error);
    }

    #[test]
    fn tfplugin6_plan_request_round_trips() {
        let request = tfplugin6::plan_resource_change::Request {
            type_name: "sips_credential".to_owned(),
            proposed_new_state: Some(tfplugin6::DynamicValue {
                msgpack: vec![0x81, 0xa3, b'e', b'n', b'v', 0xc0],
                json: Vec::new(),
            }),
            prior_private: b"{}".to_vec(),
            client_capabilities: Some(tfplugin6::ClientCapabilities {
                deferral_allowed: true,
                write_only_attributes_allowed: true,
            }),
            ..Default::default()
        };

        let bytes = request.encode_to_vec();
        let decoded = tfplugin6::plan_resource_change::Request::decode(bytes.as_slice()).unwrap();

        assert_eq!(decoded, request);
    }

    #[test]
    fn write_only_field_numbers_differ_by_version() {
        // Version 6 already used field 10 for `nested_type`, so `write_only` got 11 there.
        let v5 = tfplugin5::schema::Attribute {
            write_only: true,
            ..Default::default()
        };
        let v6 = tfplugin6::schema::Attribute {
            write_only: true,
            ..Default::default()
        };

        assert_eq!(v5.encode_to_vec(), [10 << 3, 1]);
        assert_eq!(v6.encode_to_vec(), [11 << 3, 1]);
    }

    #[test]
    fn open_ephemeral_renew_at_round_trips() {
        let response = tfplugin6::open_ephemeral_resource::Response {
            renew_at: Some(prost_types::Timestamp {
                seconds: 1_767_225_600,
                nanos: 0,
            }),
            private: Some(Vec::new()),
            ..Default::default()
        };

        let bytes = response.encode_to_vec();
        let decoded = tfplugin6::open_ephemeral_resource::Response::decode(bytes.as_slice());

        assert_eq!(decoded.unwrap(), response);
    }
}
