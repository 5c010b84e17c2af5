"""Drives the Key Vault test server with the official Python client azure-keyvault-secrets.

The Rust test keyvault_python.rs starts the server and runs this script. It checks that the
server handles set, get, list versions, update, delete, get deleted and recover the way the
Python client expects, with the challenge-resource check on and the test CA trusted.

The vault URL keeps the real host name form (https://sipstest.vault.azure.net), because the
client compares the request host with the challenge resource "https://vault.azure.net". The
script maps that host to the server's loopback port inside urllib3, so TLS still verifies the
certificate for the host name. Exit code 3 means the Python packages are missing.
"""

import json
import os
import sys
import time

try:
    import urllib3.util.connection as urllib3_connection
    from azure.core.credentials import AccessToken
    from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
    from azure.keyvault.secrets import SecretClient
except ImportError as error:
    print(f"missing Python package: {error}")
    sys.exit(3)

HOST = os.environ["KEYVAULT_HOST"]
PORT = int(os.environ["KEYVAULT_PORT"])
CA_FILE = os.environ["KEYVAULT_CA_FILE"]
TOKEN = os.environ["KEYVAULT_TOKEN"]
API_VERSION = os.environ["KEYVAULT_API_VERSION"]

_create_connection = urllib3_connection.create_connection


def _connect_to_loopback(address, *args, **kwargs):
    """Sends connections for the vault host to the test server; others are refused."""
    host, _port = address
    if host != HOST:
        raise OSError(f"refusing to connect to {host}: only the test vault is allowed")
    return _create_connection(("127.0.0.1", PORT), *args, **kwargs)


urllib3_connection.create_connection = _connect_to_loopback


class FixedTokenCredential:
    """Returns one fixed token and records the scopes the client asked for."""

    def __init__(self):
        self.scopes = []

    def get_token(self, *scopes, **kwargs):
        self.scopes.extend(scopes)
        return AccessToken(TOKEN, int(time.time()) + 3600)


def expect_status(status, action):
    try:
        action()
    except HttpResponseError as error:
        if error.status_code != status:
            raise AssertionError(f"expected HTTP {status}, got {error.status_code}: {error}")
        return error
    raise AssertionError(f"expected HTTP {status}, got success")


def main():
    credential = FixedTokenCredential()
    client = SecretClient(
        f"https://{HOST}",
        credential,
        api_version=API_VERSION,
        verify_challenge_resource=True,
        connection_verify=CA_FILE,
    )
    name = "sips-python-cross-check"
    tags = {"sips:client_id": "client-py"}

    first = client.set_secret(name, "value-one", content_type="application/json", tags=tags)
    second = client.set_secret(name, "value-two", tags=tags)
    assert first.properties.content_type == "application/json", first.properties.content_type
    assert first.properties.tags == tags, first.properties.tags
    assert first.properties.version != second.properties.version

    latest = client.get_secret(name)
    assert latest.value == "value-two", "latest value"
    assert latest.properties.version == second.properties.version
    by_version = client.get_secret(name, first.properties.version)
    assert by_version.value == "value-one", "value by version"

    versions = {p.version for p in client.list_properties_of_secret_versions(name)}
    assert versions == {first.properties.version, second.properties.version}, versions

    updated = client.update_secret_properties(
        name, first.properties.version, enabled=False, tags={"retired": "yes"}
    )
    assert updated.enabled is False
    assert updated.tags == {"retired": "yes"}, updated.tags
    expect_status(403, lambda: client.get_secret(name, first.properties.version))

    deleted = client.begin_delete_secret(name, _polling_interval=0.1).result()
    assert deleted.name == name, deleted.name
    assert deleted.scheduled_purge_date is not None
    assert deleted.recovery_id.endswith(f"/deletedsecrets/{name}"), deleted.recovery_id
    assert client.get_deleted_secret(name).name == name
    try:
        client.get_secret(name)
        raise AssertionError("a deleted secret must not be readable")
    except ResourceNotFoundError:
        pass
    expect_status(409, lambda: client.set_secret(name, "value-three"))

    recovered = client.begin_recover_deleted_secret(name, _polling_interval=0.1).result()
    assert recovered.name == name
    assert client.get_secret(name).value == "value-two", "value after recovery"

    assert set(credential.scopes) == {"https://vault.azure.net/.default"}, credential.scopes
    print(json.dumps({"checked": "ok", "api_version": API_VERSION}))


if __name__ == "__main__":
    main()
