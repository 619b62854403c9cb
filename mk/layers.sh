#!/bin/sh
# The include rule of lib/ (docs/ARCHITECTURE.md): lib/ is in folders by
# layer, lowest first as listed below; a file includes headers of its own
# folder and of the folders before it, never of one after it, and never
# bin/'s.  bin/ and tests/ may include any of lib/.  Prints each include
# that goes up a layer and fails if there is one.
layers="base tree plan pkg image cgd guest"
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top/lib" || exit 1
bad=0
badf=$(mktemp "${TMPDIR:-/tmp}/layers.XXXXXX") || exit 1
rank() {
	i=0
	for l in $layers; do
		[ "$l" = "$1" ] && { echo $i; return; }
		i=$((i + 1))
	done
	echo -1
}
for f in $(find . -name '*.[ch]' | sed 's|^\./||' | sort); do
	dir=${f%%/*}
	if [ "$dir" = "$f" ]; then
		echo "lib/$f: not in a layer's folder ($layers)"
		bad=1
		continue
	fi
	me=$(rank "$dir")
	if [ "$me" -lt 0 ]; then
		echo "lib/$f: $dir is not a layer ($layers)"
		bad=1
		continue
	fi
	grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$f" |
	while IFS= read -r line; do
		inc=$(echo "$line" | sed 's/.*include[[:space:]]*"\([^"]*\)".*/\1/')
		n=${line%%:*}
		case $inc in
		*/*)	them=$(rank "${inc%%/*}") ;;
		*)	echo "lib/$f:$n: \"$inc\": name the layer (\"$dir/$inc\")"
			echo x >> "$badf"; continue ;;
		esac
		if [ "$them" -lt 0 ]; then
			echo "lib/$f:$n: \"$inc\": not a layer of lib"
			echo x >> "$badf"
		elif [ "$them" -gt "$me" ]; then
			echo "lib/$f:$n: \"$inc\": $dir may not include ${inc%%/*} (a higher layer)"
			echo x >> "$badf"
		fi
	done
done
if [ -s "$badf" ]; then bad=1; fi
rm -f "$badf"
[ $bad -eq 0 ] && echo "layers: lib/ includes go down only ($layers)"
exit $bad
