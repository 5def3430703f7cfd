package io.qvirt.launcher.plan.config;

import io.qvirt.api.UnmodelledFields;
import io.qvirt.api.model.Devices;
import io.qvirt.api.model.Disk;
import io.qvirt.api.model.DomainSpec;
import io.qvirt.api.model.Interface;
import io.qvirt.launcher.plan.PlanContext;
import io.qvirt.launcher.plan.QemuConfigurator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Refuses, by field, every KubeVirt field qvirt does not act on rather than ignoring it, at every level of the VMI
 * spec: those the api keeps only as unmodelled fields ({@link UnmodelledFields}: gpus, hostDevices, filesystems,
 * tpm, {@code cpu.features}, {@code firmware.acpi}, a disk's {@code blockSize}, an interface's {@code dhcpOptions},
 * ...), and typed ones no configurator uses ({@code memory.maxGuest}, a disk's {@code io}, {@code errorPolicy},
 * {@code shareable}, {@code dedicatedIOThread}, {@code tag}, PCI addresses). A field in no schema at all was refused
 * before planning, as kube-apiserver's strict field validation words it ({@code io.qvirt.api.StrictFields}).
 * {@code autoattachGraphicsDevice} (KubeVirt's default is true) attaches nothing: qvirt has no VNC, and the serial
 * console is the VM's console. Also refused: vsock, exec probes and {@code accessCredentials}, which KubeVirt
 * serves through a vsock device or its guest agent (qvirt talks to no guest agent yet), and input devices.
 */
public final class UnsupportedConfigurator implements QemuConfigurator {
    /**
     * Unmodelled fields something else acts on, relative to the VMI spec: the controller passes scheduling and DNS
     * to the launcher pod; probes are allowed (their exec form is refused below); the rest have a refusal of
     * their own, with a better message, here or in another configurator (a volume's source kind).
     */
    static final Set<String> HANDLED = Set.of("affinity", "tolerations", "topologySpreadConstraints", "dnsPolicy",
            "dnsConfig", "readinessProbe", "livenessProbe", "accessCredentials");

    @Override
    public void configure(PlanContext ctx) {
        java.util.Map<String, Object> spec = ctx.spec().getAdditionalProperties();
        if (spec.get("accessCredentials") instanceof java.util.List<?> creds && !creds.isEmpty()) {
            ctx.refuse("accessCredentials[0]", "not supported by qvirt: KubeVirt injects these keys through its guest"
                    + " agent or cloud-init from a Secret; put the key in the cloudInitNoCloud userData instead");
        }
        for (String probe : new String[] {"readinessProbe", "livenessProbe"}) {
            if (spec.get(probe) instanceof java.util.Map<?, ?> p && p.get("exec") != null) {
                ctx.refuse(probe + ".exec", "exec probes run a command through the guest agent, which qvirt does"
                        + " not talk to; httpGet and tcpSocket probes are allowed");
            }
        }
        Set<String> refused = new LinkedHashSet<>();
        for (String path : UnmodelledFields.of(ctx.spec(), "")) {
            String field = path.substring(1);
            String top = field.contains(".") ? field.substring(0, field.indexOf('.')) : field;
            // A volume's source kind is DiskConfigurator's to name ("no source qvirt knows", the way out).
            boolean volumeSource = field.matches("volumes\\[\\d+]\\.[^.]+");
            if (!HANDLED.contains(top) && !volumeSource && refused.add(field)) {
                ctx.refuse(field, "not supported by qvirt");
            }
        }
        DomainSpec d = ctx.spec().getDomain();
        if (d.getMemory() != null && d.getMemory().getMaxGuest() != null) {
            ctx.refuse("domain.memory.maxGuest", "not supported by qvirt (memory hotplug): leave it out");
        }
        Devices dev = d.getDevices();
        if (dev == null) {
            return;
        }
        List<Disk> disks = dev.getDisks() == null ? List.of() : dev.getDisks();
        for (int i = 0; i < disks.size(); i++) {
            Disk disk = disks.get(i);
            String f = "domain.devices.disks[" + i + "]";
            if (disk.getIo() != null) {
                ctx.refuse(f + ".io", "not supported by qvirt: QEMU's default I/O mode is used; leave it out");
            }
            if (disk.getErrorPolicy() != null) {
                ctx.refuse(f + ".errorPolicy", "not supported by qvirt: QEMU's default (report) is used; leave it out");
            }
            if (Boolean.TRUE.equals(disk.getShareable())) {
                ctx.refuse(f + ".shareable", "not supported by qvirt");
            }
            if (Boolean.TRUE.equals(disk.getDedicatedIOThread())) {
                ctx.refuse(f + ".dedicatedIOThread", "not supported by qvirt (no I/O threads)");
            }
            if (disk.getTag() != null) {
                ctx.refuse(f + ".tag", "not supported by qvirt (no device role tags in the guest's metadata)");
            }
            if (disk.getDisk() != null && disk.getDisk().getPciAddress() != null) {
                ctx.refuse(f + ".disk.pciAddress", "not supported by qvirt: QEMU places the device");
            }
        }
        List<Interface> ifaces = dev.getInterfaces() == null ? List.of() : dev.getInterfaces();
        for (int i = 0; i < ifaces.size(); i++) {
            Interface itf = ifaces.get(i);
            String f = "domain.devices.interfaces[" + i + "]";
            if (itf.getPciAddress() != null) {
                ctx.refuse(f + ".pciAddress", "not supported by qvirt: QEMU places the device");
            }
            if (itf.getTag() != null) {
                ctx.refuse(f + ".tag", "not supported by qvirt (no device role tags in the guest's metadata)");
            }
        }
        if (Boolean.TRUE.equals(dev.getAutoattachVSOCK())) {
            ctx.refuse("domain.devices.autoattachVSOCK", "vsock is not supported by qvirt (KubeVirt too refuses it"
                    + " unless its Alpha VSOCK feature gate is on)");
        }
        if (dev.getInputs() != null && !dev.getInputs().isEmpty()) {
            ctx.refuse("domain.devices.inputs", "not supported by qvirt (no graphics console)");
        }
    }
}
