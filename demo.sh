#!/usr/bin/env bash
# qvirt's main job on a fresh Debian bookworm machine (as root): install what is missing, build the
# test guest, boot it and show its serial console, then stop it cleanly.
# On a terminal you get the guest's shell (Ctrl-a x leaves). Without one, the demo prints the console,
# waits for the shell prompt, powers the guest off over QMP (ACPI) and exits 0.
# (Until the launcher lands this boots the guest under plain QEMU; then it becomes `bin/launcher run`.)
set -euo pipefail
cd "$(dirname "$0")"
scripts/install-deps.sh
testdata/build-guest.sh
guest=testdata/build/guest
run=$(mktemp -d /tmp/qvirt-demo.XXXXXX)
qemu_args=(-accel tcg -m 128M -nodefaults -no-user-config -display none
  -drive "file=$guest/disk.qcow2,if=virtio,format=qcow2,snapshot=on"
  -netdev "user,id=net0,net=10.0.2.0/24,host=10.0.2.1,dns=10.0.2.3,dhcpstart=10.0.2.2"
  -device virtio-net-pci,netdev=net0
  -qmp "unix:$run/qmp.sock,server=on,wait=off")

if [ -t 0 ] && [ -t 1 ]; then
  echo "demo: booting the test guest (TCG). Its shell is yours; Ctrl-a x quits QEMU."
  trap 'rm -rf "$run"' EXIT
  qemu-system-x86_64 "${qemu_args[@]}" -serial mon:stdio
  exit 0
fi

qemu-system-x86_64 "${qemu_args[@]}" -serial stdio > "$run/console.log" 2> "$run/stderr.log" < /dev/null &
qpid=$!
trap 'kill -9 $qpid 2>/dev/null || true; wait $qpid 2>/dev/null || true; rm -rf "$run"' EXIT
tail -n +1 -f "$run/console.log" --pid=$qpid &
for _ in $(seq 1 1200); do
  grep -q 'qvirt-guest# ' "$run/console.log" && break
  kill -0 $qpid 2>/dev/null || { echo "demo: QEMU exited early:" >&2; cat "$run/stderr.log" >&2; exit 1; }
  sleep 0.1
done
grep -q 'qvirt-guest# ' "$run/console.log" || { echo "demo: no shell prompt within 120 s" >&2; exit 1; }
printf '%s\n' '{"execute":"qmp_capabilities"}' '{"execute":"system_powerdown"}' | socat -t 2 - "UNIX-CONNECT:$run/qmp.sock" > /dev/null
for _ in $(seq 1 300); do kill -0 $qpid 2>/dev/null || break; sleep 0.1; done
if kill -0 $qpid 2>/dev/null; then echo "demo: guest did not power off within 30 s" >&2; exit 1; fi
wait $qpid
sleep 0.2
echo
echo "demo: the guest booted, reached its shell, and powered off cleanly."
