#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""validate.py SCHEMA KIND FILE [--lines]: every line of FILE against docs/schema.

KIND is a definition of the schema ($defs). A short command's output is exactly one
line of KIND; with --lines (backup, restore, verify), every line but the last is a
"status" and the last one a KIND (their summary). KIND "error" is stderr under --json.
Prints what it checked; exits 1 naming the line and the field on the first mismatch."""
import json
import sys

import jsonschema


def main():
    path, kind, out = sys.argv[1:4]
    lines_mode = "--lines" in sys.argv[4:]
    with open(path) as f:
        schema = json.load(f)
    cls = getattr(jsonschema, "Draft202012Validator", None) or jsonschema.Draft7Validator
    cls.check_schema(schema)

    def validator(name):
        if name not in schema["$defs"]:
            sys.exit(f"validate.py: no definition '{name}' in {path}")
        return cls({"$ref": f"#/$defs/{name}", "$defs": schema["$defs"]})

    with open(out) as f:
        text = f.read()
    if not text.endswith("\n"):
        sys.exit(f"{out}: output does not end with a newline: {text!r}")
    lines = text.splitlines()
    if not lines:
        sys.exit(f"{out}: no output")
    if not lines_mode and len(lines) != 1:
        sys.exit(f"{out}: {len(lines)} lines, expected one {kind} document: {text!r}")
    for n, line in enumerate(lines, 1):
        want = kind if n == len(lines) or not lines_mode else "status"
        try:
            doc = json.loads(line)
        except ValueError as e:
            sys.exit(f"{out}:{n}: not JSON ({e}): {line!r}")
        errors = sorted(validator(want).iter_errors(doc), key=lambda e: list(e.path))
        if errors:
            e = errors[0]
            where = "/".join(str(p) for p in e.absolute_path) or "(top)"
            sys.exit(f"{out}:{n}: not a valid {want} at {where}: {e.message}\n  {line}")
    statuses = len(lines) - 1 if lines_mode else 0
    print(f"ok {kind}: {len(lines)} line(s), {statuses} status")


if __name__ == "__main__":
    main()
