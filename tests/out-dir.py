#!/usr/bin/env python3
"""Reads `cargo build --message-format=json...` on standard input and prints the OUT_DIR
of the build script of the package whose manifest directory is the argument (where
build.rs wrote mif.h). Exits 1 if there is none.

Cargo names a path package `path+file://DIR#NAME@VERSION`, or `path+file://DIR#VERSION`
when NAME is DIR's last component: matching the directory covers both."""
import json
import os
import sys

manifest_dir = os.path.realpath(sys.argv[1])
found = None
for line in sys.stdin:
    try:
        message = json.loads(line)
    except ValueError:
        continue
    package = message.get("package_id", "")
    if message.get("reason") == "build-script-executed" and package.startswith("path+file://"):
        if os.path.realpath(package[len("path+file://"):].split("#", 1)[0]) == manifest_dir:
            found = message["out_dir"]
if not found:
    sys.exit(f"out-dir.py: cargo reported no build script output for the package in {manifest_dir}")
print(found)
