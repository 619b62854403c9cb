#!/bin/sh
# The one entry point a fresh Debian machine needs (it may not have make):
#   sh setup.sh demo    the main job on a bundled sample
#   sh setup.sh check   every test; ends "N passed, N failed"
#   sh setup.sh bench   speed figures
# As root it installs the Debian packages that are missing first; as an
# ordinary user it says which are missing, if any.
set -e
cd "$(dirname "$0")"
case "$1" in
demo|check|bench) ;;
*)	echo "usage: sh setup.sh demo | check | bench" >&2
	exit 1 ;;
esac
sh mk/deps.sh
exec make -s "$1"
