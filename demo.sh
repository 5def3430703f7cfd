#!/usr/bin/env bash
# qvirt's main job on a fresh Debian bookworm machine (as root): install what is missing, build qvirt and
# the test guest, serve the guest as a containerDisk from a local OCI registry, then boot the seed-shaped
# VM (testdata/testvm.yaml: containerDisk + cloudInitNoCloud + masquerade) with `bin/launcher run --console`
# and show its serial console. On a terminal the guest's shell is yours; Ctrl-] leaves and shuts the VM
# down gracefully. Without a terminal the demo waits for the shell prompt, shows `launcher status`, shuts
# the VM down (ACPI) and exits 0.
#
# ./demo.sh --cluster: the same VM the cluster way, with kubectl and virtctl only, on the one-machine rig
# (bin/qvirt-sandbox: fabric8's MOCK API server behind a front door, FAKE node agent; the real virt-api,
# controller, handler and QEMU). See demo_cluster below; it brings the rig down and leaves nothing behind.
set -euo pipefail
cd "$(dirname "$0")"

# The seed's walk-through on the rig: kubectl apply, virtctl start, kubectl get vms/vmis, the console (yours on a
# terminal, Ctrl-] leaves; otherwise it shows the boot up to the guest's marker and runs one command), virtctl
# pause/unpause, restart (a new VMI) and stop, kubectl delete. The trap brings the rig (and the registry, if the demo started it) down.
demo_cluster() {
  local jars=(launcher handler apiserver controller virtctl sandbox) missing=0
  for m in "${jars[@]}"; do [[ -f $m/target/qvirt-$m.jar ]] || missing=1; done
  if [[ $missing == 1 ]]; then
    mvn -B -ntp -q -pl "$(IFS=,; echo "${jars[*]}")" -am install -DskipTests
  fi
  local port=5000 started_registry=0
  if ! testdata/registry.sh status >/dev/null 2>&1; then
    testdata/registry.sh start --port "$port"
    started_registry=1
  fi
  testdata/registry.sh push --port "$port"
  # Short: the rig's Unix socket paths live under it (108 bytes at most).
  rig=$(mktemp -d /tmp/qvirt-demo-cluster.XXXXXX)
  demo_registry=$started_registry
  trap 'demo_cluster_cleanup' EXIT
  say "bin/qvirt-sandbox up --dir $rig   (fabric8's MOCK API server behind the front door, FAKE node agent)"
  bin/qvirt-sandbox up --dir "$rig" --nodes 1
  export KUBECONFIG=$rig/kubeconfig
  local virtctl=bin/virtctl
  say "kubectl: $(command -v kubectl), $(kubectl version --client 2>/dev/null | head -1)"

  run kubectl apply -f testdata/testvm.yaml
  wait_for "the controller's status on testvm" '[[ -n "$(kubectl get vm testvm -o jsonpath={.status.printableStatus})" ]]'
  run kubectl get vms
  run $virtctl start testvm
  run kubectl wait vm testvm --for condition=Ready --timeout=180s
  run kubectl get vms
  run kubectl get vmis

  if [[ -t 0 && -t 1 ]]; then
    say "virtctl console testvm   (the guest's shell is yours; Ctrl-] leaves)"
    $virtctl console testvm --timeout 3
  else
    console_script
  fi

  run $virtctl pause vm testvm
  wait_for "the VMI paused" 'kubectl get vmi testvm -o jsonpath="{.status.conditions[?(@.type==\"Paused\")].status}" | grep -qx True'
  run kubectl get vms
  run $virtctl unpause vm testvm
  wait_for "the VMI running again" '! kubectl get vmi testvm -o jsonpath="{.status.conditions[?(@.type==\"Paused\")].status}" | grep -qx True'
  local uid
  uid=$(kubectl get vmi testvm -o jsonpath='{.metadata.uid}')
  run $virtctl restart testvm
  wait_for "a new VMI Running" '[[ "$(kubectl get vmi testvm -o jsonpath={.metadata.uid} 2>/dev/null)" != "$uid" ]] && [[ "$(kubectl get vmi testvm -o jsonpath={.status.phase} 2>/dev/null)" == Running ]]'
  run kubectl get vmis
  run $virtctl stop testvm
  run kubectl wait vmi testvm --for=delete --timeout=120s
  run kubectl get vms
  run kubectl delete vm testvm
  wait_for "nothing left in default" '[[ -z "$(kubectl get vms,vmis,pods -o name)" ]]'
  run kubectl get vms,vmis,pods
  echo
  echo "demo: testvm was applied with kubectl, started, paused, unpaused, restarted and stopped with virtctl, reached from its"
  echo "      serial console, and deleted in $SECONDS s; the rig (a MOCK API server, not a kube-apiserver) comes down now."
}

# Without a terminal: the console's output is shown as it comes until the guest's boot marker (or its prompt,
# if the boot passed before the console connected), then one typed command runs and Ctrl-] leaves.
console_script() {
  say "virtctl console testvm   (no terminal: shown until the guest boots, then one command, then Ctrl-])"
  local out=$rig/console.out in=$rig/console.in
  mkfifo "$in"
  bin/virtctl console testvm --timeout 3 <"$in" >"$out" 2>"$rig/console.err" &
  local cpid=$!
  exec 7>"$in"
  tail -n +1 -f --pid=$cpid "$out" &
  local tpid=$!
  local n=0
  until grep -q 'QVIRT-GUEST-BOOTED\|qvirt-guest# ' "$out"; do
    kill -0 $cpid 2>/dev/null || { echo "demo: virtctl console ended early: $(cat "$rig/console.err")" >&2; exit 1; }
    n=$((n + 1))
    (( n < 1800 )) || { echo "demo: no boot marker or prompt on the console within 180 s" >&2; exit 1; }
    (( n % 100 == 0 )) && printf '\n' >&7   # booted before the console came: ask for a prompt
    sleep 0.1
  done
  until grep -q 'qvirt-guest# ' "$out"; do sleep 0.1; n=$((n + 1)); (( n < 2400 )) || { echo "demo: no prompt" >&2; exit 1; }; done
  printf 'uname -sr; echo demo-$((6*7))\n' >&7
  n=0
  until grep -q '^demo-42' "$out"; do
    sleep 0.1; n=$((n + 1)); (( n < 300 )) || { echo "demo: the typed command did not run within 30 s" >&2; exit 1; }
  done
  printf '\035' >&7   # Ctrl-]
  wait $cpid
  exec 7>&-
  kill $tpid 2>/dev/null || true
  wait $tpid 2>/dev/null || true
  echo
}

demo_cluster_cleanup() {
  local rc=$?
  jobs -p | xargs -r kill 2>/dev/null || true
  if [[ -n "${rig:-}" && -d "$rig" ]]; then
    bin/qvirt-sandbox down --dir "$rig" >/dev/null || rc=1
    rm -rf "$rig"
  fi
  if [[ "${demo_registry:-0}" == 1 ]]; then testdata/registry.sh stop >/dev/null; fi
  exit $rc
}

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { say "$*"; "$@"; }
# wait_for WHAT CONDITION: the condition (a shell expression) true within 60 s.
wait_for() {
  local i
  for i in $(seq 1 600); do
    if eval "$2" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  echo "demo: $1: not within 60 s" >&2
  exit 1
}

case "${1:-}" in
  "") ;;
  --cluster) ;;
  -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "demo.sh: unknown argument '$1' (allowed: --cluster, --help)" >&2; exit 2 ;;
esac
scripts/install-deps.sh
testdata/build-guest.sh
if [[ "${1:-}" == --cluster ]]; then
  demo_cluster
  exit 0
fi
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
