#!/bin/sh
# mkseeds.sh [SBIN]: add seed inputs (seed-*) to the corpus of each fuzz
# target, tests/fuzz/corpus/TARGET, from real data: the nb4 and nb10 fixtures, the
# templates, parameters files as cgdconfig -g writes them, a record
# setup-local wrote, sets and FFS images made from sample roots with tar
# and makefs, and partitioned disks made with sfdisk.  SBIN holds the
# tools (default: build/check/stage/sbin, after make check).  Needs
# python3 (binary packing), makefs, sfdisk, tar, xz and bzip2; run as
# root for device nodes.  Only for remaking seeds: the fuzzers and
# make check use the committed corpus.  After it, make fuzz and make
# fuzz-merge fold the seeds into the minimised corpus.
set -e
top=$(cd "$(dirname "$0")/../.." && pwd)
sbin=${1:-$top/build/check/stage/sbin}
export PATH=$sbin:$PATH:/usr/local/sbin:/usr/sbin:/sbin
w=$(mktemp -d "${TMPDIR:-/tmp}/sr-seeds.XXXXXX")
trap 'rm -rf "$w"' EXIT
out=$w/seeds
for t in cgdparams edits template record sets ffs parts upgrade; do
	mkdir -p "$out/$t"
done

# Binary packing: sparse images and records (see tests/fuzz/fuzz.h).
cat > "$w/pack.py" <<'EOF'
import struct, sys
def sparse(img, out):
    data = open(img, 'rb').read()
    runs, i, step = [], 0, 64
    while i < len(data):
        if data[i:i + step].strip(b'\0'):
            j = i
            while j < len(data) and data[j:j + step].strip(b'\0') and \
                    j - i < 65536 - step:
                j += step
            chunk = data[i:j].rstrip(b'\0')
            runs.append(struct.pack('<QH', i, len(chunk)) + chunk)
            i = j
        else:
            i += step
    open(out, 'wb').write(b'SRSPARSE' + struct.pack('<Q', len(data)) +
                          b''.join(runs))
def record(flag, idline, man, tgz, out):
    r = lambda p: open(p, 'rb').read()
    i, m = r(idline), r(man)
    open(out, 'wb').write(bytes([int(flag)]) + struct.pack('<H', len(i)) +
                          i + struct.pack('<I', len(m)) + m + r(tgz))
def three(flag, b, m, t, out):
    r = lambda p: open(p, 'rb').read()
    b, m = r(b), r(m)
    open(out, 'wb').write(bytes([int(flag)]) + struct.pack('<H', len(b)) +
                          b + struct.pack('<H', len(m)) + m + r(t))
{'sparse': sparse, 'record': record, 'three': three}[sys.argv[1]](*sys.argv[2:])
EOF
pack() { python3 "$w/pack.py" "$@"; }

# Sample roots of both shapes, prepared by setup-root.
for s in nb4 nb10; do
	sh "$top/mk/sample-root.sh" $s "$w/$s"
	setup-root "$w/$s" > /dev/null
done

# edits: the fixtures as they are, and an rc with the hook in it.
for s in nb4 nb10; do
	for f in rc rc.conf ttys crontab MAKEDEV fstab defaults.rc.conf; do
		cp "$top/tests/data/$s/$f" "$out/edits/$s-$f"
	done
	cp "$w/$s/etc/rc" "$out/edits/$s-rc-hooked"
done

