"""Secrets, templates and folders endpoints: shapes, search semantics, access rules."""

from __future__ import annotations

from conftest import Client

from credchain.devserver import demo_password

WEB01 = "web-01.corp.example.com"


def _names(response_json: dict[str, object]) -> list[str]:
    records = response_json["records"]
    assert isinstance(records, list)
    return [r["name"] for r in records]


def test_healthcheck_has_capital_h_and_needs_no_token(anonymous: Client) -> None:
    assert anonymous.get("api/v1/healthcheck").json()["Healthy"] is True


def test_search_text_matches_secret_name_contains(admin: Client) -> None:
    names = _names(admin.get("api/v1/secrets", **{"filter.searchText": "WEB-01"}).json())
    assert names == [WEB01, f"{WEB01} root"]


def test_search_exact_match_is_case_insensitive_equality(admin: Client) -> None:
    query = {"filter.searchText": WEB01.upper(), "filter.isExactMatch": "true"}
    assert _names(admin.get("api/v1/secrets", **query).json()) == [WEB01]


def test_search_by_field_name_and_slug(admin: Client) -> None:
    by_name = {"filter.searchText": "dc-01.corp", "filter.searchField": "Machine"}
    by_slug = {"filter.searchText": "svc-scan", "filter.searchFieldSlug": "username"}
    assert _names(admin.get("api/v1/secrets", **by_name).json()) == [
        "dc-01.corp.example.com Administrator"
    ]
    assert "CORP\\svc-scan" in _names(admin.get("api/v1/secrets", **by_slug).json())


def test_search_never_matches_password_values(admin: Client) -> None:
    query = {"filter.searchText": demo_password(WEB01), "filter.searchField": "password"}
    assert admin.get("api/v1/secrets", **query).json()["total"] == 0


def test_search_extended_fields_and_summary_shape(admin: Client) -> None:
    query = {
        "filter.searchText": WEB01,
        "filter.isExactMatch": "true",
        "filter.extendedFields": ["Machine", "Username", "Password", "Privilege Password"],
    }
    record = admin.get("api/v1/secrets", **query).json()["records"][0]
    assert record["secretTemplateName"] == "Scan Account"
    assert record["folderPath"] == "\\Scan Accounts"
    fields = {f["name"]: f["value"] for f in record["extendedFields"]}
    assert fields == {
        "Machine": WEB01,
        "Username": "svc-scan",
        "Password": demo_password(WEB01),
        "Privilege Password": demo_password(WEB01 + ":root"),
    }


def test_search_by_template_and_folder(admin: Client) -> None:
    scan = admin.get("api/v1/secrets", **{"filter.secretTemplateId": 6100, "take": 100}).json()
    assert scan["total"] == 14
    direct = admin.get("api/v1/secrets", **{"filter.folderId": 1}).json()
    nested = admin.get(
        "api/v1/secrets", **{"filter.folderId": 1, "filter.includeSubFolders": "true"}
    ).json()
    assert direct["total"] == 0
    assert nested["total"] == 12 + 14 + 4


