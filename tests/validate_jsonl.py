#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Validates JSON Lines files (stdin without any) against sockeye's JSON
schema, record by record; exits 1 naming the first bad record.

  validate_jsonl.py SCHEMA [--unproduced TYPE,...] [FILE...]

With --unproduced, also checks that every record type of the schema was
seen across the files, except those listed (the types a test cannot make
happen everywhere, such as a warning only some kernels give): one missing
but not listed fails; a listed one may be seen, and is validated then.
On success prints the record types seen, one line, sorted."""
import json
import sys

import jsonschema


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    with open(argv[1]) as f:
        schema = json.load(f)
    args, unproduced = argv[2:], None
    if args[:1] == ["--unproduced"]:
        unproduced = set(t for t in args[1].split(",") if t)
        args = args[2:]
    validator = jsonschema.Draft202012Validator(schema)
    jsonschema.Draft202012Validator.check_schema(schema)
    seen = set()
    files = args or ["-"]
    for name in files:
        f = sys.stdin if name == "-" else open(name, encoding="utf-8", errors="strict")
        for n, line in enumerate(f, 1):
            where = "%s:%d" % (name, n)
            try:
                record = json.loads(line)
            except ValueError as e:
                sys.exit("%s: not JSON (%s): %s" % (where, e, line.rstrip()))
            errors = sorted(validator.iter_errors(record), key=lambda e: e.path)
            if errors:
                sys.exit("%s: %s\n  in %s" % (where, best_message(errors), line.rstrip()))
            seen.add(record["type"])
    if unproduced is not None:
        types = set(schema["properties"]["type"]["enum"])
        for t in sorted(unproduced - types):
            sys.exit("%s is listed as unproduced but is no record type of the schema" % t)
        for t in sorted(types - seen - unproduced):
            sys.exit("no record of type %s was produced" % t)
    print(" ".join(sorted(seen)))


def best_message(errors):
    """The deepest error: an if/then's 'then' failing says little itself,
    and the keys of a shared part that failed are unevaluated too."""
    def best(errors):
        rest = [e for e in errors if e.validator != "unevaluatedProperties"]
        return jsonschema.exceptions.best_match(rest or errors)

    e = best(errors)
    while e.context:
        e = best(e.context)
    return "%s%s" % ("/".join(str(p) for p in e.absolute_path) + ": " if e.absolute_path else "", e.message)


if __name__ == "__main__":
    main(sys.argv)
