"""Node.js and the TypeScript client's installed tools (clients/typescript)."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from tests.namespace import ROOT
from tests.support.clients import need

CLIENT = ROOT / "clients" / "typescript"


@dataclass(frozen=True)
class Node:
    """Node.js and the TypeScript package's installed tools."""

    node: str
    bin: Path  # clients/typescript/node_modules/.bin

    def tool(self, name: str) -> str:
        return str(self.bin / name)


def installed_node() -> Node:
    """Node.js and the package's dependencies (``npm ci --prefix clients/typescript``);
    a test without them skips, or fails under CI=true."""
    found = shutil.which("node")
    need(found is not None, "Node.js (apt-get install nodejs npm)")
    assert found is not None
    bin_dir = CLIENT / "node_modules" / ".bin"
    need(
        (bin_dir / "tsc").exists() and (bin_dir / "openapi-typescript").exists(),
        "The TypeScript client's dependencies (npm ci --prefix clients/typescript)",
    )
    return Node(node=found, bin=bin_dir)
