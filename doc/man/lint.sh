#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Check man pages: groff with every warning on must print nothing.
# Usage: lint.sh PAGE...    Exit 0: clean, 1: warnings (printed), 2: usage.
[ $# -gt 0 ] || { echo "usage: $0 PAGE..." >&2; exit 2; }
status=0
for page in "$@"; do
	out=$(LC_ALL=C.UTF-8 groff -man -ww -z -Tutf8 "$page" 2>&1)
	if [ $? -ne 0 ] || [ -n "$out" ]; then
		printf '%s:\n%s\n' "$page" "${out:-groff failed}"
		status=1
	fi
done
exit $status