def test_search_paging_envelope(admin: Client) -> None:
    page = admin.get("api/v1/secrets", take=5, skip=5).json()
    assert len(page["records"]) == 5
    assert page["skip"] == 5 and page["take"] == 5 and page["hasPrev"] and page["hasNext"]
    assert page["currentPage"] == 2 and page["nextSkip"] == 10 and page["prevSkip"] == 0
    assert page["pageCount"] == -(-page["total"] // 5)


def test_search_default_page_size_is_ten(admin: Client) -> None:
    assert len(admin.get("api/v1/secrets").json()["records"]) == 10


def test_search_accepts_go_sdk_paging_prefix(admin: Client) -> None:
    query = {
        "paging.filter.searchText": WEB01,
        "paging.filter.isExactMatch": "true",
        "paging.filter.doNotCalculateTotal": "true",
        "paging.take": 30,
    }
    assert _names(admin.get("api/v1/secrets", **query).json()) == [WEB01]


def test_search_total_is_a_bare_integer(admin: Client) -> None:
    assert admin.get("api/v1/secrets/search-total", **{"filter.searchText": "web-0"}).json() == 12


def test_lookup_records_are_id_and_value(admin: Client) -> None:
    query = {"filter.searchText": WEB01, "filter.isExactMatch": "true"}
    records = admin.get("api/v1/secrets/lookup", **query).json()["records"]
    assert len(records) == 1 and records[0]["value"] == WEB01 and set(records[0]) == {"id", "value"}


def test_get_secret_model(admin: Client) -> None:
    secret = admin.get("api/v1/secrets/1").json()
    assert secret["name"] == "dc-01.corp.example.com Administrator"
    assert secret["secretTemplateName"] == "Windows Account"
    items = {i["slug"]: i for i in secret["items"]}
    assert items["password"]["itemValue"] == demo_password(secret["name"])
    assert items["password"]["isPassword"] is True
    assert items["notes"]["itemValue"] == "cmdb_id=CMDB-1001; ip=10.0.1.11"
    assert {"checkedOut", "requiresComment", "lastHeartBeatStatus", "siteId"} <= set(secret)


def test_get_field_returns_json_string(admin: Client) -> None:
    assert admin.get("api/v1/secrets/1/fields/username").json() == "Administrator"


def test_file_field_is_raw_bytes(admin: Client) -> None:
    secret_id = admin.get("api/v1/secrets/0", secretPath=f"\\Infrastructure\\Unix\\{WEB01} root")
    item = {i["slug"]: i for i in secret_id.json()["items"]}["private-key"]
    assert item["itemValue"] == "*** Not Valid For Display ***" and item["fileAttachmentId"]
    raw = admin.get(f"api/v1/secrets/{secret_id.json()['id']}/fields/private-key")
    assert raw.headers["Content-Type"] == "application/octet-stream"
    assert raw.content.startswith(b"-----BEGIN OPENSSH PRIVATE KEY-----")


def test_get_by_path_accepts_forward_slashes(admin: Client) -> None:
    secret = admin.get("api/v1/secrets/0", secretPath=f"/Scan Accounts/{WEB01}").json()
    assert secret["name"] == WEB01


def test_user_sees_only_shared_secrets(scanner: Client) -> None:
    denied = scanner.get("api/v1/secrets/1")
    assert denied.status_code == 400
    assert denied.json() == {"errorCode": "API_AccessDenied", "message": "Access Denied"}
    names = _names(scanner.get("api/v1/secrets", take=100).json())
    assert WEB01 in names and "dc-01.corp.example.com Administrator" not in names


def test_unknown_secret_id_is_access_denied(admin: Client) -> None:
    assert admin.get("api/v1/secrets/99999").json()["errorCode"] == "API_AccessDenied"


def _restricted_id(client: Client) -> int:
    query = {"filter.searchText": "CORP\\Administrator", "filter.isExactMatch": "true"}
    record = client.get("api/v1/secrets", **query).json()["records"][0]
    assert record["requiresComment"] is True
    return int(record["id"])


def test_comment_required_refuses_plain_read(scanner: Client) -> None:
    response = scanner.get(f"api/v1/secrets/{_restricted_id(scanner)}")
    assert response.status_code == 400
    assert response.json()["errorCode"] == "API_ValidateSecretAccessCommentRequired"


def test_comment_required_read_with_auto_comment(scanner: Client) -> None:
    secret_id = _restricted_id(scanner)
    assert scanner.get(f"api/v1/secrets/{secret_id}", autoComment="scan 42").status_code == 200


def test_comment_required_read_through_restricted(scanner: Client) -> None:
    secret_id = _restricted_id(scanner)
    path = f"api/v1/secrets/{secret_id}/restricted"
    assert scanner.post(path, json={"comment": ""}).status_code == 400
    secret = scanner.post(path, json={"comment": "weekly scan"}).json()
    assert secret["name"] == "CORP\\Administrator"
    field = scanner.post(f"{path}/fields/username", json={"comment": "weekly scan"})
    assert field.json() == "Administrator"


def test_restricted_secret_hides_password_in_extended_fields(scanner: Client) -> None:
    query = {
        "filter.searchText": "CORP\\Administrator",
        "filter.extendedFields": "Password",
    }
    record = scanner.get("api/v1/secrets", **query).json()["records"][0]
    assert record["extendedFields"] == [{"name": "Password", "value": None}]


def test_check_out_and_check_in(scanner: Client, admin: Client) -> None:
    query = {"filter.searchText": "LAB\\break-glass"}
    secret_id = scanner.get("api/v1/secrets/lookup", **query).json()["records"][0]["id"]
    path = f"api/v1/secrets/{secret_id}"
    no_auto = scanner.get(path, noAutoCheckout="true").json()
    assert no_auto["errorCode"] == "API_CheckOutRequired"
    assert scanner.post(f"{path}/check-out").json() == {"responseCodes": []}
    assert scanner.get(path).json()["checkedOut"] is True
    assert admin.get(path).json()["errorCode"] == "API_SecretCheckedOut"
    summary = scanner.post(f"{path}/check-in", json={}).json()
    assert summary["checkedOut"] is False
    # reading checks it out automatically, as Secret Server 11+ does
    assert admin.get(path).json()["checkOutUserDisplayName"] == admin.server.admin_username


def test_create_secret_from_stub_as_seed_003_does(admin: Client) -> None:
    stub = admin.get("api/v1/secrets/stub", **{"filter.secretTemplateId": 2}).json()
    assert [i["fieldId"] for i in stub["items"]] == [60, 61, 7, 8]
    stub.update(name="new-host.corp.example.com", folderId=4, secretTemplateId=2)
    for item in stub["items"]:
        item["itemValue"] = {"username": "foo", "password": "s3cret"}.get(item["slug"], "")
    created = admin.post("api/v1/secrets", json=stub).json()
    fetched = admin.get(f"api/v1/secrets/{created['id']}").json()
    assert {i["slug"]: i["itemValue"] for i in fetched["items"]}["password"] == "s3cret"


def test_update_secret_with_put(admin: Client) -> None:
    secret = admin.get("api/v1/secrets/1").json()
    for item in secret["items"]:
        if item["slug"] == "username":
            item["itemValue"] = "Administrator2"
    admin.request("PUT", "api/v1/secrets/1", json=secret).raise_for_status()
    assert admin.get("api/v1/secrets/1/fields/username").json() == "Administrator2"


def test_delete_deactivates(admin: Client) -> None:
    deleted = admin.request("DELETE", "api/v1/secrets/1").json()
    assert deleted == {"id": 1, "objectType": "Secret", "responseCodes": []}
    assert admin.get("api/v1/secrets/1").json()["errorCode"] == "API_AccessDenied"
    assert admin.get("api/v1/secrets/1", includeInactive="true").json()["active"] is False


def test_add_secret_helper_and_reset(admin: Client) -> None:
    server = admin.server
    secret_id = server.add_secret("extra", {"username": "u", "password": "p"})
    assert admin.get(f"api/v1/secrets/{secret_id}/fields/password").json() == "p"
    server.reset()
    admin.login()
    assert admin.get(f"api/v1/secrets/{secret_id}").status_code == 400


def test_templates_list_and_detail(admin: Client) -> None:
    names = {t["name"]: t["id"] for t in admin.get("api/v1/secret-templates").json()["records"]}
    assert {"Password", "Windows Account", "Unix Account (SSH)", "Scan Account"} <= set(names)
    assert "Active Directory Account" in names and names["Password"] == 2
    scan = admin.get(f"api/v1/secret-templates/{names['Scan Account']}").json()
    slugs = [f["slug"] for f in scan["fields"]]
    assert "privilege-password" in slugs
    assert scan["fields"][0]["name"] == "Machine"


def test_folder_by_id_and_path(admin: Client) -> None:
    folder = admin.get("api/v1/folders/3").json()
    assert folder["folderPath"] == "\\Infrastructure\\Unix" and folder["parentFolderId"] == 1
    by_path = admin.get("api/v1/folders/0", folderPath="\\Infrastructure", getAllChildren="true")
    assert [c["folderName"] for c in by_path.json()["childFolders"]] == [
        "Windows",
        "Unix",
        "Network",
    ]


def test_folder_lookup(admin: Client) -> None:
    query = {"filter.parentFolderId": 1, "filter.limitToDirectDescendents": "true"}
    found = admin.get("api/v1/folders/lookup", **query).json()
    assert found["total"] == 3 and found["records"][0] == {"id": 2, "value": "Windows"}
    named = admin.get("api/v1/folders/lookup", **{"filter.searchText": "scan"}).json()
    assert named["records"] == [{"id": 5, "value": "Scan Accounts"}]


def test_unknown_route_is_404(admin: Client) -> None:
    assert admin.get("api/v1/nothing-here").status_code == 404
