"""API Gateway mapping templates: VTL files in `vtl/` with named ``${Name}`` placeholders, filled like `asl/`.

Templates never use VTL's formal ``${reference}`` notation themselves, so every ``${...}`` in a file is a
placeholder of ours; one left unfilled (or a substitution the file does not use) stops the program.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pulumi

from components.asl import PLACEHOLDER, PlaceholderError

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "vtl"
# One definition of "the caller is in the admin group" (API Gateway hands Cognito's groups over as text),
# filled into every template that needs it as ${DefineCallerIsAdmin}.
CALLER_IS_ADMIN_VTL = (
    "#set($callerGroups = \"$!context.authorizer.claims['cognito:groups']\")"
    "#set($callerIsAdmin = $callerGroups.matches('(.*[^A-Za-z0-9_-])?admin([^A-Za-z0-9_-].*)?'))"
)


def fill(text: str, substitutions: Mapping[str, str]) -> str:
    """Replace every placeholder of ``text``; `PlaceholderError` if the names do not match exactly."""
    used = set(PLACEHOLDER.findall(text))
    missing, unknown = used - set(substitutions), set(substitutions) - used
    if missing or unknown:
        raise PlaceholderError(missing, unknown)
    return PLACEHOLDER.sub(lambda match: str(substitutions[match.group(1)]), text)


def template(name: str, **substitutions: pulumi.Input[str]) -> pulumi.Output[str]:
    """The file ``vtl/<name>.vtl`` with its placeholders filled once the values are known."""
    path = TEMPLATES_DIR / f"{name}.vtl"
    text = path.read_text()
    # Checked now, at program time, for the names; the values may still be unknown Outputs.
    used = set(PLACEHOLDER.findall(text))
    if used != set(substitutions):
        raise PlaceholderError(used - set(substitutions), set(substitutions) - used)
    if not substitutions:
        return pulumi.Output.from_input(text)
    keys = sorted(substitutions)
    return pulumi.Output.all(*(substitutions[key] for key in keys)).apply(
        lambda values: fill(text, dict(zip(keys, values, strict=True)))
    )
