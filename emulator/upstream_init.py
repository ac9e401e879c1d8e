"""``func-offline upstream init``: a sample ``settings.json`` for the local SignalR Service, as
Microsoft's emulator writes with ``asrs-emulator upstream init`` (Azure/azure-signalr
``src/Microsoft.Azure.SignalR.Emulator``): one rule sending every event of every hub to the
local Functions host. Edit it; a running stack reloads it when it changes."""

from __future__ import annotations

import json
import sys
from pathlib import Path

__all__ = ["SAMPLE", "write_sample_settings"]

SAMPLE = {
    "UpstreamSettings": {
        "Templates": [
            {
                "UrlTemplate": "http://localhost:7071/runtime/webhooks/signalr",
                "EventPattern": "*",
                "HubPattern": "*",
                "CategoryPattern": "*",
            }
        ]
    }
}


def write_sample_settings(path: Path, *, force: bool = False) -> int:
    """Write the sample to ``path``; an existing file is kept unless ``force``. Exit code."""
    if path.exists() and not force:
        print(f"error: {path} exists; use --force to overwrite it", file=sys.stderr)
        return 1
    path.write_text(json.dumps(SAMPLE, indent=2) + "\n", encoding="utf-8")
    print(f"Wrote {path}: every event goes to http://localhost:7071/runtime/webhooks/signalr. "
          f"Patterns: '*', a list ('connected,disconnected') or one name; the first rule that "
          f"matches wins.")
    return 0
