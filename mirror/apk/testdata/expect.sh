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