# template: what the tools render.
for f in "$top"/templates/* "$top"/rc/*; do
	cp "$f" "$out/template/$(basename "$f")"
done

# cgdparams: as cgdconfig -g writes them (params.c: keygen_fput,
# print_kvpair_b64 wrapping at column 50), and the older forms.
# Derivations kept small, so that the target derives each key.
c=$out/cgdparams
cat > "$c/storedkey-512" <<'EOF'
algorithm aes-xts;
iv-method encblkno1;
keylength 512;
verify_method ffs;
keygen storedkey key AAACAAABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4fICEi \
                     IyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=;
EOF
cat > "$c/pbkdf2" <<'EOF'
algorithm aes-cbc;
iv-method encblkno1;
keylength 128;
verify_method disklabel;
keygen pkcs5_pbkdf2/sha1 {
        iterations 32;
        salt AAAAgAABAgMEBQYHCAkKCwwNDg8=;
};
EOF
cat > "$c/argon2id" <<'EOF'
algorithm adiantum;
iv-method encblkno1;
keylength 256;
verify_method gpt;
keygen argon2id {
        iterations 2;
        memory 64;
        parallelism 2;
        version 19;
        salt AAAAgAABAgMEBQYHCAkKCwwNDg8=;
};
EOF
cat > "$c/two-keygens" <<'EOF'
# A passphrase and a stored key, XORed.
algorithm aes-cbc; keylength 192; verify_method mbr
keygen pkcs5_pbkdf2/sha1 { iterations 4; salt AAAAQAECAwQFBgcI; };
keygen storedkey key "AAAAwAABAgMEBQYHCAkKCwwNDg8QERITFBUWFw==";
EOF
cat > "$c/deprecated" <<'EOF'
algorithm blowfish-cbc;
iv-method encblkno;
keylength 128;
keygen_method pkcs5_pbkdf2/sha1;
keygen_salt AAAAgAABAgMEBQYHCAkKCwwNDg8=;
keygen_iterations 8;
xor_key AAAAgAABAgMEBQYHCAkKCwwNDg8=;
EOF
printf 'algorithm aes-xts;\nkeylength 256;\nkeygen urandomkey;\n' > "$c/swap"
printf 'algorithm 3des-cbc;\nkeygen randomkey;\nkeygen shell_cmd cmd "cat /k";\n' \
    > "$c/random-shell"
# As setup-local -c makes a new one (cgdparams_generate).
printf 'algorithm aes-xts;\niv-method encblkno1;\nkeylength 512;\nverify_method ffs;\nkeygen storedkey key AAACAAABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4fICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=;\n' \
    > "$c/setup-local-c"

# record: a local setup-local seeded, its .sharedroot as read back.
for s in nb4 nb10; do
	mkdir "$w/$s-local"
	setup-local "$w/$s" "$w/$s-local" > /dev/null
	r=$w/$s-local/.sharedroot
	pack record 0 "$r/root-id" "$r/base-manifest" "$r/base-etc.tgz" \
	    "$out/record/$s"
	# The archive unzipped (read all the same): mutations reach the
	# tar headers, the id made to match whatever the manifest becomes.
	gunzip < "$r/base-etc.tgz" > "$w/$s-base.tar"
	pack record 1 "$r/root-id" "$r/base-manifest" "$w/$s-base.tar" \
	    "$out/record/$s-tar"
done

# upgrade: password and group files as a guest and a release change
# them (merged by record, and by lines with the flag's low bit), motd
# as rc.d/motd leaves it, a base-manifest for its var lines.
u=$w/upgrade
mkdir "$u"
e=$w/nb10/etc
cp "$e/master.passwd" "$u/pw.b"
{ cat "$e/master.passwd"; echo 'alice:*:1000:100::0:0:Alice:/home/alice:/bin/sh'; } > "$u/pw.m"
{ cat "$e/master.passwd"; echo '_npf:*:45:45::0:0:npf:/var/chroot/npf:/sbin/nologin'; } > "$u/pw.t"
pack three 0 "$u/pw.b" "$u/pw.m" "$u/pw.t" "$out/upgrade/passwd-both-add"
pack three 1 "$u/pw.b" "$u/pw.m" "$u/pw.t" "$out/upgrade/passwd-lines"
cp "$e/group" "$u/gr.b"
sed 's/^wheel:\*:0:root$/wheel:*:0:root,admin/' "$e/group" > "$u/gr.m"
echo 'users:*:100:alice' >> "$u/gr.m"
{ echo 'npf:*:45:'; cat "$e/group"; } | sed 's/^uucp:.*/uucp:*:66:uucp/' > "$u/gr.t"
pack three 0 "$u/gr.b" "$u/gr.m" "$u/gr.t" "$out/upgrade/group"
sed 's/^wheel:.*/wheel:*:0:release/' "$u/gr.t" > "$u/gr.c"
pack three 1 "$u/gr.b" "$u/gr.m" "$u/gr.c" "$out/upgrade/group-conflict"
pack three 2 "$u/gr.b" "$u/gr.m" "$u/gr.t" "$out/upgrade/group-guest-as-base"
pack three 5 "$u/gr.b" "$u/gr.m" "$u/gr.t" "$out/upgrade/group-release-as-base"
pack three 7 "$u/gr.b" "$u/gr.m" "$u/gr.t" "$out/upgrade/group-both-same"
printf 'NetBSD 10.0 (GENERIC)\n\nWelcome to NetBSD!\n' > "$u/motd.b"
printf 'NetBSD 10.0 (XEN3_DOMU) #0\n\nWelcome to NetBSD!\n' > "$u/motd.m"
printf 'NetBSD 10.1 (GENERIC)\n\nWelcome to NetBSD 10.1!\n' > "$u/motd.t"
pack three 1 "$u/motd.b" "$u/motd.m" "$u/motd.t" "$out/upgrade/motd"
: > "$u/empty"
for s in nb4 nb10; do
	pack three 0 "$u/empty" "$u/empty" \
	    "$w/$s-local/.sharedroot/base-manifest" "$out/upgrade/$s-manifest"
