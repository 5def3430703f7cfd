#!/usr/bin/env bash
# Builds qvirt's test guest from Debian packages, reproducibly, without mounting anything:
#   vmlinuz, initrd.gz      Debian's cloud kernel + a busybox-static initramfs (testdata/guest/init)
#   disk.img, disk.qcow2    a bootable FAT disk (syslinux) holding the same kernel and initramfs
#   efi-signed.qcow2        an EFI disk (FAT, no partition table: OVMF boots \EFI\BOOT\BOOTX64.EFI from it) with
#                           Debian's Secure Boot chain: shim (signed by Microsoft's UEFI CA) -> GRUB (signed by
#                           Debian) -> the same kernel (signed by Debian); boots with Secure Boot on and off
#   efi-unsigned.qcow2      the same, but BOOTX64.EFI is that GRUB with its signature removed: boots only
#                           without Secure Boot (OVMF refuses it with "Access Denied" otherwise)
#   oci/                    an OCI image layout with two images:
#                             guest:latest   a KubeVirt containerDisk (/disk/disk.qcow2)
#                             kernel:latest  a kernelBoot image (/boot/vmlinuz, /boot/initrd.gz)
# Output: testdata/build/guest -> a content-keyed directory under ${QVIRT_CACHE:-~/.cache/qvirt}/guest,
# so a second run with the same kernel, busybox and scripts does nothing.
# Needs: apt lists (apt-get update), busybox-static cpio kmod syslinux mtools dosfstools qemu-utils umoci
# sbsigntool. shim-signed and grub-efi-amd64-signed are downloaded and unpacked here, never installed.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache=${QVIRT_CACHE:-$HOME/.cache/qvirt}
out_link=$here/build/guest
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-1700000000}

log() { echo "build-guest: $*" >&2; }

kpkg=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
[ -n "$kpkg" ] || { log "cannot resolve linux-image-cloud-amd64 (run apt-get update first)"; exit 1; }
kver=$(apt-cache policy "$kpkg" | awk '/Candidate:/ {print $2}')
bbver=$(dpkg-query -W -f='${Version}' busybox-static)
shimver=$(apt-cache policy shim-signed | awk '/Candidate:/ {print $2}')
grubver=$(apt-cache policy grub-efi-amd64-signed | awk '/Candidate:/ {print $2}')
[ -n "$shimver" ] && [ "$shimver" != "(none)" ] && [ -n "$grubver" ] && [ "$grubver" != "(none)" ] \
  || { log "cannot resolve shim-signed / grub-efi-amd64-signed (run apt-get update first)"; exit 1; }
