"""The pack as the Pulumi CLI loads it: every rule of `policy_pack.rules`, one policy each."""

import sys
from pathlib import Path

# The CLI puts only this folder on the path; the rules import the project's shared IAM list.
REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from pulumi_policy import PolicyPack  # noqa: E402

from policy_pack.rules import PACK_NAME, RULES, as_policy  # noqa: E402

PolicyPack(name=PACK_NAME, policies=[as_policy(rule) for rule in RULES])
