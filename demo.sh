#!/usr/bin/env bash
# qvirt's main job on a fresh Debian bookworm machine (as root): install what is missing, build qvirt
# and the test guest, then boot the guest with `bin/launcher run --console` and show its serial console.
# On a terminal the guest's shell is yours; Ctrl-] leaves and shuts the VM down gracefully.
# Without a terminal the demo waits for the shell prompt, shuts the VM down (ACPI) and exits 0.
set -euo pipefail
cd "$(dirname "$0")"
scripts/install-deps.sh
testdata/build-guest.sh
if [[ ! -f launcher/target/qvirt-launcher.jar ]]; then
  mvn -B -ntp -q -pl launcher -am install -DskipTests
fi
# The VM's disk: a copy-on-write overlay of the guest's image, so the built image stays pristine.
mkdir -p /var/tmp/qvirt-demo
rm -f /var/tmp/qvirt-demo/testvm.qcow2
qemu-img create -q -f qcow2 -F qcow2 -b "$PWD/testdata/build/guest/disk.qcow2" /var/tmp/qvirt-demo/testvm.qcow2
vm=testdata/hostdisk-vm.yaml
root=/var/tmp/qvirt-demo/run

if [[ -t 0 && -t 1 ]]; then
  echo "demo: booting testvm with bin/launcher run --console (Ctrl-] leaves and shuts it down)"
  exec bin/launcher run "$vm" --console --runtime-root "$root"
fi

# A fresh log each run: a prompt left in an old one must not count (tee truncates it only once it starts).
log=$(mktemp /var/tmp/qvirt-demo/console.XXXXXX)
bin/launcher run "$vm" --console --runtime-root "$root" > >(tee "$log") 2>&1 &
lpid=$!
trap 'kill $lpid 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 1 1200); do
  grep -q 'qvirt-guest# ' "$log" && break
  kill -0 $lpid 2>/dev/null || { echo "demo: the launcher exited early" >&2; exit 1; }
  sleep 0.1
done
grep -q 'qvirt-guest# ' "$log" || { echo "demo: no shell prompt within 120 s" >&2; exit 1; }
bin/launcher status testvm --runtime-root "$root"
bin/launcher shutdown testvm --runtime-root "$root"
wait $lpid
trap - EXIT
rm -f "$log"
echo
echo "demo: the guest booted under bin/launcher, reached its shell, and was shut down gracefully."