done

# (The sample roots' 8 MiB sparse file made small.)
for s in nb4 nb10; do
	rm -f "$w/$s/var/db/sparse"
	truncate -s 40k "$w/$s/var/db/sparse"
	echo end >> "$w/$s/var/db/sparse"
done

# sets: a root's trees as NetBSD's sets are made (./-relative, each
# compression), and the shapes a hostile set takes.
(cd "$w/nb10" && tar --format=ustar -cf "$w/set.tar" ./etc/rc.d ./dev ./var/run)
cp "$w/set.tar" "$out/sets/rcd-dev-run.tar"
(cd "$w/nb10" && tar -cf - ./etc ./dev ./var) | gzip -9 > "$out/sets/etc-dev-var.tgz"
(cd "$w/nb4" && tar -cf - ./etc/rc.d) | xz -9 > "$out/sets/rcd.txz"
(cd "$w/nb4" && tar -cf - ./etc/ttys) | bzip2 -9 > "$out/sets/ttys.tbz"
python3 - "$out/sets" <<'EOF'
import io, sys, tarfile
def make(name, members, fmt=tarfile.USTAR_FORMAT):
    with tarfile.open(sys.argv[1] + '/' + name, 'w', format=fmt) as t:
        for m, data in members:
            t.addfile(m, io.BytesIO(data) if data is not None else None)
def ent(name, kind=tarfile.REGTYPE, data=b'', link='', mode=0o644):
    m = tarfile.TarInfo(name)
    m.type, m.linkname, m.mode = kind, link, mode
    m.size = len(data) if kind == tarfile.REGTYPE else 0
    return (m, data if kind == tarfile.REGTYPE else None)
make('dotdot.tar', [ent('./etc/../../x', data=b'out')])
make('absolute.tar', [ent('/etc/passwd', data=b'root::0:0\n')])
make('hardlink-out.tar', [ent('./a', data=b'a'),
    ent('./b', tarfile.LNKTYPE, link='../a')])
make('through-symlink.tar', [ent('./d', tarfile.SYMTYPE, link='/tmp'),
    ent('./d/x', data=b'through a link')])
make('devices.tar', [ent('./dev', tarfile.DIRTYPE, mode=0o755),
    ent('./dev/null', tarfile.CHRTYPE, mode=0o666),
    ent('./dev/wd0a', tarfile.BLKTYPE, mode=0o640),
    ent('./var/run/fifo', tarfile.FIFOTYPE, mode=0o600)])
make('pax-long.tar', [ent('./' + 'n' * 200 + '/f', data=b'long'),
    ent('./usr/bin/su', data=b'#!', mode=0o4555)], tarfile.PAX_FORMAT)
make('hardlinks.tar', [ent('./etc/passwd', data=b'root:*:0:0\n'),
    ent('./etc/passwd.hardlink', tarfile.LNKTYPE, link='./etc/passwd'),
    ent('./.', tarfile.DIRTYPE, mode=0o755)])
EOF

