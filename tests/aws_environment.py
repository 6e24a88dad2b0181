"""What the shell's AWS settings were before the tests replace them with fake credentials (tests/conftest.py):
only the opt-in live smoke test (tests/live) uses them. Imported once, so it is captured once."""

from __future__ import annotations

import os

ORIGINAL_AWS_ENVIRONMENT = {
    name: os.environ.get(name)
    for name in (
        "AWS_PROFILE",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_ROLE_ARN",
        "AWS_CONFIG_FILE",
        "AWS_SHARED_CREDENTIALS_FILE",
    )
}
