package io.qvirt.launcher.runtime;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.qvirt.launcher.plan.HostForward;
import java.util.List;

/**
 * {@code launcher.json}: what whoever manages the VM needs to know about how it was started.
 *
 * @param namespace         the VMI's namespace
 * @param name              the VMI's name
 * @param mode              {@code run}, {@code exec} or {@code handler}
 * @param qemuPid           QEMU's pid
 * @param launcherPid       the resident launcher's pid ({@code run}), or 0 when nothing but QEMU runs
 * @param accelerator       {@code kvm} or {@code tcg}
 * @param acceleratorReason why
 * @param qemuBinary        the QEMU binary
 * @param qvirtVersion      the launcher's version
 * @param startedAt         ISO-8601 start time
 * @param forwards          host ports forwarded to the guest
 * @param ipAddress         the VM's address as KubeVirt reports it for masquerade (the pod's; on one machine
 *                          the host address forwards bind), or null without a pod network interface
 * @param migrationTarget   the migration's uid when QEMU was started as a cluster migration's target
 *                          ({@code -incoming defer}, env {@code QVIRT_MIGRATION_TARGET}); null otherwise and in
 *                          files written before the field existed
 */
public record LauncherInfo(String namespace, String name, String mode, long qemuPid, long launcherPid,
                           String accelerator, String acceleratorReason, String qemuBinary, String qvirtVersion,
                           String startedAt, List<HostForward> forwards, String ipAddress,
                           @JsonInclude(JsonInclude.Include.NON_NULL) String migrationTarget) {
    /** A VM that is not a migration's target. */
    public LauncherInfo(String namespace, String name, String mode, long qemuPid, long launcherPid,
                        String accelerator, String acceleratorReason, String qemuBinary, String qvirtVersion,
                        String startedAt, List<HostForward> forwards, String ipAddress) {
        this(namespace, name, mode, qemuPid, launcherPid, accelerator, acceleratorReason, qemuBinary, qvirtVersion,
                startedAt, forwards, ipAddress, null);
    }
}
