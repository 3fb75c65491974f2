#!/bin/sh
# Install every Debian package that building criu and running its tests needs.
# Idempotent: when everything is already present it only checks and exits 0.
#
# criu (Debian's build of the established tool) is here for /usr/bin/crit,
# which the tests use to decode images in the established format. Its
# /usr/sbin/criu does not start on current kernels: the tests always run
# ours by path (criu/criu), never a criu found through PATH.
# openssh-server and -client are for e2e:ssh_session, which runs its own
# /usr/sbin/sshd on a free port of 127.0.0.1 (the package's service is not used).
set -eu

PKGS="build-essential pkg-config protobuf-c-compiler libprotobuf-c-dev
libnl-3-dev libnl-route-3-dev libcap-dev libnet1-dev libbsd-dev libxxhash-dev
libgnutls28-dev openssl libzstd-dev
clang libclang-rt-14-dev python3 tmux iproute2 procps manpages-dev
redis-server criu openssh-server openssh-client"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done

[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing packages:$missing (run as root to install them)" >&2
	exit 1
fi

echo "install-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing
