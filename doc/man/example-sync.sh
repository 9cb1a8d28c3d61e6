#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Check that the EXAMPLE section of vhostio-handler.3 shows exactly
# doc/examples/handler_example.c.  The page has each tab as four spaces,
# backslashes as \e and a \& before a leading '.' or "'".
# Usage: example-sync.sh PAGE SOURCE    Exit 0: same, 1: differ.
[ $# -eq 2 ] || { echo "usage: $0 PAGE SOURCE" >&2; exit 2; }
# The first .EX/.EE block after .SH EXAMPLE.
page=$(awk '/^\.SH EXAMPLE/ { sec = 1; next }
	sec && /^\.SH / { exit }
	sec && /^\.EX$/ && !done { inex = 1; next }
	inex && /^\.EE$/ { inex = 0; done = 1; next }
	inex { print }' "$1")
want=$(sed -e 's/\\/\\e/g' -e 's/\t/    /g' -e "s/^\([.']\)/\\\\\&\1/" "$2")
if [ "$page" = "$want" ]; then
	exit 0
fi
echo "$1: EXAMPLE differs from $2:"
printf '%s\n' "$want" > "${TMPDIR:-/tmp}/example-want.$$"
printf '%s\n' "$page" > "${TMPDIR:-/tmp}/example-page.$$"
diff -u "${TMPDIR:-/tmp}/example-want.$$" "${TMPDIR:-/tmp}/example-page.$$"
rm -f "${TMPDIR:-/tmp}/example-want.$$" "${TMPDIR:-/tmp}/example-page.$$"
exit 1
