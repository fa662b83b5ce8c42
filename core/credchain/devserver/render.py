"""JSON shapes of Secret Server's models: SecretModel, SecretSummary, templates, folders, paging."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from .datafile import FileValue, TemplateField, TemplateSpec
from .store import CHECK_OUT_MINUTES, SecretRecord, Store

__all__ = ["folder", "paged", "secret_model", "secret_summary", "template"]

FILE_PLACEHOLDER = "*** Not Valid For Display ***"
# Timestamps without zone, with fractional seconds, as the real server writes them.
_HEARTBEAT = "2024-05-06T07:08:09.123"
_NEVER = "0001-01-01T00:00:00"
JsonObject = dict[str, Any]


def _item(secret: SecretRecord, field: TemplateField, index: int) -> JsonObject:
    raw = secret.items.get(field.slug, "")
    is_file_value = field.is_file and isinstance(raw, FileValue) and bool(raw.content)
    if field.is_file:
        value = FILE_PLACEHOLDER if is_file_value else ""
    else:
        value = raw.content if isinstance(raw, FileValue) else raw
    return {
        "itemId": secret.id * 100 + index,
        "fieldId": field.field_id,
        "fileAttachmentId": secret.id * 100 + index if is_file_value else None,
        "fieldName": field.name,
        "slug": field.slug,
        "fieldDescription": field.description,
        "filename": raw.filename if isinstance(raw, FileValue) and is_file_value else None,
        "itemValue": value,
        "isFile": field.is_file,
        "isNotes": field.is_notes,
        "isPassword": field.is_password,
        "isList": False,
        "listType": "None",
    }


def _check_out(store: Store, secret: SecretRecord) -> JsonObject:
    holder = store.holder(secret)
    remaining = 0
    if holder is not None:
        remaining = max(0, math.ceil((secret.checked_out_until - store.clock()) / 60))
    return {
        "checkedOut": holder is not None,
        "checkOutEnabled": secret.check_out_enabled,
        "checkOutIntervalMinutes": CHECK_OUT_MINUTES if secret.check_out_enabled else -1,
        "checkOutMinutesRemaining": remaining,
        "checkOutUserId": holder.id if holder is not None else -1,
        "checkOutUserDisplayName": holder.username if holder is not None else "",
    }


def _flags(secret: SecretRecord) -> JsonObject:
    return {
        "isRestricted": secret.requires_comment or secret.check_out_enabled,
        "requiresComment": secret.requires_comment,
        "requiresApprovalForAccess": False,
        "isDoubleLock": False,
        "doubleLockId": -1,
        "isOutOfSync": False,
        "lastHeartBeatStatus": "Success",
    }


def secret_model(store: Store, secret: SecretRecord) -> JsonObject:
    """The full SecretModel, items included (the caller has checked access)."""
    return {
        "id": secret.id,
        "name": secret.name,
        "secretTemplateId": secret.template.id,
        "secretTemplateName": secret.template.name,
        "folderId": secret.folder_id,
        "siteId": 1,
        "active": secret.active,
        **_check_out(store, secret),
        **_flags(secret),
        "autoChangeEnabled": False,
        "enableInheritPermissions": True,
        "enableInheritSecretPolicy": True,
        "secretPolicyId": -1,
        "lastHeartBeatCheck": _HEARTBEAT,
        "lastPasswordChangeAttempt": _NEVER,
        "responseCodes": [],
        "items": [_item(secret, f, i) for i, f in enumerate(secret.template.fields, 1)],
    }


def _extended_value(secret: SecretRecord, field: TemplateField) -> str | None:
    # Restricted secrets do not leak their passwords through search: read them properly.
    restricted = secret.requires_comment or secret.check_out_enabled
    if field.is_file or (field.is_password and restricted):
        return None
    return secret.value(field.slug)


def secret_summary(
    store: Store, secret: SecretRecord, extended_fields: Sequence[str] | None = None
) -> JsonObject:
    """A SecretSummary (search record); ``extended_fields`` adds those fields' values."""
    extended: list[JsonObject] | None = None
    if extended_fields:
        extended = []
        for name in extended_fields:
            field = secret.template.field(name)
            if field is not None:
                extended.append({"name": field.name, "value": _extended_value(secret, field)})
    check_out = _check_out(store, secret)
    return {
        "id": secret.id,
        "name": secret.name,
        "secretTemplateId": secret.template.id,
        "secretTemplateName": secret.template.name,
        "folderId": secret.folder_id,
        "folderPath": store.folder_path(secret.folder_id),
        "siteId": 1,
        "active": secret.active,
        "checkedOut": check_out["checkedOut"],
        "checkOutEnabled": secret.check_out_enabled,
        "checkOutUserDisplayName": check_out["checkOutUserDisplayName"],
        **_flags(secret),
        "requiresApproval": False,
        "extendedFields": extended,
    }


def _template_field(field: TemplateField) -> JsonObject:
    return {
        "secretTemplateFieldId": field.field_id,
        "fieldId": field.field_id,
        "name": field.name,
        "displayName": field.name,
        "slug": field.slug,
        "fieldSlugName": field.slug,
        "description": field.description,
        "isPassword": field.is_password,
        "isFile": field.is_file,
        "isNotes": field.is_notes,
        "isUrl": False,
        "isList": False,
        "isRequired": field.required,
    }


def template(spec: TemplateSpec) -> JsonObject:
    return {"id": spec.id, "name": spec.name, "active": True, "fields": _fields(spec)}


def _fields(spec: TemplateSpec) -> list[JsonObject]:
    return [_template_field(f) for f in spec.fields]


def folder(store: Store, folder_id: int, with_children: bool) -> JsonObject:
    spec = store.folders[folder_id]
    children = [f for f in store.folders.values() if f.parent == folder_id]
    return {
        "id": spec.id,
        "folderName": spec.name,
        "folderPath": store.folder_path(folder_id),
        "parentFolderId": spec.parent if spec.parent is not None else -1,
        "folderTypeId": 1,
        "secretPolicyId": -1,
        "inheritSecretPolicy": True,
        "inheritPermissions": True,
        "childFolders": [folder(store, c.id, True) for c in children] if with_children else None,
        "secretTemplates": None,
    }


def paged(
    records: Sequence[JsonObject], skip: int, take: int, total: int | None = None
) -> JsonObject:
    """The paging envelope around ``records[skip:skip+take]``.

    With ``total``, ``records`` is already the page (so only that page had to be rendered).
    """
    take = max(take, 1)
    if total is None:
        total, records = len(records), records[skip : skip + take]
    page_count = max(1, math.ceil(total / take))
    return {
        "records": list(records),
        "total": total,
        "skip": skip,
        "take": take,
        "batchCount": page_count,
        "pageCount": page_count,
        "currentPage": skip // take + 1,
        "hasNext": skip + take < total,
        "hasPrev": skip > 0,
        "nextSkip": skip + take if skip + take < total else skip,
        "prevSkip": max(skip - take, 0),
        "sortBy": [],
        "success": True,
        "severity": "None",
    }
