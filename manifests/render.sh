#!/usr/bin/env bash
# Renders qvirt's install manifests for an image registry and tag (e.g. a private registry):
#   manifests/render.sh REGISTRY TAG [--use-emulation] [OUTFILE]
# Writes one multi-document YAML (CRDs first, then manifests/install/*.yaml) to OUTFILE, default
# manifests/target/qvirt-REGISTRY-TAG.yaml with '/' and ':' made '_'; prints the path. Exit 2 on bad usage.
set -euo pipefail
here="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"
usage() { echo "usage: $0 REGISTRY TAG [--use-emulation] [OUTFILE]" >&2; exit 2; }
[[ $# -ge 2 ]] || usage
registry=$1 tag=$2; shift 2
emulation=false
if [[ "${1:-}" == --use-emulation ]]; then emulation=true; shift; fi
out=${1:-}
# An image reference's registry/repository part and tag, as the OCI distribution spec allows them.
[[ "$registry" =~ ^[a-zA-Z0-9]([a-zA-Z0-9.-]*[a-zA-Z0-9])?(:[0-9]+)?(/[a-z0-9]+([._-][a-z0-9]+)*)*$ ]] \
  || { echo "render.sh: invalid registry '$registry'" >&2; exit 2; }
[[ "$tag" =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$ ]] || { echo "render.sh: invalid tag '$tag'" >&2; exit 2; }
if [[ -z "$out" ]]; then
  mkdir -p "$here/target"
  out="$here/target/qvirt-${registry//[\/:]/_}-${tag}.yaml"
fi
{
  for f in "$here"/crds/*.yml "$here"/install/*.yaml; do
    echo "---"
    echo "# Source: ${f#"$here"/}"
    sed -e "s|\${QVIRT_REGISTRY}|$registry|g" -e "s|\${QVIRT_TAG}|$tag|g" \
        -e "s|\${QVIRT_USE_EMULATION}|$emulation|g" "$f"
  done
} > "$out.tmp"
if grep -n '\${QVIRT_' "$out.tmp" >&2; then
  rm -f "$out.tmp"; echo "render.sh: unrendered placeholder above" >&2; exit 1
fi
mv -f "$out.tmp" "$out"
echo "$out"
