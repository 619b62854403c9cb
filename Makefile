# sharedroot: prepare NetBSD images for Xen guests sharing one root.
#
#   make                      build the tools in build/
#   make check                build, install into a staging prefix, run
#                             every test with kyua; ends "N passed, N failed"
#   make PREFIX=/dir install  install the tools, man pages and data
#   make PREFIX=/dir uninstall  remove exactly what install put there
#   make dist                 build/sharedroot-VERSION.tar.gz (git archive)
#                             and the pkgsrc distinfo for it
#   make demo                 the main job on a bundled sample
#   make bench                speed figures (not a test)
#   make fuzz                 run the fuzz targets (clang; mk/fuzz.mk)

PREFIX	?= /usr/local
DESTDIR	?=
B	?= build
SHAREDIR = $(PREFIX)/share/sharedroot
LIBEXECDIR = $(PREFIX)/libexec
# Where the manuals go: pkgsrc passes its own (${PREFIX}/${PKGMANDIR}).
MANDIR	?= $(PREFIX)/share/man
# The release, in one place (make dist, debian/changelog, pkgsrc's
# DISTNAME all say it; t_package checks they agree).
VERSION	:= $(shell cat VERSION)

CC	?= cc
# Linux takes BSD interfaces from libbsd and file-system types from
# libblkid; NetBSD's libc has the first, and needs no second (pkgsrc:
# libarchive, sleuthkit, atf, kyua; build with gmake).
OS	:= $(shell uname -s)
ifeq ($(OS),NetBSD)
PKGS	 = libarchive tsk libcrypto libargon2 libgit2
else
PKGS	 = libbsd-overlay libarchive blkid tsk libcrypto libargon2 libgit2
endif
CFLAGS	?= -O2 -g
CFLAGS	+= -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wshadow -Wstrict-prototypes \
	   -Wmissing-prototypes -Wno-unused-parameter -Ilib
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)

# What differs by host is in lib/os_*.c (os.h) and the attach back ends.
COMMONSRCS = lib/base/msg.c lib/plan/lines.c lib/plan/edit_rc.c lib/plan/edit_makedev.c \
	  lib/plan/udiff.c lib/plan/template.c lib/tree/dir.c lib/tree/tree.c lib/image/tree_ffs.c lib/tree/tree_rec.c lib/plan/plan.c lib/image/attach.c \
	  lib/image/attach_vnd.c lib/image/attach_cgd.c lib/guest/rootprep.c \
	  lib/plan/edit_conf.c lib/tree/copytree.c lib/guest/localprep.c lib/tree/spec.c lib/image/ffsread.c lib/image/build.c \
	  lib/image/ffsimg.c lib/cgd/cgd.c lib/cgd/cgdparams.c \
	  lib/cgd/cgdimage.c lib/guest/identity.c lib/guest/upgrade.c lib/tree/scratch.c \
	  lib/tree/lock.c lib/base/run.c lib/base/tmpname.c \
	  lib/tree/entset.c lib/tree/tree_mem.c lib/guest/merge.c lib/guest/record.c
COMMONSRCS += lib/image/ffsbuild.c
COMMONSRCS += lib/guest/localwrite.c
COMMONSRCS += lib/pkg/plist.c
COMMONSRCS += lib/pkg/pkgmatch.c
COMMONSRCS += lib/pkg/pkginstall.c
COMMONSRCS += lib/pkg/pkgset.c
COMMONSRCS += lib/pkg/pkgfile.c
COMMONSRCS += lib/image/ffswrite.c
COMMONSRCS += lib/image/ffslayout.c
COMMONSRCS += lib/image/source.c
COMMONSRCS += lib/guest/rootrun.c
COMMONSRCS += lib/image/ffssrc.c
COMMONSRCS += lib/cgd/cgdio.c
COMMONSRCS += lib/guest/job.c
COMMONSRCS += lib/guest/localrun.c
COMMONSRCS += lib/guest/localfleet.c
COMMONSRCS += lib/image/ffssize.c
LINUXSRCS = lib/base/os_linux.c lib/image/attach_loop.c
BSDSRCS	= lib/base/os_bsd.c lib/image/attach_noloop.c
ifeq ($(OS),Linux)
LIBSRCS	= $(COMMONSRCS) $(LINUXSRCS)
else
LIBSRCS	= $(COMMONSRCS) $(BSDSRCS)
endif
LIBOBJS	= $(LIBSRCS:%.c=$(B)/%.o)
TOOLS	= setup-root setup-local
# Run by other programs, not by hand: xen/block-cgd's key reader.
HELPERS	= sharedroot-cgdkey
# Every atf-c program in tests/lib (t_*.c), and t_tree built portably.
TESTS_C	= $(sort $(notdir $(basename $(wildcard tests/lib/t_*.c)))) \
	  t_tree_portable
