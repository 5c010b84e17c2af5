//! Protocol 6 features that Terraform 1.0.3 cannot exercise, driven as
//! Terraform 1.10 and 1.11 would drive them: the write-only client secret
//! (null in every planned and new state, rejected for clients without the
//! capability) and the ephemeral `sips_credential_secret`.

mod support;

use sips::protocol::generated::tfplugin6::{self as pb, provider_client::ProviderClient};
use sips::value::{Type, Value, msgpack};
use support::moto::MotoServer;
use support::plugin_client::PluginProcess;

const SECRET: &str = "wo-planted-Secret-5f2c9a";

fn dynamic(value: &Value, ty: &Type) -> Option<pb::DynamicValue> {
    Some(pb::DynamicValue {
        msgpack: msgpack::encode(value, ty).expect("encode"),
        json: Vec::new(),
    })
}

fn decode(value: &Option<pb::DynamicValue>, ty: &Type) -> Value {
    msgpack::decode(&value.as_ref().expect("value").msgpack, ty).expect("decode")
}

fn capabilities(write_only: bool) -> Option<pb::ClientCapabilities> {
    Some(pb::ClientCapabilities {
        write_only_attributes_allowed: write_only,
        deferral_allowed: false,
    })
}

async fn start() -> (PluginProcess, ProviderClient<tonic::transport::Channel>) {
    let plugin = PluginProcess::builder()
        .protocol_versions("6")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .start();
    let channel = plugin.channel().await.expect("mTLS channel");
    (plugin, ProviderClient::new(channel))
}

async fn schema_types(client: &mut ProviderClient<tonic::transport::Channel>) -> (Type, Type) {
    let schema = client
        .get_provider_schema(pb::get_provider_schema::Request {})
        .await
        .expect("schema")
        .into_inner();
    let provider = block_type(schema.provider.unwrap().block.unwrap());
    let credential = block_type(
        schema.resource_schemas["sips_credential"]
            .block
            .clone()
            .unwrap(),
    );
    (provider, credential)
}

