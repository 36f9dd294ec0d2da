#!/usr/bin/env python3
"""Fails when a dependency of a published crate declares a newer rust-version than the crate.

Reads `cargo metadata --format-version 1` on stdin: what Cargo.lock resolves, every feature
of the workspace on. Dev-dependencies are left out: they never reach a user's build.
"""

import json
import sys


def version(v):
    """`1.85` as (1, 85, 0), to compare with `1.85.0`."""
    parts = [int(x) for x in (v or "0").split(".")]
    return tuple(parts + [0] * (3 - len(parts)))


def main():
    m = json.load(sys.stdin)
    packages = {p["id"]: p for p in m["packages"]}
    nodes = {n["id"]: n for n in m["resolve"]["nodes"]}
    published = [p for p in m["packages"] if p["source"] is None and p["publish"] != []]
    bad = []
    for root in published:
        ours = version(root["rust_version"])
        seen, todo = set(), [root["id"]]
        while todo:
            i = todo.pop()
            if i in seen:
                continue
            seen.add(i)
            dep = packages[i]
            if version(dep["rust_version"]) > ours:
                bad.append(
                    f"{root['name']} (rust-version {root['rust_version']}) depends on "
                    f"{dep['name']} {dep['version']}, which needs Rust {dep['rust_version']}"
                )
            todo += [
                d["pkg"]
                for d in nodes[i]["deps"]
                if any(k["kind"] != "dev" for k in d["dep_kinds"])
            ]
        print(f"{root['name']}: rust-version {root['rust_version']}, {len(seen) - 1} dependencies")
    for line in bad:
        print(line, file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