# Programs the tests run (tests/lib/h_*.c).
TESTHELPERS = h_cgdcat h_holes h_lock h_ffspatch h_swapdir
TESTS_SH = t_setup_root t_rc_pre_hooks t_setup_root_vnd t_setup_root_loop \
	   t_setup_local t_setup_local_loop t_setup_local_makefs t_setup_root_makefs \
	   t_ffs_images t_guest_boot t_demo t_cgd_local t_block_cgd t_upgrade \
	   t_xl_config t_lock t_killed t_hostile
TESTS_SH += t_package
TESTS_SH += t_provision_many

CHECKB	 = $(CURDIR)/build/check
STAGE	 = $(CHECKB)/stage

all: $(TOOLS:%=$(B)/bin/%) $(HELPERS:%=$(B)/bin/%)

$(B)/%.o: %.c lib/*/*.h bin/*.h Makefile
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -DSHAREDIR='"$(SHAREDIR)"' -c -o $@ $<

# The tools have SHAREDIR compiled in: rebuild them when PREFIX changes.
$(B)/sharedir.stamp: FORCE
	@mkdir -p $(@D)
	@echo '$(SHAREDIR)' | cmp -s - $@ || echo '$(SHAREDIR)' > $@

$(TOOLS:%=$(B)/bin/%.o): $(B)/sharedir.stamp

$(B)/libsharedroot.a: $(LIBOBJS)
	rm -f $@
	ar rcs $@ $(LIBOBJS)

$(B)/bin/%: $(B)/bin/%.o $(B)/bin/tool.o $(B)/libsharedroot.a
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

install: all
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(MANDIR)/man8 \
	    $(DESTDIR)$(SHAREDIR)/rc $(DESTDIR)$(SHAREDIR)/templates \
	    $(DESTDIR)$(SHAREDIR)/xen
	for t in $(TOOLS); do \
	    install -m 0755 $(B)/bin/$$t $(DESTDIR)$(PREFIX)/sbin/$$t && \
	    install -m 0644 man/$$t.8 $(DESTDIR)$(MANDIR)/man8/$$t.8 || \
	    exit 1; done
	install -m 0644 rc/* $(DESTDIR)$(SHAREDIR)/rc/
	install -d $(DESTDIR)$(LIBEXECDIR)
	install -m 0755 $(B)/bin/sharedroot-cgdkey $(DESTDIR)$(LIBEXECDIR)/
	install -m 0644 man/sharedroot-cgdkey.8 $(DESTDIR)$(MANDIR)/man8/
	sed 's|@CGDKEY@|$(LIBEXECDIR)/sharedroot-cgdkey|' xen/block-cgd \
	    > $(DESTDIR)$(SHAREDIR)/xen/.block-cgd.tmp
	chmod 0755 $(DESTDIR)$(SHAREDIR)/xen/.block-cgd.tmp
	mv $(DESTDIR)$(SHAREDIR)/xen/.block-cgd.tmp $(DESTDIR)$(SHAREDIR)/xen/block-cgd
	if ls templates/* >/dev/null 2>&1; then \
	    install -m 0644 templates/* $(DESTDIR)$(SHAREDIR)/templates/; fi

# What install put, file by file, then share/sharedroot's own folders
# (if empty: a file of the administrator's there stays, and so does the
# folder).  sbin, libexec and man8 are the system's: they stay.
uninstall:
	for t in $(TOOLS); do \
	    rm -f $(DESTDIR)$(PREFIX)/sbin/$$t $(DESTDIR)$(MANDIR)/man8/$$t.8; \
	    done
	for h in $(HELPERS); do \
	    rm -f $(DESTDIR)$(LIBEXECDIR)/$$h $(DESTDIR)$(MANDIR)/man8/$$h.8; \
	    done
	rm -f $(patsubst %,$(DESTDIR)$(SHAREDIR)/%,$(wildcard rc/* templates/*)) \
	    $(DESTDIR)$(SHAREDIR)/xen/block-cgd
	for d in $(DESTDIR)$(SHAREDIR)/rc $(DESTDIR)$(SHAREDIR)/templates \
	    $(DESTDIR)$(SHAREDIR)/xen $(DESTDIR)$(SHAREDIR); do \
	    if [ -d $$d ] && [ -z "$$(ls -A $$d)" ]; then rmdir $$d; fi; done

# The release tarball: what git tracks at HEAD, under sharedroot-VERSION/,
# and pkgsrc's distinfo for it (the digests pkgsrc checks; regenerated
# here, never by hand).  git archive fixes the order, owners and times
# (the commit's), so the same commit gives the same bytes.  The tarball
# builds and passes make check by itself (no .git, no ../shared).
DISTDIR	?= $(CURDIR)/build
DISTNAME = sharedroot-$(VERSION)
DISTINFO ?= $(CURDIR)/pkgsrc/sysutils/sharedroot/distinfo
dist:
	@git rev-parse --verify -q HEAD >/dev/null || \
	    { echo "make dist: not a git checkout (git archive makes the tarball)" >&2; exit 1; }
	@test -z "$$(git status --porcelain -uno)" || \
	    echo "make dist: uncommitted changes are not in the tarball (it is HEAD)" >&2
	@mkdir -p $(DISTDIR)
	git archive --format=tar.gz --prefix=$(DISTNAME)/ \
	    -o $(DISTDIR)/$(DISTNAME).tar.gz HEAD
	f=$(DISTNAME).tar.gz; t=$(DISTDIR)/$$f; { echo '$$NetBSD$$'; echo; \
	  echo "BLAKE2s ($$f) = $$(openssl dgst -blake2s256 -r $$t | cut -d' ' -f1)"; \
	  echo "SHA512 ($$f) = $$(openssl dgst -sha512 -r $$t | cut -d' ' -f1)"; \
	  echo "Size ($$f) = $$(wc -c < $$t | tr -d ' ') bytes"; } > $(DISTINFO).tmp
	mv $(DISTINFO).tmp $(DISTINFO)
	@echo "make dist: $(DISTDIR)/$(DISTNAME).tar.gz; $(DISTINFO) regenerated"

# Tests: a staged install, the atf-c programs, the atf-sh scripts.
check: deps layers
	$(MAKE) B=$(CHECKB)/obj PREFIX=$(STAGE) install
	$(MAKE) B=$(CHECKB)/obj PREFIX=$(STAGE) tests
	sh mk/check.sh $(CHECKB)/tests

tests: $(TESTS_C:%=$(CHECKB)/tests/%) $(TESTS_SH:%=$(CHECKB)/tests/%) \
	$(CHECKB)/tests/Kyuafile $(TESTHELPERS:%=$(CHECKB)/tests/%) \
	$(CHECKB)/tests/h_hold.so h_xlcfg \
	test-files

# What the tests read besides the staged install, installed beside them
# and found there (atf_get_srcdir; atf-c's srcdir): the fixtures, the
# sample root and demo scripts, the shell helpers, the documents whose
# xl configurations are checked, and the fuzz corpus with its replays.
# The suite runs from any copy of $(CHECKB)/tests; only the staged
# prefix (whose path the tools have compiled in) stays where it is.
TESTDIR	 = $(CHECKB)/tests
test-files: fuzz-replay
	@mkdir -p $(TESTDIR)
	@rm -rf $(TESTDIR)/data $(TESTDIR)/docs $(TESTDIR)/fuzz
	@cp tests/bin/h_common.sh mk/sample-root.sh mk/demo.sh $(TESTDIR)/
	@cp -R tests/data $(TESTDIR)/data
	@mkdir -p $(TESTDIR)/docs/man $(TESTDIR)/docs/xen $(TESTDIR)/fuzz
	@cp README.md $(TESTDIR)/docs/ && cp man/*.8 $(TESTDIR)/docs/man/ && \
	    cp xen/block-cgd $(TESTDIR)/docs/xen/
	@cp -R tests/fuzz/corpus tests/fuzz/crashes tests/fuzz/known-crashes \
	    $(REPLAYB)/replay_* $(TESTDIR)/fuzz/
	@echo "test-files: data, scripts, documents and fuzz replays in $(TESTDIR)"

# The gate t_killed and t_lock hold setup-local at (preloaded).
$(CHECKB)/tests/h_hold.so: tests/lib/h_hold.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -shared -fPIC -o $@ $< -ldl

$(CHECKB)/tests/h_%: tests/lib/h_%.c $(B)/libsharedroot.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -o $@ $< $(B)/libsharedroot.a $(PKG_LIBS)

# xl's own configuration parser (libxlutil, Debian's libxen-dev), for
# t_xl_config; without it that test skips, saying so.
h_xlcfg: FORCE
	@mkdir -p $(CHECKB)/tests
	@if pkg-config --exists xlutil xenlight; then \
	    $(MAKE) --no-print-directory $(CHECKB)/tests/h_xlcfg; else \
	    rm -f $(CHECKB)/tests/h_xlcfg; \
	    echo "h_xlcfg: no libxlutil (libxen-dev): t_xl_config will skip"; fi

$(CHECKB)/tests/h_xlcfg: tests/lib/h_xlcfg.c
	$(CC) $(CFLAGS) $$(pkg-config --cflags xlutil xenlight) -o $@ $< \
	    $$(pkg-config --libs xlutil xenlight)

# t_tree again with the portable contained open (the walk NetBSD uses):
# the portability layer built with SR_NO_OPENAT2, linked before the
# library so that it stands in for the library's own.
OSSRC	= $(filter lib/base/os_%,$(LIBSRCS))
$(CHECKB)/tests/t_tree_portable: tests/lib/t_tree.c $(OSSRC) lib/*/*.h \
    $(B)/libsharedroot.a tests/lib/*.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -Itests/lib -DSR_NO_OPENAT2 \
	    -o $@ $< $(OSSRC) \
	    $(B)/libsharedroot.a $(PKG_LIBS) -latf-c

# The staged install's share directory (templates, rc) is compiled in, as
# the staged prefix is for the atf-sh programs.
$(CHECKB)/tests/t_%: tests/lib/t_%.c $(B)/libsharedroot.a tests/lib/*.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -Itests/lib \
	    -DSR_SHARE='"$(STAGE)/share/sharedroot"' \
	    -DSR_FFSCHECK='"$(FFSCHECK)"' -o $@ $< \
	    $(B)/libsharedroot.a $(PKG_LIBS) -latf-c

# An atf-sh program: the script after the staged install it tests and
# where NetBSD's own FFS checker is (../shared/tools, beside the source
# tree; a test skips without it), then h_common.sh from beside it.
FFSCHECK ?= $(abspath $(CURDIR)/../shared/tools/netbsd-ffs/ffs-check)
$(CHECKB)/tests/t_%: tests/bin/t_%.sh Makefile
	@mkdir -p $(@D)
	{ echo '#! /usr/bin/env atf-sh'; \
	  echo 'SR_SBIN=$(STAGE)/sbin'; \
	  echo 'SR_SHARE=$(STAGE)/share/sharedroot'; \
	  echo 'SR_FFSCHECK=$(FFSCHECK)'; \
	  echo 'SR_SRCDIR=$(CURDIR)'; \
	  echo '. "$$(atf_get_srcdir)/h_common.sh"'; \
	  cat $<; } > $@.tmp
	chmod 0755 $@.tmp
	mv $@.tmp $@

$(CHECKB)/tests/Kyuafile: Makefile
	@mkdir -p $(@D)
	{ echo 'syntax(2)'; echo 'test_suite("sharedroot")'; \
	  for t in $(TESTS_C); do echo "atf_test_program{name=\"$$t\"}"; done; \
	  for t in $(TESTS_SH); do echo "atf_test_program{name=\"$$t\"}"; \
	  done; } > $@

deps:
	@sh mk/deps.sh

# lib/ is in folders by layer; an include that goes up a layer fails
# (docs/ARCHITECTURE.md).
layers:
	@sh mk/layers.sh

# The NetBSD code paths, compiled here against stubs of what glibc lacks
# (mk/netbsd-stubs): not linked or run, but kept compiling.
compat-check:
	@for f in $(COMMONSRCS) $(BSDSRCS) bin/*.c; do \
	    $(CC) -std=c11 -D_GNU_SOURCE -DSR_FORCE_NETBSD -Wall -Wextra \
	    -Wno-unused-parameter -Werror -fsyntax-only -Imk/netbsd-stubs \
	    -include mk/netbsd-stubs/netbsd.h -Ilib \
	    $$(pkg-config --cflags libarchive tsk libcrypto libargon2 libgit2) $$f || exit 1; done
	@echo "compat-check: the NetBSD build of $(words $(COMMONSRCS) $(BSDSRCS)) library and $(words $(wildcard bin/*.c)) tool sources compiles"

demo: deps
	$(MAKE) B=$(CURDIR)/build/demo-obj PREFIX=$(CURDIR)/build/demo-stage install
	sh mk/demo.sh $(CURDIR)/build/demo-stage/sbin

bench: deps
	@sh mk/deps.sh bench
	$(MAKE) B=$(CURDIR)/build/bench/obj PREFIX=$(CURDIR)/build/bench/stage install
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -o $(CURDIR)/build/bench/cgdspeed \
	    mk/cgdspeed.c $(CURDIR)/build/bench/obj/libsharedroot.a $(PKG_LIBS)
	$(CURDIR)/build/bench/cgdspeed
	sh mk/bench.sh $(CURDIR)/build/bench/stage/sbin

clean:
	rm -rf build

.PHONY: all install uninstall dist check tests test-files deps layers demo bench clean compat-check h_xlcfg FORCE
.SECONDARY:

include mk/fuzz.mk
