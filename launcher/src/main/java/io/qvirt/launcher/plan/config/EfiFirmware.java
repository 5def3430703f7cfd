package io.qvirt.launcher.plan.config;

import io.qvirt.api.model.DomainSpec;
import io.qvirt.api.model.EFI;
import java.nio.file.Path;

/**
 * The OVMF build a VM's {@code domain.firmware.bootloader.efi} selects, as KubeVirt's virt-launcher picks it:
 * with Secure Boot (the default: {@code secureBoot} unset means true) the SMM build with Microsoft's keys enrolled
 * in its variable store template (KubeVirt: {@code OVMF_CODE.secboot.fd} + {@code OVMF_VARS.secboot.fd}; Debian's
 * {@code ovmf}: {@code OVMF_CODE_4M.secboot.fd} + {@code OVMF_VARS_4M.ms.fd}), without it the plain build and an
 * empty store ({@code OVMF_CODE_4M.fd} + {@code OVMF_VARS_4M.fd}). Shared by {@link MachineConfigurator} (smm,
 * pflash0/pflash1) and {@link FirmwareConfigurator} (the block nodes, the VARS copy, the refusals).
 *
 * @param secureBoot   whether Secure Boot is on
 * @param code         the read-only firmware code
 * @param varsTemplate the variable store every start copies into the VM's directory
 */
public record EfiFirmware(boolean secureBoot, Path code, Path varsTemplate) {
    /** Where Debian's {@code ovmf} package installs the firmware. */
    public static final Path DEBIAN_OVMF_DIR = Path.of("/usr/share/OVMF");
    /** The block node QEMU's pflash0 (code) and pflash1 (variables) are backed by. */
    static final String CODE_NODE = "efi-code";
    static final String VARS_NODE = "efi-vars";

    /** The spec's {@code efi}, or null for BIOS (SeaBIOS). */
    static EFI efi(DomainSpec d) {
        return d.getFirmware() != null && d.getFirmware().getBootloader() != null
                ? d.getFirmware().getBootloader().getEfi() : null;
    }

    /** KubeVirt's rule: Secure Boot unless {@code secureBoot: false}. */
    static boolean secureBoot(EFI efi) {
        return efi.getSecureBoot() == null || efi.getSecureBoot();
    }

    /** The build for {@code efi} from {@code ovmfDir} (files not checked here). */
    static EfiFirmware select(EFI efi, Path ovmfDir) {
        boolean sb = secureBoot(efi);
        return sb
                ? new EfiFirmware(true, ovmfDir.resolve("OVMF_CODE_4M.secboot.fd"), ovmfDir.resolve("OVMF_VARS_4M.ms.fd"))
                : new EfiFirmware(false, ovmfDir.resolve("OVMF_CODE_4M.fd"), ovmfDir.resolve("OVMF_VARS_4M.fd"));
    }
}
