"""A Secret Server REST API v1 look-alike for development and tests: in memory, loopback, TLS.

NOT for production: it holds demo credentials in memory and its control endpoints (``/_dev``)
are unauthenticated. See docs/dev-server.md.
"""

from __future__ import annotations

from .datafile import Dataset, FileValue, SecretSpec, TemplateSpec, UserSpec, load_dataset
from .demo_data import DEMO_ASSETS, SCANNER_PASSWORD, demo_dataset, demo_password
from .faults import FAULT_KINDS, Fault, parse_fault
from .server import AdminCredentials, DevServer, DevServerOptions, thycotic_table
from .tls import ClientIdentity, make_client_identity

__all__ = [
    "DEMO_ASSETS",
    "FAULT_KINDS",
    "SCANNER_PASSWORD",
    "AdminCredentials",
    "ClientIdentity",
    "Dataset",
    "DevServer",
    "DevServerOptions",
    "Fault",
    "FileValue",
    "SecretSpec",
    "TemplateSpec",
    "UserSpec",
    "demo_dataset",
    "demo_password",
    "load_dataset",
    "make_client_identity",
    "parse_fault",
    "thycotic_table",
]
