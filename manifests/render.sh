#!/usr/bin/env bash
# Renders qvirt's release files for an image registry and tag (e.g. a private registry), with KubeVirt's names:
#   manifests/render.sh REGISTRY TAG [--use-emulation] [OUTDIR]
# Writes OUTDIR/kubevirt-operator.yaml (manifests/operator/*.yaml: namespace kubevirt, the KubeVirt CRD, virt-operator's
# RBAC, its Deployment and webhook Service) and OUTDIR/kubevirt-cr.yaml (manifests/cr/kubevirt-cr.yaml: the KubeVirt CR;
# --use-emulation sets its developerConfiguration.useEmulation, for nodes without KVM). Default OUTDIR
# manifests/target/REGISTRY-TAG with '/' and ':' made '_'. Prints the two paths. Exit 2 on bad usage.
# A custom resource never shares a file with its CRD: `kubectl apply -f kubevirt-operator.yaml`, then the CR.
# Everything else (manifests/crds/, manifests/install/) is what virt-operator installs from the CR, rendered by the
# operator from these same files for the CR's registry and tag (`bin/virt-operator render` prints it).
set -euo pipefail
here="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"
usage() { echo "usage: $0 REGISTRY TAG [--use-emulation] [OUTDIR]" >&2; exit 2; }
[[ $# -ge 2 ]] || usage
registry=$1 tag=$2; shift 2
emulation=false
if [[ "${1:-}" == --use-emulation ]]; then emulation=true; shift; fi
out=${1:-}
[[ $# -le 1 ]] || usage
# An image reference's registry/repository part and tag, as the OCI distribution spec allows them.
[[ "$registry" =~ ^[a-zA-Z0-9]([a-zA-Z0-9.-]*[a-zA-Z0-9])?(:[0-9]+)?(/[a-z0-9]+([._-][a-z0-9]+)*)*$ ]] \
  || { echo "render.sh: invalid registry '$registry'" >&2; exit 2; }
[[ "$tag" =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$ ]] || { echo "render.sh: invalid tag '$tag'" >&2; exit 2; }
[[ -n "$out" ]] || out="$here/target/${registry//[\/:]/_}-${tag}"
mkdir -p "$out"

render() { # OUTFILE SOURCE...
  local target=$1 f; shift
  {
    for f in "$@"; do
      echo "---"
      echo "# Source: ${f#"$here"/}"
      sed -e "s|\${QVIRT_REGISTRY}|$registry|g" -e "s|\${QVIRT_TAG}|$tag|g" \
          -e "s|\${QVIRT_USE_EMULATION}|$emulation|g" "$f"
    done
  } > "$target.tmp"
  if grep -n '\${QVIRT_' "$target.tmp" >&2; then
    rm -f "$target.tmp"; echo "render.sh: unrendered placeholder above in $target" >&2; exit 1
  fi
  mv -f "$target.tmp" "$target"
  echo "$target"
}
render "$out/kubevirt-operator.yaml" "$here"/operator/*.yaml
render "$out/kubevirt-cr.yaml" "$here"/cr/kubevirt-cr.yaml
# The KubeVirt CRD's file must not hold a KubeVirt: kubectl would refuse it on first use (no such kind yet).
if grep -q '^kind: KubeVirt$' "$out/kubevirt-operator.yaml"; then
  echo "render.sh: a KubeVirt CR in kubevirt-operator.yaml, beside its CRD" >&2; exit 1
fi
