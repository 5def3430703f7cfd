#!/usr/bin/env bash
# qvirt's main job on a fresh Debian bookworm machine (as root): install what is missing, build qvirt and
# the test guest, serve the guest as a containerDisk from a local OCI registry, then boot the seed-shaped
# VM (testdata/testvm.yaml: containerDisk + cloudInitNoCloud + masquerade) with `bin/launcher run --console`
# and show its serial console. On a terminal the guest's shell is yours; Ctrl-] leaves and shuts the VM
# down gracefully. Without a terminal the demo waits for the shell prompt, shows `launcher status`, shuts
# the VM down (ACPI) and exits 0.
set -euo pipefail
cd "$(dirname "$0")"
scripts/install-deps.sh
testdata/build-guest.sh
if [[ ! -f launcher/target/qvirt-launcher.jar ]]; then
  mvn -B -ntp -q -pl launcher -am install -DskipTests
fi

# The local registry stands in for quay.io (unreachable here); testvm.yaml names 127.0.0.1:5000.
port=5000
started_registry=0
if ! testdata/registry.sh status >/dev/null 2>&1; then
  testdata/registry.sh start --port "$port"
  started_registry=1
fi
testdata/registry.sh push --port "$port"
stop_registry() { if [[ $started_registry == 1 ]]; then testdata/registry.sh stop >/dev/null; fi; }

vm=testdata/testvm.yaml
root=/var/tmp/qvirt-demo/run
mkdir -p /var/tmp/qvirt-demo
# Plain HTTP for this registry only, by name; the pulled disk lands in the shared cache
# (/var/lib/qvirt/images), so a second run touches no network.
args=(run "$vm" --console --runtime-root "$root" --insecure-registry "127.0.0.1:$port")

if [[ -t 0 && -t 1 ]]; then
  echo "demo: booting testvm with bin/launcher run --console (Ctrl-] leaves and shuts it down)"
  rc=0
  bin/launcher "${args[@]}" || rc=$?
  stop_registry
  exit "$rc"
fi

# A fresh log each run: a prompt left in an old one must not count (tee truncates it only once it starts).
log=$(mktemp /var/tmp/qvirt-demo/console.XXXXXX)
bin/launcher "${args[@]}" > >(tee "$log") 2>&1 &
lpid=$!
trap 'kill $lpid 2>/dev/null || true; rm -f "$log"; stop_registry' EXIT
for _ in $(seq 1 1200); do
  grep -q 'qvirt-guest# ' "$log" && break
  kill -0 $lpid 2>/dev/null || { echo "demo: the launcher exited early" >&2; exit 1; }
  sleep 0.1
done
grep -q 'qvirt-guest# ' "$log" || { echo "demo: no shell prompt within 120 s" >&2; exit 1; }
# The seed's userDataBase64 (SGkuXG4=) is the 5 bytes "Hi.\n" with a literal backslash.
want=$(printf 'Hi.\\n' | sha256sum | cut -d' ' -f1)
grep -q "QVIRT-CLOUDINIT instance-id=testvm.default userdata-sha256=$want" "$log" \
  || { echo "demo: the guest did not see the seed's cloud-init user data" >&2; exit 1; }
grep -q "QVIRT-NET ip=10.0.2.2 gw=10.0.2.1" "$log" || { echo "demo: the guest got no address by DHCP" >&2; exit 1; }
bin/launcher status testvm --runtime-root "$root"
bin/launcher shutdown testvm --runtime-root "$root"
wait $lpid
echo
echo "demo: testvm booted from its containerDisk with the seed's cloud-init, got 10.0.2.2 on the pod"
echo "      network (masquerade), reached its shell, and was shut down gracefully."
