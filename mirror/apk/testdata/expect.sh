#!/bin/sh
# Regenerates the expectations in this directory with the REAL apk-tools
# (2.14.4 from the Alpine 3.19.4 minirootfs) running in a chroot. Run by hand
# as root from anywhere: sh mirror/apk/testdata/expect.sh
# It is not run by `go test`; the .txt files it writes are checked in.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
shared=${SHARED:-/work/shared/alpine}
root=$(mktemp -d /tmp/apk-expect.XXXXXX)
trap 'rm -rf "$root"' EXIT

tar -xzf "$shared/minirootfs/alpine-minirootfs-3.19.4-x86_64.tar.gz" -C "$root"
mkdir -p "$root/repo" "$root/keys" "$root/target"
cp -r "$shared/v3.19" "$root/repo/"
cp "$shared"/keys/*.rsa.pub "$root/keys/"
: > "$root/repos.empty"
cp "$here/vercmp_pairs.txt" "$root/pairs.txt"

# Version comparison table: "a b op" per line from `apk version -t a b`.
chroot "$root" /bin/sh -c 'while read -r a b; do echo "$a $b $(apk version -t "$a" "$b")"; done < /pairs.txt' \
	> "$here/vercmp_expected.txt"

# An empty target database; --simulate then reports what `apk add` would
# install on an empty root, reading only the file-based repositories.
apk="/sbin/apk --root /target --keys-dir /keys --repositories-file /repos.empty --no-cache"
chroot "$root" $apk --initdb add >/dev/null

# expect NAME REPOS... -- PKGS...: writes NAME.txt with the command and the
# sorted name-version list of packages apk selects.
expect() {
	name=$1; shift
	repos=""
	while [ "$1" != "--" ]; do repos="$repos -X /repo/v3.19/$1"; shift; done
	shift
	cmd="apk $repos add --simulate $*"
	{
		echo "# chroot alpine-minirootfs-3.19.4-x86_64: apk --root /target --keys-dir /keys --repositories-file /repos.empty --no-cache $repos add --simulate $*"
		echo "# world: $*"
		chroot "$root" $apk $repos add --simulate "$@" 2>&1 |
			sed -n 's/^([0-9]*\/[0-9]*) Installing \([^ ]*\) (\(.*\))$/\1-\2/p' | sort
	} > "$here/resolve_$name.txt"
}

expect issue main -- busybox dhcpcd ca-certificates musl-dev make binutils linux-headers
expect alpine-base main -- alpine-base
expect openrc main -- openrc dhcpcd-openrc
expect virtuals main -- pkgconf zlib-dev cmd:sh so:libz.so.1 pc:zlib
expect community main community -- py3-pip git-lfs
expect docs main -- busybox openrc docs
expect build-base main -- build-base

# Randomly drawn worlds (random_worlds.txt: "repos|atoms"), one result line
# each: "repos|atoms|name-version ..." or "repos|atoms|ERROR".
cp "$here/random_worlds.txt" "$root/worlds.txt"
while IFS='|' read -r repos atoms; do
	x=""
	for r in $repos; do x="$x -X /repo/v3.19/$r"; done
	# shellcheck disable=SC2086
	if out=$(chroot "$root" $apk $x add --simulate $atoms 2>&1); then
		pkgs=$(echo "$out" | sed -n 's/^([0-9]*\/[0-9]*) Installing \([^ ]*\) (\(.*\))$/\1-\2/p' | sort | tr '\n' ' ')
	else
		pkgs=ERROR
	fi
	echo "$repos|$atoms|${pkgs% }"
done < "$root/worlds.txt" > "$here/random_expected.txt"

# ---------------------------------------------------------------------------
# `apk add` in an EXISTING root: apk runs in the minirootfs itself (no
# --root), so its installed packages (lib/apk/db/installed) and world
# (/etc/apk/world) take part. Each root_NAME.txt holds the command, the root
# ("minirootfs" or "edited", see below), the repositories, the added atoms
# and one line per change apk prints: "ACTION NAME OLD NEW" with "-" for a
# missing side (Installing has no OLD, Purging no NEW), or "ERROR". The v3.16
# index (older than the root) is there to make apk downgrade and purge.
rapk="/sbin/apk --keys-dir /keys --repositories-file /repos.empty --no-network --no-cache"
cp -r "$shared/v3.16" "$root/repo/"

# changes: apk's "(n/m) Action ..." lines in the ACTION NAME OLD NEW form;
# an action we do not know is kept verbatim as UNKNOWN so tests notice.
changes() {
	sed -En \
		-e 's/^\([0-9]+\/[0-9]+\) (Installing) ([^ ]+) \(([^ ]+)\)$/\1 \2 - \3/p; t' \
		-e 's/^\([0-9]+\/[0-9]+\) (Upgrading|Downgrading|Replacing) ([^ ]+) \(([^ ]+) -> ([^ ]+)\)$/\1 \2 \3 \4/p; t' \
		-e 's/^\([0-9]+\/[0-9]+\) (Purging) ([^ ]+) \(([^ ]+)\)$/\1 \2 \3 -/p; t' \
		-e 's/^\([0-9]+\/[0-9]+\) (.*)$/UNKNOWN \1/p' | sort -k2
}

# The "edited" root is a second minirootfs whose installed database is
# testdata/root_edited_installed.txt: the minirootfs database without file
# lines, with busybox turned into an older 1.36.1-r15 (busybox-binsh still
# wants =1.36.1-r19), zlib given a foreign checksum (same version), plus
# local-tool (in no repository, in the world) and orphan-tool (in no
# repository, not in the world). Its world is root_edited_world.txt.
eroot=$root/edited
mkdir -p "$eroot"
tar -xzf "$shared/minirootfs/alpine-minirootfs-3.19.4-x86_64.tar.gz" -C "$eroot"
mkdir -p "$eroot/repo" "$eroot/keys"
cp -r "$shared/v3.19" "$shared/v3.16" "$eroot/repo/"
cp "$shared"/keys/*.rsa.pub "$eroot/keys/"
: > "$eroot/repos.empty"
awk '
	# One record at a time: C: comes before P:, so edit whole records.
	function flush() {
		if (n == 0) return
		for (i = 1; i <= n; i++) {
			l = rec[i]
			if (name == "busybox" && l ~ /^V:/) l = "V:1.36.1-r15"
			if (name == "busybox" && l ~ /^C:/) l = "C:Q1AAAAAAAAAAAAAAAAAAAAAAAAAAA="
			if (name == "zlib" && l ~ /^C:/) l = "C:Q1BBBBBBBBBBBBBBBBBBBBBBBBBBB="
			print l
		}
		print ""
		n = 0; name = ""
	}
	/^$/ { flush(); next }
	/^[FRaMZ]:/ { next }
	/^P:/ { name = substr($0, 3) }
	{ rec[++n] = $0 }
	END {
		flush()
		print "C:Q1CCCCCCCCCCCCCCCCCCCCCCCCCCC="
		print "P:local-tool"
		print "V:1.0-r0"
		print "A:x86_64"
		print "S:1000"
		print "I:4096"
		print "T:locally built tool in no repository"
		print "D:zlib so:libc.musl-x86_64.so.1"
		print ""
		print "C:Q1DDDDDDDDDDDDDDDDDDDDDDDDDDD="
		print "P:orphan-tool"
		print "V:2.0-r0"
		print "A:x86_64"
		print "S:1000"
		print "I:4096"
		print "T:installed, in no repository and not in the world"
		print ""
	}' "$root/lib/apk/db/installed" > "$here/root_edited_installed.txt"
cp "$here/root_edited_installed.txt" "$eroot/lib/apk/db/installed"
{ cat "$root/etc/apk/world"; echo local-tool; } > "$here/root_edited_world.txt"
cp "$here/root_edited_world.txt" "$eroot/etc/apk/world"

# rexpect NAME ROOT REPOS -- ATOMS...: writes root_NAME.txt.
rexpect() {
	name=$1 which=$2 repos=$3; shift 3; shift
	case $which in
	minirootfs) r=$root ;;
	edited) r=$eroot ;;
	esac
	x=""
	for p in $repos; do x="$x -X /repo/$p"; done
	{
		echo "# chroot alpine-minirootfs-3.19.4-x86_64 (apk in the root itself): apk --keys-dir /keys --repositories-file /repos.empty --no-network --no-cache$x add --simulate $*"
		echo "# root: $which"
		echo "# repos: $repos"
		echo "# add: $*"
		# shellcheck disable=SC2086
		if out=$(chroot "$r" $rapk $x add --simulate "$@" 2>&1); then
			echo "$out" | changes
		else
			echo ERROR
		fi
	} > "$here/root_$name.txt"
}

rexpect dhcpcd minirootfs v3.19/main -- dhcpcd
rexpect ca-certificates minirootfs v3.19/main -- ca-certificates
rexpect issue minirootfs v3.19/main -- dhcpcd ca-certificates make zlib-dev linux-headers
rexpect musl-dev minirootfs v3.19/main -- musl-dev
rexpect openrc minirootfs v3.19/main -- openrc
rexpect busybox-openrc minirootfs v3.19/main -- busybox-openrc
rexpect libcrypto3 minirootfs v3.19/main -- libcrypto3
rexpect binutils-make minirootfs v3.19/main -- binutils make
rexpect openssl minirootfs v3.19/main -- openssl
rexpect community minirootfs "v3.19/main v3.19/community" -- py3-pip git-lfs
rexpect empty minirootfs v3.19/main --
rexpect v3.16-musl-dev minirootfs v3.16/main -- musl-dev
rexpect v3.16-curl minirootfs v3.16/main -- curl openssl
rexpect v3.16-empty minirootfs v3.16/main --
rexpect v3.16-both minirootfs "v3.19/main v3.16/main" -- musl-dev dhcpcd
rexpect edited-empty edited v3.19/main --
rexpect edited-dhcpcd edited v3.19/main -- dhcpcd zlib-dev
rexpect edited-replace edited v3.19/main -- 'zlib><Q11mV5+Yq5WHkhWIJP27rBrg7izKg='
rexpect edited-upgrade edited v3.19/main -- 'busybox>=1.36.1-r19'
rexpect edited-extras edited v3.19/main -- busybox-extras
rexpect edited-conflict edited v3.19/main -- '!local-tool'

# Random worlds on the minirootfs root (root_random_worlds.txt:
# "repos|atoms"), one line each: "repos|atoms|ACTION NAME OLD NEW;..." or
# "repos|atoms|ERROR". Repositories are v3.19 ones here.
cp "$here/root_random_worlds.txt" "$root/rworlds.txt"
while IFS='|' read -r repos atoms; do
	x=""
	for r in $repos; do x="$x -X /repo/v3.19/$r"; done
	# shellcheck disable=SC2086
	if out=$(chroot "$root" $rapk $x add --simulate $atoms 2>&1); then
		res=$(echo "$out" | changes | tr '\n' ';')
		res=${res%;}
	else
		res=ERROR
	fi
	echo "$repos|$atoms|$res"
done < "$root/rworlds.txt" > "$here/root_random_expected.txt"
