#!/usr/bin/env bash
# libvirt for ./bench.sh, without systemd (as /work/shared/baseline/daemons.sh did it):
#   scripts/bench-libvirt.sh start    install libvirt-daemon-system, libvirt-clients, python3-libvirt if missing
#                                     (Debian, root), configure qemu.conf for root/no security driver, start
#                                     virtlogd, virtlockd, libvirtd with pid files and logs under $QVIRT_BENCH_LIBVIRT_RUN
#   scripts/bench-libvirt.sh stop     stop only the daemons whose pids are in our own pid files
#   scripts/bench-libvirt.sh status   one line per daemon
#   scripts/bench-libvirt.sh start-peer   (after start) a second libvirtd + virtlogd to migrate to, as a second
#                                     host would be: its own mount namespace over /etc/libvirt, /var/lib/libvirt,
#                                     /var/cache/libvirt, /var/log/libvirt and /run/libvirt (copies and empty dirs
#                                     under $QVIRT_BENCH_LIBVIRT_PEER, default /run/qvirt-bench-libvirt-peer), its own
#                                     host_uuid (libvirt refuses a migration whose two ends have the same one), its
#                                     sockets in $QVIRT_BENCH_LIBVIRT_PEER/sock, no cgroups (the same domain id on both
#                                     daemons would name the same cgroup); prints "ok" or "unavailable: <why>"
#   scripts/bench-libvirt.sh stop-peer    stop it and remove its directory
# start prints nothing on stdout but "ok" or "unavailable: <why>" on its last line, and exits 0 either way
# once it has said why, so the bench can go on with its other contenders.
set -uo pipefail
run=${QVIRT_BENCH_LIBVIRT_RUN:-/run/qvirt-bench-libvirt}
daemons=(virtlogd virtlockd libvirtd)
log() { echo "bench-libvirt: $*" >&2; }
unavailable() { log "$*"; echo "unavailable: $*"; exit 0; }

alive() { [ -f "$run/$1.pid" ] && kill -0 "$(cat "$run/$1.pid")" 2>/dev/null; }

