"""Python code shared by the functions, shipped once as a Lambda layer (its files go under `python/`)."""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path

import pulumi
import pulumi_aws as aws

from components.lambda_function import ARCHITECTURE, RUNTIME, source_files
from components.naming import stack_scoped

# Powertools and what it imports that the Lambda runtime does not ship (boto3 and botocore it does).
POWERTOOLS_PACKAGES = ("aws_lambda_powertools", "jmespath", "typing_extensions")


def installed(module: str) -> Path:
    """Where an installed module lives: its package folder, or its single file."""
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        raise RuntimeError(f"{module} is not installed: run the README's install command first")
    origin = Path(spec.origin)
    return origin.parent if origin.name == "__init__.py" else origin


def layer_archive(sources: Sequence[Path]) -> pulumi.AssetArchive:
    """Each source under ``python/``, file by file: two installs of the same versions give the same archive
    (no bytecode, which records install times), so an update never replaces an unchanged layer."""
    assets: dict[str, pulumi.Asset | pulumi.Archive] = {}
    for path in sources:
        if not path.exists():
            raise FileNotFoundError(f"layer source {path} does not exist")
        if path.is_dir():
            for file in source_files(path):
                assets[f"python/{path.name}/{file.relative_to(path).as_posix()}"] = pulumi.FileAsset(
                    str(file)
                )
        else:
            assets[f"python/{path.name}"] = pulumi.FileAsset(str(path))
    return pulumi.AssetArchive(dict(sorted(assets.items())))


class PythonLayer(pulumi.ComponentResource):
    def __init__(self, name: str, *, sources: Sequence[Path], opts: pulumi.ResourceOptions | None = None):
        super().__init__("serverlesspresso:functions:PythonLayer", name, None, opts)
        self.layer = aws.lambda_.LayerVersion(
            name,
            layer_name=stack_scoped(name),
            code=layer_archive(sources),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCHITECTURE],
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.arn = self.layer.arn
        self.register_outputs({"arn": self.arn})
