#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Every relative link in README.md, docs/ and bench/results/ ([text](path)
# or [text](path#anchor)) leads to a file or directory that exists,
# relative to the page that has it. Run from the top of the tree.
set -eu
bad=0
for page in README.md docs/*.md bench/results/*.md; do
	[ -f "$page" ] || continue
	dir=$(dirname "$page")
	# The targets of inline links, leaving out URLs and in-page anchors.
	for target in $(grep -o '\](\([^)]*\))' "$page" | sed 's/^](\(.*\))$/\1/' |
			grep -v -e '^[a-z]*:' -e '^#' | sed 's/#.*//'); do
		[ -e "$dir/$target" ] || { echo "$page: no such file: $target"; bad=1; }
	done
done
exit $bad
