#!/usr/bin/env python3
"""Reads `cargo build --message-format=json...` on standard input and prints the OUT_DIR
of the named package's build script (where build.rs wrote mif.h). Exits 1 if none."""
import json
import sys

package = sys.argv[1]
found = None
for line in sys.stdin:
    try:
        message = json.loads(line)
    except ValueError:
        continue
    if message.get("reason") == "build-script-executed" and f"#{package}@" in message.get("package_id", ""):
        found = message["out_dir"]
if not found:
    sys.exit(f"out-dir.py: cargo reported no build script output for {package}")
print(found)