# ffs: FFS images makefs writes of a small tree shaped like a guest's
# (every kind of entry, hard and symbolic links, a sparse file, one
# with an indirect block), with NetBSD owners and device nodes from an
# mtree spec: small, as every input is written and read whole.  FFSv1
# as newfs and makefs lay it out, and makefs's FFSv2.
t=$w/tree
mkdir -p "$t/etc/rc.d" "$t/dev" "$t/var/db" "$t/var/run" "$t/.sharedroot"
cp "$top/tests/data/nb10/rc.conf" "$top/tests/data/nb10/ttys" "$t/etc/"
printf '. /etc/rc.subr\n. /etc/rc.conf\n' > "$t/etc/rc"
echo 'root:*:0:0::/root:/bin/sh' > "$t/etc/passwd"
ln "$t/etc/passwd" "$t/etc/passwd.hardlink"
ln -s passwd "$t/etc/link"
printf '#!/bin/sh\n# PROVIDE: root\n' > "$t/etc/rc.d/root"
mkfifo "$t/var/run/fifo"
truncate -s 40k "$t/var/db/sparse"
echo end >> "$t/var/db/sparse"
head -c 65536 /dev/zero > "$t/var/db/zeros"
echo end >> "$t/var/db/zeros"
cp "$w/nb10/.sharedroot/id" "$t/.sharedroot/id"
(cd "$t" && find . | sort | while read -r p; do
	if [ -L "$p" ]; then
		echo "$p type=link mode=0777 uid=0 gid=0 link=$(readlink "$p")"
	elif [ -d "$p" ]; then
		echo "$p type=dir mode=0755 uid=0 gid=0"
	elif [ -p "$p" ]; then
		echo "$p type=fifo mode=0600 uid=0 gid=0"
	else
		echo "$p type=file mode=0644 uid=0 gid=0"
	fi
done
echo "./dev/null type=char mode=0666 uid=0 gid=0 device=netbsd,2,2"
echo "./dev/xbd0a type=block mode=0640 uid=0 gid=5 device=netbsd,142,0"
) > "$w/tree.spec"
makefs -t ffs -B le -s 512k -o version=1,bsize=4096,fsize=512,density=16384 \
    -F "$w/tree.spec" "$w/v1.img" "$t" > /dev/null
pack sparse "$w/v1.img" "$out/ffs/v1"
makefs -t ffs -B le -s 512k -o version=1,bsize=8192,fsize=1024,density=16384 \
    -F "$w/tree.spec" "$w/v1-8k.img" "$t" > /dev/null
pack sparse "$w/v1-8k.img" "$out/ffs/v1-8k"
makefs -t ffs -B le -s 1m -o version=2,bsize=4096,fsize=512,density=16384 \
    -F "$w/tree.spec" "$w/v2.img" "$t" > /dev/null
pack sparse "$w/v2.img" "$out/ffs/v2"

# parts: the v1 image in an MBR partition, in the second of two GPT
# partitions, and in partition a of a NetBSD disklabel.
disk()
{
	truncate -s 8m "$1"
	printf '%s' "$2" | sfdisk -q "$1" > /dev/null
	dd if="$w/v1.img" of="$1" bs=512 seek="$3" conv=notrunc \
	    status=none
}
disk "$w/mbr.img" 'start=2048,size=2048,type=a9
' 2048
pack sparse "$w/mbr.img" "$out/parts/mbr"
disk "$w/gpt.img" 'label: gpt
start=2048,size=2048
start=4096,size=2048
' 4096
pack sparse "$w/gpt.img" "$out/parts/gpt"
python3 - "$w/v1.img" "$w/label.img" <<'EOF'
import struct, sys
# A disk with NetBSD's struct disklabel (sys/sys/disklabel.h) in its
# second sector, no MBR: partition a (4.2BSD, type 7) holds the file
# system, c the whole disk.
fs = open(sys.argv[1], 'rb').read()
img = bytearray(8 << 20)
MAGIC = 0x82564557
hdr = struct.pack('<IHH16s16sIIIIIIHHIHHHHIII20s20sIHHII',
    MAGIC, 4, 0, b'xbd', b'guest', 512, 32, 64, 8, 2048, 16384, 0, 0, 0,
    3600, 1, 0, 0, 0, 0, 0, b'', b'', MAGIC, 0, 3, 8192, 8192)
assert len(hdr) == 148
parts = struct.pack('<IIIBBH', len(fs) // 512, 64, 512, 7, 8, 16) + \
    struct.pack('<IIIBBH', 0, 0, 0, 0, 0, 0) + \
    struct.pack('<IIIBBH', 16384, 0, 0, 0, 0, 0)
label = bytearray(hdr + parts)
ck = 0
for i in range(0, len(label), 2):
    ck ^= struct.unpack_from('<H', label, i)[0]
struct.pack_into('<H', label, 136, ck)
img[512:512 + len(label)] = label
img[64 * 512:64 * 512 + len(fs)] = fs
open(sys.argv[2], 'wb').write(img)
EOF
pack sparse "$w/label.img" "$out/parts/disklabel"
cp "$out/ffs/v1" "$out/parts/bare-v1"
for t in "$out"/*; do
	mkdir -p "$top/tests/fuzz/corpus/${t##*/}"
	for f in "$t"/*; do
		cp "$f" "$top/tests/fuzz/corpus/${t##*/}/seed-${f##*/}"
	done
done
echo "seeds: $(find "$out" -type f | wc -l) files," \
    "$(du -sk "$out" | cut -f1) KiB, into tests/fuzz/corpus"
