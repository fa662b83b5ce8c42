"""``POST api/v1/secrets``: the dev server's rules for creating secrets, and who created what."""

from __future__ import annotations

from typing import Any

from conftest import Client

from credchain.devserver import SCANNER_PASSWORD

SCAN_ACCOUNTS = 5  # the demo folder where the scanner user may add secrets
NETWORK = 4


def filled(client: Client, name: str, folder_id: int, **values: str) -> dict[str, Any]:
    stub = client.get(
        "api/v1/secrets/stub", **{"filter.secretTemplateId": 2, "filter.folderId": folder_id}
    ).json()
    stub.update(name=name, secretTemplateId=2)
    for item in stub["items"]:
        item["itemValue"] = values.get(item["slug"], "")
    return stub


def test_stub_carries_the_folder_asked_for(admin: Client) -> None:
    stub = admin.get("api/v1/secrets/stub", secretTemplateId=2, folderId=NETWORK).json()
    assert stub["folderId"] == NETWORK and stub["secretTemplateId"] == 2


def test_stub_of_a_missing_folder_is_folder_not_found(admin: Client) -> None:
    answer = admin.get("api/v1/secrets/stub", **{"filter.folderId": 999})
    assert answer.status_code == 400 and answer.json()["errorCode"] == "API_FolderNotFound"


def test_create_in_a_missing_folder_is_folder_not_found(admin: Client) -> None:
    body = filled(admin, "x", NETWORK, username="u", password="p")
    body["folderId"] = 999
    answer = admin.post("api/v1/secrets", json=body)
    assert answer.status_code == 400 and answer.json()["errorCode"] == "API_FolderNotFound"


def test_a_required_field_left_empty_is_refused(admin: Client) -> None:
    answer = admin.post("api/v1/secrets", json=filled(admin, "x", NETWORK, username="u"))
    assert answer.status_code == 400
    assert answer.json() == {
        "errorCode": "API_RequiredFieldMissing",
        "message": "The field Password is required.",
    }


def test_a_name_taken_in_the_folder_is_refused_case_insensitively(admin: Client) -> None:
    body = filled(admin, "Router-9", NETWORK, username="u", password="p")
    assert admin.post("api/v1/secrets", json=body).status_code == 200
    body["name"] = "ROUTER-9"
    answer = admin.post("api/v1/secrets", json=body)
    assert answer.status_code == 400 and answer.json()["errorCode"] == "API_DuplicateSecretName"


def test_the_same_name_in_another_folder_is_fine(admin: Client) -> None:
    body = filled(admin, "Router-9", NETWORK, username="u", password="p")
    assert admin.post("api/v1/secrets", json=body).status_code == 200
    body["folderId"] = 3
    assert admin.post("api/v1/secrets", json=body).status_code == 200


def test_a_user_without_add_secret_on_the_folder_is_denied(admin: Client) -> None:
    scanner = Client(admin.server).login("scanner", SCANNER_PASSWORD)
    answer = scanner.post(
        "api/v1/secrets", json=filled(admin, "x", NETWORK, username="u", password="p")
    )
    assert answer.status_code == 400 and answer.json()["errorCode"] == "API_AccessDenied"


def test_creations_are_recorded_with_the_creator_and_no_value(admin: Client) -> None:
    scanner = Client(admin.server).login("scanner", SCANNER_PASSWORD)
    body = filled(admin, "new-scan", SCAN_ACCOUNTS, username="u", password="Planted-Pw-3")
    created = scanner.post("api/v1/secrets", json=body).json()
    assert scanner.get(f"api/v1/secrets/{created['id']}").status_code == 200
    log = admin.control("GET", "created").json()
    assert log == admin.server.created()
    assert [(c["secretId"], c["createdBy"], c["folderId"]) for c in log] == [
        (created["id"], "scanner", SCAN_ACCOUNTS)
    ]
    assert "Planted-Pw-3" not in str(log)


def test_client_credentials_create_as_the_clients_user(admin: Client) -> None:
    sdk = Client(admin.server)
    grant = sdk.grant(
        grant_type="client_credentials",
        client_id="scanner-client",
        client_secret="scanner-client-secret",
    )
    sdk.token = grant.json()["access_token"]
    body = filled(admin, "by-sdk", SCAN_ACCOUNTS, username="u", password="p")
    assert sdk.post("api/v1/secrets", json=body).status_code == 200
    assert admin.server.created()[0]["createdBy"] == "scanner"
