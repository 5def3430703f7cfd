#!/usr/bin/env bash
# Installs what qvirt's build, tests and demo use, only what is missing (Debian bookworm, as root).
set -euo pipefail
pkgs=(
  openjdk-17-jdk-headless maven            # build
  qemu-system-x86 qemu-utils               # the hypervisor, qemu-img
  busybox-static cpio kmod                 # test guest initramfs (kmod: depmod/modprobe --show-depends)
  syslinux syslinux-common mtools dosfstools  # bootable FAT disk image without mount
  ovmf                                     # UEFI firmware for domain.firmware.bootloader.efi (OVMF_*_4M*.fd)
  sbsigntool                               # test guest's EFI disks: check the Secure Boot chain, unsigned GRUB
  xorriso                                  # NoCloud ISO in tests
  docker-registry skopeo umoci             # OCI images and a local registry, no Docker engine
  util-linux socat curl ca-certificates    # setpriv, QMP from shell scripts, registry checks
  openssh-client                           # virtctl ssh runs the system ssh (PortForwardRigIT)
)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# kubectl for the rig's tests and `demo.sh --cluster`: any kubectl on PATH will do, else Debian's (1.20).
command -v kubectl >/dev/null 2>&1 || missing+=(kubernetes-client)
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}" >&2
  if [ "$(id -u)" != 0 ]; then echo "install-deps: run as root (apt-get install needs it)" >&2; exit 1; fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
elif ! apt-cache depends linux-image-cloud-amd64 >/dev/null 2>&1 || [ -z "$(apt-cache depends linux-image-cloud-amd64 2>/dev/null | grep 'Depends: linux-image-[0-9]')" ] \
    || ! apt-cache policy shim-signed grub-efi-amd64-signed 2>/dev/null | grep -q 'Candidate: [0-9]'; then
  # build-guest.sh resolves the kernel, shim-signed and grub-efi-amd64-signed packages from apt's lists.
  apt-get update -qq
fi