fn block_type(block: pb::schema::Block) -> Type {
    let mut attributes: Vec<(String, Type)> = block
        .attributes
        .into_iter()
        .map(|a| (a.name, Type::from_json_bytes(&a.r#type).expect("type")))
        .collect();
    for nested in block.block_types {
        attributes.push((nested.type_name, block_type(nested.block.unwrap())));
    }
    Type::object(attributes.iter().map(|(n, t)| (n.as_str(), t.clone())))
}

fn credential_config(ty: &Type) -> Value {
    let Type::Object { attributes, .. } = ty else {
        panic!("object type")
    };
    let mut config = Value::object(attributes.keys().map(|name| (name.as_str(), Value::Null)));
    config.set_attr("environment", Value::string("staging"));
    config.set_attr("client_id", Value::string("wo-client"));
    config.set_attr("client_secret_wo", Value::string(SECRET));
    let block_type = &attributes["aws_secrets_manager"];
    let Type::Object {
        attributes: block_attributes,
        ..
    } = block_type
    else {
        panic!("block")
    };
    let block = Value::object(
        block_attributes
            .keys()
            .map(|name| (name.as_str(), Value::Null)),
    );
    config.set_attr("aws_secrets_manager", block);
    config
}

async fn configure(
    client: &mut ProviderClient<tonic::transport::Channel>,
    provider: &Type,
    moto: &MotoServer,
) {
    configure_with(client, provider, moto, Value::Null).await
}

/// Configures the provider against `moto`, limited to `environments` unless null.
async fn configure_with(
    client: &mut ProviderClient<tonic::transport::Channel>,
    provider: &Type,
    moto: &MotoServer,
    environments: Value,
) {
    let Type::Object { attributes, .. } = provider else {
        panic!("object")
    };
    let mut provider_config = Value::object(attributes.keys().map(|n| (n.as_str(), Value::Null)));
    let Type::Object {
        attributes: aws_attributes,
        ..
    } = &attributes["aws"]
    else {
        panic!("aws")
    };
    let mut aws = Value::object(aws_attributes.keys().map(|n| (n.as_str(), Value::Null)));
    aws.set_attr("region", Value::string("eu-west-1"));
    aws.set_attr("endpoint", Value::string(moto.endpoint_url()));
    aws.set_attr("use_instance_metadata", Value::Bool(false));
    provider_config.set_attr("aws", aws);
    provider_config.set_attr("environments", environments);
    let configured = client
        .configure_provider(pb::configure_provider::Request {
            terraform_version: "1.11.0".into(),
            config: dynamic(&provider_config, provider),
            client_capabilities: capabilities(true),
        })
        .await
        .expect("configure")
        .into_inner();
    assert!(
        configured.diagnostics.is_empty(),
        "{:?}",
        configured.diagnostics
    );
}

#[tokio::test]
async fn write_only_rejected_without_capability() {
    let (_plugin, mut client) = start().await;
    let (_, credential) = schema_types(&mut client).await;
    let response = client
        .validate_resource_config(pb::validate_resource_config::Request {
            type_name: "sips_credential".into(),
            config: dynamic(&credential_config(&credential), &credential),
            client_capabilities: capabilities(false),
        })
        .await
        .expect("validate")
        .into_inner();
    let error = response
        .diagnostics
        .iter()
        .find(|d| d.summary.contains("Write-only"));
    let error = error.expect("a write-only diagnostic");
    assert!(
        error.detail.contains("1.11"),
        "names the minimum version: {}",
        error.detail
    );
    assert!(
        error.detail.contains("client_secret_file"),
        "names the alternative: {}",
        error.detail
    );
    assert!(
        !format!("{response:?}").contains(SECRET),
        "secret leaked into diagnostics"
    );
}

#[tokio::test]
async fn write_only_planned_and_stored_null() {
    let moto = MotoServer::start();
    let (_plugin, mut client) = start().await;
    let (provider, credential) = schema_types(&mut client).await;
    let config = credential_config(&credential);

    let validation = client
        .validate_resource_config(pb::validate_resource_config::Request {
            type_name: "sips_credential".into(),
            config: dynamic(&config, &credential),
            client_capabilities: capabilities(true),
        })
        .await
        .expect("validate")
        .into_inner();
    assert!(
        validation.diagnostics.is_empty(),
        "{:?}",
        validation.diagnostics
    );

    configure(&mut client, &provider, &moto).await;

    let plan = client
        .plan_resource_change(pb::plan_resource_change::Request {
            type_name: "sips_credential".into(),
            prior_state: dynamic(&Value::Null, &credential),
            proposed_new_state: dynamic(&config, &credential),
            config: dynamic(&config, &credential),
            client_capabilities: capabilities(true),
            ..Default::default()
        })
        .await
        .expect("plan")
        .into_inner();
    assert!(
        plan.diagnostics.iter().all(|d| d.severity != 1),
        "{:?}",
        plan.diagnostics
    );
    let planned = decode(&plan.planned_state, &credential);
    assert!(
        planned.attr("client_secret_wo").is_null(),
        "write-only value planned"
    );
    assert!(
        !format!("{planned:?}").contains(SECRET),
        "secret in planned state"
    );

    let apply = client
        .apply_resource_change(pb::apply_resource_change::Request {
            type_name: "sips_credential".into(),
            prior_state: dynamic(&Value::Null, &credential),
            planned_state: plan.planned_state.clone(),
            config: dynamic(&config, &credential),
            planned_private: plan.planned_private.clone(),
            ..Default::default()
        })
        .await
        .expect("apply")
        .into_inner();
    assert!(
        apply.diagnostics.iter().all(|d| d.severity != 1),
        "{:?}",
        apply.diagnostics
    );
    let state = decode(&apply.new_state, &credential);
    assert!(
        state.attr("client_secret_wo").is_null(),
        "write-only value stored"
    );
    assert!(
        state
            .attr("fingerprint")
            .as_str()
            .is_some_and(|f| f.starts_with("hmac-sha256:"))
    );
    assert!(
        !format!("{state:?}").contains(SECRET),
        "secret in new state"
    );
}

#[tokio::test]
async fn ephemeral_secret_opened() {
    let moto = MotoServer::start();
    let (_plugin, mut client) = start().await;
    let (provider, credential) = schema_types(&mut client).await;
    configure(&mut client, &provider, &moto).await;

    // Store a credential through the resource, then read it back ephemerally.
    let config = credential_config(&credential);
    let plan = client
        .plan_resource_change(pb::plan_resource_change::Request {
            type_name: "sips_credential".into(),
            prior_state: dynamic(&Value::Null, &credential),
            proposed_new_state: dynamic(&config, &credential),
            config: dynamic(&config, &credential),
            client_capabilities: capabilities(true),
            ..Default::default()
        })
        .await
        .expect("plan")
        .into_inner();
    let apply = client
        .apply_resource_change(pb::apply_resource_change::Request {
            type_name: "sips_credential".into(),
            prior_state: dynamic(&Value::Null, &credential),
            planned_state: plan.planned_state,
            config: dynamic(&config, &credential),
            planned_private: plan.planned_private,
            ..Default::default()
        })
        .await
        .expect("apply")
        .into_inner();
    assert!(apply.diagnostics.is_empty(), "{:?}", apply.diagnostics);

    let schema = client
        .get_provider_schema(pb::get_provider_schema::Request {})
        .await
        .expect("schema")
        .into_inner();
    let ephemeral_block = schema.ephemeral_resource_schemas["sips_credential_secret"]
        .block
        .clone()
        .expect("ephemeral schema");
    let secret_attribute = ephemeral_block
        .attributes
        .iter()
        .find(|a| a.name == "client_secret")
        .expect("client_secret attribute");
    assert!(secret_attribute.sensitive, "client_secret is sensitive");
    let ephemeral = block_type(ephemeral_block);
    let Type::Object { attributes, .. } = &ephemeral else {
        panic!("object")
    };
    let mut open_config = Value::object(attributes.keys().map(|n| (n.as_str(), Value::Null)));
    open_config.set_attr("name", Value::string("sips/staging/wo-client"));

    let opened = client
        .open_ephemeral_resource(pb::open_ephemeral_resource::Request {
            type_name: "sips_credential_secret".into(),
            config: dynamic(&open_config, &ephemeral),
            client_capabilities: capabilities(true),
        })
        .await
        .expect("open")
        .into_inner();
    assert!(opened.diagnostics.is_empty(), "{:?}", opened.diagnostics);
    let result = decode(&opened.result, &ephemeral);
    assert_eq!(
        result.attr("client_secret").as_str(),
        Some(SECRET),
        "the stored secret is returned"
    );
    assert_eq!(
        result.attr("client_id").as_str(),
        Some("wo-client"),
        "client_id"
    );
    assert_eq!(
        result.attr("environment").as_str(),
        Some("staging"),
        "environment tag"
    );
}

#[tokio::test]
async fn destroy_plan_guards_environment() {
    let moto = MotoServer::start();
    let (_plugin, mut client) = start().await;
    let schema = client
        .get_provider_schema(pb::get_provider_schema::Request {})
        .await
        .expect("schema")
        .into_inner();
    let capabilities_announced = schema.server_capabilities.expect("server capabilities");
    assert!(
        capabilities_announced.plan_destroy,
        "destroy plans are announced"
    );
    let (provider, credential) = schema_types(&mut client).await;
    let staging_only = Value::Set(vec![Value::string("staging")]);
    configure_with(&mut client, &provider, &moto, staging_only).await;

    let mut prior = credential_config(&credential);
    prior.set_attr("client_secret_wo", Value::Null);
    prior.set_attr("environment", Value::string("production"));
    let plan = client
        .plan_resource_change(pb::plan_resource_change::Request {
            type_name: "sips_credential".into(),
            prior_state: dynamic(&prior, &credential),
            proposed_new_state: dynamic(&Value::Null, &credential),
            config: dynamic(&Value::Null, &credential),
            client_capabilities: capabilities(true),
            ..Default::default()
        })
        .await
        .expect("plan")
        .into_inner();
    let error = plan
        .diagnostics
        .iter()
        .find(|d| d.summary.contains("Environment not allowed"));
    assert!(
        error.is_some(),
        "the destroy plan fails: {:?}",
        plan.diagnostics
    );
}
