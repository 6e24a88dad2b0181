"""Powertools for Lambda as a layer built from the very package version the tests run against."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pulumi
import pulumi_aws as aws

from components.lambda_function import ARCHITECTURE, RUNTIME
from components.naming import stack_scoped

# Powertools and what it imports that the Lambda runtime does not ship (boto3 and botocore it does).
PACKAGES = ("aws_lambda_powertools", "jmespath", "typing_extensions")


def _installed_path(module: str) -> Path:
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        raise RuntimeError(f"{module} is not installed: run the README's install command first")
    origin = Path(spec.origin)
    return origin.parent if origin.name == "__init__.py" else origin


def layer_archive() -> pulumi.AssetArchive:
    assets: dict[str, pulumi.Asset | pulumi.Archive] = {}
    for module in PACKAGES:
        path = _installed_path(module)
        if path.is_dir():
            assets[f"python/{path.name}"] = pulumi.FileArchive(str(path))
        else:
            assets[f"python/{path.name}"] = pulumi.FileAsset(str(path))
    return pulumi.AssetArchive(assets)


class PowertoolsLayer(pulumi.ComponentResource):
    def __init__(self, name: str, opts: pulumi.ResourceOptions | None = None):
        super().__init__("serverlesspresso:functions:PowertoolsLayer", name, None, opts)
        self.layer = aws.lambda_.LayerVersion(
            name,
            layer_name=stack_scoped(name),
            code=layer_archive(),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCHITECTURE],
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.arn = self.layer.arn
        self.register_outputs({"arn": self.arn})