key=$( { echo "$kpkg=$kver busybox=$bbver shim-signed=$shimver grub-efi-amd64-signed=$grubver"; cat "$0" "$here"/guest/*; } \
  | sha256sum | cut -c1-16)

# Prints the path of PKG=VERSION's .deb in the cache, downloading it first if needed.
fetch_deb() {
  local pkg=$1 ver=$2 f
  f=$(ls "$cache/debs/${pkg}_"*"_amd64.deb" 2>/dev/null | grep -F "_${ver//:/%3a}_" | head -n1 || true)
  if [ -z "$f" ]; then
    # apt-get download verifies the package against the signed lists; _apt needs a writable dir.
    local tmpd; tmpd=$(mktemp -d); chmod 777 "$tmpd"
    (cd "$tmpd" && apt-get download -q "$pkg=$ver" >/dev/null)
    mv "$tmpd"/*.deb "$cache/debs/"; rmdir "$tmpd"
    f=$(ls "$cache/debs/${pkg}_"*"_amd64.deb" | grep -F "_${ver//:/%3a}_" | head -n1)
  fi
  echo "$f"
}
dest=$cache/guest/$key

if [ -f "$dest/DONE" ]; then
  log "cached: $dest ($kpkg $kver)"
else
  log "building $dest ($kpkg $kver, busybox $bbver)"
  mkdir -p "$cache/debs" "$cache/guest"
  deb=$(fetch_deb "$kpkg" "$kver")
  work=$(mktemp -d "$cache/guest/.build-XXXXXX")
  trap 'rm -rf "$work"' EXIT
  dpkg -x "$deb" "$work/pkg"
  krel=${kpkg#linux-image-}
  cp "$work/pkg/boot/vmlinuz-$krel" "$work/vmlinuz"

  # initramfs tree
  r=$work/root
  mkdir -p "$r"/{bin,sbin,etc/acpi/PWRF,proc,sys,dev,tmp,run,mnt,www,root,var/run,var/log,lib/modules/$krel}
  cp /bin/busybox "$r/bin/busybox"
  for applet in $(/bin/busybox --list); do
    [ "$applet" = busybox ] || ln -sf busybox "$r/bin/$applet"
  done
  install -m 0755 "$here/guest/init" "$r/init"
  install -m 0755 "$here/guest/udhcpc.script" "$r/etc/udhcpc.script"
  install -m 0755 "$here/guest/poweroff.sh" "$r/etc/acpi/PWRF/00000080"
  echo "root:x:0:0:root:/root:/bin/sh" > "$r/etc/passwd"
  echo "root:x:0:" > "$r/etc/group"

  # The modules /init loads, plus what they depend on (from the package's own modules.dep).
  depmod -b "$work/pkg" "$krel"
  kmods="virtio_pci virtio_blk virtio_net virtio_rng isofs vfat nls_ascii button evdev pvpanic_mmio pvpanic_pci"
  for m in $kmods; do
    modprobe -d "$work/pkg" -S "$krel" --show-depends "$m" | awk '$1 == "insmod" {print $2}'
  done | sort -u | while read -r path; do
    rel=${path#"$work/pkg"}
    mkdir -p "$r$(dirname "$rel")"
    cp "$path" "$r$rel"
  done
  cp "$work/pkg/lib/modules/$krel"/modules.{order,builtin,builtin.modinfo} "$r/lib/modules/$krel/" 2>/dev/null || true
  depmod -b "$r" "$krel"

  find "$r" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
  (cd "$r" && find . | LC_ALL=C sort | cpio --quiet -o -H newc --reproducible -R 0:0) | gzip -n -9 > "$work/initrd.gz"

  # Bootable FAT disk: syslinux in the volume boot record, no partition table, no mount.
  cat > "$work/syslinux.cfg" <<CFG
DEFAULT qvirt
PROMPT 0
TIMEOUT 0
SERIAL 0 115200
LABEL qvirt
  KERNEL vmlinuz
  INITRD initrd.gz
  APPEND console=ttyS0 panic=-1 quiet
CFG
  rm -f "$work/disk.img"
  mkfs.vfat -C -n QVIRTGUEST -i 51564952 "$work/disk.img" 40960 >/dev/null
  mcopy -i "$work/disk.img" "$work/vmlinuz" "$work/initrd.gz" "$work/syslinux.cfg" ::/
  syslinux --install "$work/disk.img"
  qemu-img convert -q -f raw -O qcow2 "$work/disk.img" "$work/disk.qcow2"

  # EFI disks: a whole-disk FAT ("superfloppy"), as OVMF's removable-media boot finds \EFI\BOOT\BOOTX64.EFI on it.
  # Debian's signed GRUB has /EFI/debian built in as its prefix on the device it was loaded from.
  dpkg -x "$(fetch_deb shim-signed "$shimver")" "$work/shim"
  dpkg -x "$(fetch_deb grub-efi-amd64-signed "$grubver")" "$work/grub"
  shim=$work/shim/usr/lib/shim/shimx64.efi.signed
  grub=$work/grub/usr/lib/grub/x86_64-efi-signed/grubx64.efi.signed
  # Secure Boot verifies every stage: refuse to build a chain that cannot boot (e.g. an unsigned kernel package).
  for f in "$shim:Microsoft Corporation UEFI CA" "$grub:Debian Secure Boot CA" "$work/vmlinuz:Debian Secure Boot CA"; do
    sigs=$(sbverify --list "${f%%:*}" 2>/dev/null || true)
    case $sigs in *"${f#*:}"*) ;; *) log "${f%%:*} is not signed by ${f#*:}"; exit 1 ;; esac
  done
  cp "$grub" "$work/grub-unsigned.efi"
  sbattach --remove "$work/grub-unsigned.efi"
  cat > "$work/grub.cfg" <<CFG
set timeout=0
menuentry qvirt {
  linux /vmlinuz console=ttyS0 panic=-1 quiet
  initrd /initrd.gz
}
CFG
  for v in signed unsigned; do
    img=$work/efi-$v.img
    rm -f "$img"
    mkfs.vfat -C -n QVIRTEFI -i 51564945 "$img" 40960 >/dev/null
    mmd -i "$img" ::/EFI ::/EFI/BOOT ::/EFI/debian
    if [ "$v" = signed ]; then
      mcopy -i "$img" "$shim" ::/EFI/BOOT/BOOTX64.EFI
      mcopy -i "$img" "$grub" ::/EFI/BOOT/grubx64.efi
    else
      mcopy -i "$img" "$work/grub-unsigned.efi" ::/EFI/BOOT/BOOTX64.EFI
    fi
    mcopy -i "$img" "$work/grub.cfg" ::/EFI/debian/grub.cfg
    mcopy -i "$img" "$work/vmlinuz" "$work/initrd.gz" ::/
    qemu-img convert -q -f raw -O qcow2 "$img" "$work/efi-$v.qcow2"
    rm -f "$img"
  done

  # OCI layout: KubeVirt's containerDisk (qcow2 under /disk, owned by 107:107) and a kernelBoot image.
  oci=$work/oci
  umoci init --layout "$oci"
  for img in guest kernel; do
    umoci new --image "$oci:$img"
    umoci unpack --image "$oci:$img" "$work/bundle-$img" >/dev/null
    rf=$work/bundle-$img/rootfs
    if [ "$img" = guest ]; then
      mkdir -p "$rf/disk"; cp "$work/disk.qcow2" "$rf/disk/disk.qcow2"; chown -R 107:107 "$rf/disk"
    else
      mkdir -p "$rf/boot"; cp "$work/vmlinuz" "$rf/boot/vmlinuz"; cp "$work/initrd.gz" "$rf/boot/initrd.gz"
    fi
    find "$rf" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
    umoci repack --refresh-bundle --image "$oci:$img" "$work/bundle-$img" >/dev/null
    umoci config --image "$oci:$img" --architecture amd64 --os linux \
      --created "$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ)" >/dev/null
    umoci gc --layout "$oci"
    rm -rf "$work/bundle-$img"
  done

  mkdir -p "$dest"
  mv "$work/vmlinuz" "$work/initrd.gz" "$work/disk.img" "$work/disk.qcow2" "$work/efi-signed.qcow2" \
    "$work/efi-unsigned.qcow2" "$oci" "$dest/"
  printf 'kernel_package=%s\nkernel_version=%s\nkernel_release=%s\nbusybox=%s\nshim_signed=%s\ngrub_efi_amd64_signed=%s\nkey=%s\n' \
    "$kpkg" "$kver" "$krel" "$bbver" "$shimver" "$grubver" "$key" > "$dest/guest.properties"
  touch "$dest/DONE"
  rm -rf "$work"; trap - EXIT
fi

mkdir -p "$here/build"
ln -sfn "$dest" "$out_link"
log "guest ready: $out_link -> $dest"