install_pkgs() {
  local pkgs=(libvirt-daemon-system libvirt-clients python3-libvirt) missing=() p
  for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  [ "$(id -u)" = 0 ] || { echo "not root, cannot apt-get install ${missing[*]}"; return 1; }
  command -v apt-get >/dev/null || { echo "no apt-get to install ${missing[*]}"; return 1; }
  log "installing ${missing[*]}"
  # Lists may be missing or stale on a fresh machine; one update before the install.
  apt-get update -qq >/dev/null 2>&1
  # policy-rc.d 101: the packages' postinst must not try to start services (no init system here).
  local prc=/usr/sbin/policy-rc.d created=0
  if [ ! -e "$prc" ]; then printf '#!/bin/sh\nexit 101\n' > "$prc"; chmod +x "$prc"; created=1; fi
  local out rc
  out=$(DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" 2>&1); rc=$?
  [ $created = 1 ] && rm -f "$prc"
  if [ $rc -ne 0 ]; then echo "apt-get install ${missing[*]} failed: $(echo "$out" | tail -n 3 | tr '\n' ' ')"; return 1; fi
}

configure() {
  # QEMU as root with no security driver and no chown of the bench's files: the same process rights that
  # raw QEMU and qvirt have here (root), as in the baseline.
  local conf=/etc/libvirt/qemu.conf marker="# qvirt bench (scripts/bench-libvirt.sh)"
  [ -f "$conf" ] || { echo "$conf missing after install"; return 1; }
  if ! grep -qF "$marker" "$conf"; then
    printf '\n%s\nuser = "root"\ngroup = "root"\ndynamic_ownership = 0\nsecurity_driver = "none"\n' "$marker" >> "$conf"
  fi
}

start() {
  local why
  why=$(install_pkgs) || unavailable "$why"
  why=$(configure) || unavailable "$why"
  for d in "${daemons[@]}"; do command -v "$d" >/dev/null || unavailable "$d not found after install"; done
  mkdir -p "$run"
  for d in "${daemons[@]}"; do
    alive "$d" && continue
    # -d daemonizes; -p puts the pid file in our own directory so stop never touches someone else's daemon.
    "$d" -d -p "$run/$d.pid" >>"$run/$d.log" 2>&1 || unavailable "$d failed to start: $(tail -n 2 "$run/$d.log" | tr '\n' ' ')"
  done
  local i=0
  while [ ! -S /run/libvirt/libvirt-sock ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
  [ -S /run/libvirt/libvirt-sock ] || unavailable "libvirtd socket /run/libvirt/libvirt-sock did not appear within 30 s"
  for d in "${daemons[@]}"; do alive "$d" || unavailable "$d exited after start: $(tail -n 2 "$run/$d.log" | tr '\n' ' ')"; done
  # The first connection waits for libvirt's one-time QEMU capability probe; wait for it here, bounded, so
  # that it never counts in a figure.
  timeout 120 virsh -q -c qemu:///system version >/dev/null 2>&1 || unavailable "virsh cannot talk to libvirtd within 120 s"
  echo ok
}

stop() {
  # libvirtd first: it holds connections to virtlogd/virtlockd.
  for d in libvirtd virtlockd virtlogd; do
    [ -f "$run/$d.pid" ] || continue
    local pid; pid=$(cat "$run/$d.pid")
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid"
      local i=0
      while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
      kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
      log "stopped $d ($pid)"
    fi
    rm -f "$run/$d.pid"
  done
}

status() {
  for d in "${daemons[@]}"; do
    if alive "$d"; then echo "$d pid=$(cat "$run/$d.pid")"; else echo "$d not running"; fi
  done
}

peer=${QVIRT_BENCH_LIBVIRT_PEER:-/run/qvirt-bench-libvirt-peer}

start_peer() {
  for d in libvirtd virtlogd; do alive "$d" || unavailable "the first libvirt is not running (start first)"; done
  command -v unshare >/dev/null || unavailable "no unshare(1) for the second daemon's mount namespace"
  stop_peer 2>/dev/null
  mkdir -p "$peer"/{sock,etc,lib/qemu,cache/qemu,log/qemu,run} /run/libvirt /var/lib/libvirt /var/cache/libvirt \
    /var/log/libvirt
  cp -a /etc/libvirt/. "$peer/etc/"
  printf '\n# qvirt bench peer\nhost_uuid = "%s"\nunix_sock_dir = "%s"\n' "$(cat /proc/sys/kernel/random/uuid)" \
    "$peer/sock" >> "$peer/etc/libvirtd.conf"
  printf '\n# qvirt bench peer\ncgroup_controllers = [ ]\n' >> "$peer/etc/qemu.conf"
  # The daemons keep the namespace alive; their pid files and sockets are outside the mounts, so visible here.
  unshare -m --propagation private sh -c "
    mount --bind '$peer/etc' /etc/libvirt && mount --bind '$peer/lib' /var/lib/libvirt &&
    mount --bind '$peer/cache' /var/cache/libvirt && mount --bind '$peer/log' /var/log/libvirt &&
    mount --bind '$peer/run' /run/libvirt &&
    virtlogd -d -p '$peer/virtlogd.pid' && libvirtd -d -p '$peer/libvirtd.pid'" >>"$peer/daemons.log" 2>&1 \
    || unavailable "second libvirt daemon did not start: $(tail -n 2 "$peer/daemons.log" | tr '\n' ' ')"
  local i=0
  while [ ! -S "$peer/sock/libvirt-sock" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
  [ -S "$peer/sock/libvirt-sock" ] || unavailable "second libvirtd socket $peer/sock/libvirt-sock did not appear within 30 s"
  timeout 120 virsh -q -c "qemu:///system?socket=$peer/sock/libvirt-sock" version >/dev/null 2>&1 \
    || unavailable "virsh cannot talk to the second libvirtd within 120 s"
  echo ok
}

stop_peer() {
  for d in libvirtd virtlogd; do
    [ -f "$peer/$d.pid" ] || continue
    local pid; pid=$(cat "$peer/$d.pid")
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid"
      local i=0
      while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
      kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
      log "stopped peer $d ($pid)"
    fi
    rm -f "$peer/$d.pid"
  done
  rm -rf "$peer"
}

case "${1:-status}" in
  start) start ;;
  start-peer) start_peer ;;
  stop-peer) stop_peer ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status|start-peer|stop-peer" >&2; exit 2 ;;
esac
