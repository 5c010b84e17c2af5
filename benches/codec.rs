//! Codec micro-benchmarks: decoding and encoding one `sips_credential` state as msgpack (the
//! form Terraform sends in every plan and apply call) and as JSON (the form of stored state that
//! `UpgradeResourceState` receives), typed by the resource schema.
//!
//! Run with `cargo bench --bench codec`.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sips::resources::credential::schema::schema;
use sips::value::{Type, json, msgpack};

/// A credential after its first rotation with a policy, tags and both versions readable: every
/// attribute that a real state can carry is set, except the write-only secret and the secret
/// variable, which are null as with `client_secret_file`.
const STATE_JSON: &str = r#"{
  "environment": "production",
  "client_id": "partner-a",
  "client_secret_wo": null,
  "client_secret_file": "/run/secrets/sips-partner-a",
  "client_secret_env": null,
  "rotation_policy": {
    "rotate_after_days": 90,
    "max_age_days": 180,
    "overlap_days": 7,
    "warn_before_days": 14,
    "enforcement": "error"
  },
  "retire_previous": false,
  "revoked": false,
  "id": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:sips/production/partner-a-Ab12Cd",
  "arn": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:sips/production/partner-a-Ab12Cd",
  "version_id": "6f1c2b4e-9a7d-4c3b-8e21-0d5f4a6b7c8d",
  "previous_version_id": "0b9e8d7c-6a5f-4e3d-2c1b-a09f8e7d6c5b",
  "issued_at": "2025-11-02T09:15:27Z",
  "fingerprint": "hmac-sha256:jxTkX87qFnpaNt7dS-olQw:SyJ3d9TdH8YcbohPSGQdArTRIdP9Mozwi1Ux_KzavmE",
  "rotate_by": "2026-01-31T09:15:27Z",
  "expires_at": "2026-05-01T09:15:27Z",
  "rotation_status": "current",
  "previous_retire_at": "2025-11-09T09:15:27Z",
  "aws_secrets_manager": {
    "name": "sips/production/partner-a",
    "kms_key_id": "alias/sips-production",
    "description": "SIPS production credential of partner A",
    "tags": { "team": "payments", "cost-center": "4711", "owner": "platform" },
    "recovery_window_days": 30,
    "force_delete": false
  }
}"#;

fn state_type() -> Type {
    schema().block.implied_type()
}

fn codecs(c: &mut Criterion) {
    let ty = state_type();
    let value = json::decode(STATE_JSON.as_bytes(), &ty).expect("sample state matches the schema");
    let json_bytes = json::encode(&value, &ty).expect("encode JSON");
    let msgpack_bytes = msgpack::encode(&value, &ty).expect("encode msgpack");
    assert_eq!(
        msgpack::decode(&msgpack_bytes, &ty).expect("decode msgpack"),
        value,
        "msgpack round trip changes the state"
    );

    let mut group = c.benchmark_group("sips_credential_state");
    group.throughput(Throughput::Bytes(msgpack_bytes.len() as u64));
    group.bench_function("msgpack_decode", |b| {
        b.iter(|| msgpack::decode(black_box(&msgpack_bytes), black_box(&ty)).unwrap())
    });
    group.bench_function("msgpack_encode", |b| {
        b.iter(|| msgpack::encode(black_box(&value), black_box(&ty)).unwrap())
    });
    group.throughput(Throughput::Bytes(json_bytes.len() as u64));
    group.bench_function("json_decode", |b| {
        b.iter(|| json::decode(black_box(&json_bytes), black_box(&ty)).unwrap())
    });
    group.bench_function("json_encode", |b| {
        b.iter(|| json::encode(black_box(&value), black_box(&ty)).unwrap())
    });
    group.finish();

    println!(
        "sips_credential state: {} bytes as msgpack, {} bytes as JSON",
        msgpack_bytes.len(),
        json_bytes.len()
    );
}

criterion_group!(benches, codecs);
criterion_main!(benches);
