package io.qvirt.launcher.runtime;

import io.qvirt.api.FieldError;
import io.qvirt.api.Quantities;
import io.qvirt.api.ValidationException;
import io.qvirt.api.VirtualMachineInstance;
import io.qvirt.api.model.CPU;
import io.qvirt.api.model.DomainSpec;
import io.qvirt.launcher.plan.PreparedFile;
import io.qvirt.launcher.plan.VmPlan;
import io.qvirt.launcher.plan.config.MemoryConfigurator;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Whether a planned guest can fit this host, checked by {@code run} and {@code exec} after planning and
 * before anything is pulled, made or spawned. A guest that cannot fit is refused as invalid input (exit
 * 2), each problem by the field that asks for too much, with the numbers:
 * <ul>
 * <li>guest memory ({@code domain.memory.guest}, else {@code domain.resources.requests.memory}) above
 * {@code MemAvailable} plus {@code overcommitPercent} percent of it;</li>
 * <li>more vCPUs (sockets x cores x threads) than QEMU allows for a q35 machine ({@value #Q35_MAX_CPUS}, the
 * {@code cpu-max} QEMU 7.2 reports) and, under KVM, than {@code KVM_CAP_MAX_VCPUS} of the probed /dev/kvm;</li>
 * <li>hostDisk {@code DiskOrCreate} images qvirt would create whose capacity exceeds the usable space of
 * the file system that would hold them (images on the same file system are added up).</li>
 * </ul>
 * Facts the host cannot tell (-1, null) are not checked.
 */
public final class HostFitCheck {
    /**
     * QEMU's {@code cpu-max} for q35 machine types, as QEMU 7.2 (Debian bookworm's) reports it for every pc-q35-*
     * it knows; the only machine types KubeVirt admits by default are q35 ones. Newer QEMU raises it for its
     * newer machine types; 288 stays a safe bound for those.
     */
    public static final int Q35_MAX_CPUS = 288;

    private final HostFacts facts;
    private final int overcommitPercent;

    /**
     * @param overcommitPercent how far beyond {@code MemAvailable} guest memory may go, in percent of it
     *                          ({@code --overcommit}; 0: not beyond)
     */
    public HostFitCheck(HostFacts facts, int overcommitPercent) {
        if (overcommitPercent < 0) {
            throw new IllegalArgumentException("--overcommit: must be >= 0 percent, got " + overcommitPercent);
        }
        this.facts = facts;
        this.overcommitPercent = overcommitPercent;
    }

    /**
     * @param fieldPrefix {@code spec.} for a VMI, {@code spec.template.spec.} for a VM
     * @throws ValidationException naming every field the host cannot give
     */
    public void check(VirtualMachineInstance vmi, VmPlan plan, String fieldPrefix) {
        List<FieldError> errors = problems(vmi, plan, fieldPrefix);
        if (!errors.isEmpty()) {
            throw new ValidationException("VirtualMachineInstance " + vmi.getMetadata().getNamespace() + "/"
                    + vmi.getMetadata().getName() + " (what this host can hold)", errors);
        }
    }

    /** Every problem, empty if the guest fits. */
    public List<FieldError> problems(VirtualMachineInstance vmi, VmPlan plan, String fieldPrefix) {
        List<FieldError> errors = new ArrayList<>();
        DomainSpec d = vmi.getSpec().getDomain();
        memory(d, fieldPrefix, errors);
        vcpus(d, plan, fieldPrefix, errors);
        disks(plan, errors);
        return errors;
    }

    private void memory(DomainSpec d, String prefix, List<FieldError> errors) {
        long guest = MemoryConfigurator.guestBytes(d);
        long available = facts.memAvailableBytes();
        if (guest <= 0 || available < 0) {
            return;
        }
        long allowed = saturatedAdd(available, saturatedMultiply(available, overcommitPercent) / 100);
        if (guest <= allowed) {
            return;
        }
        String field = prefix + (guestAsked(d) ? "domain.memory.guest" : "domain.resources.requests.memory");
        String limit = overcommitPercent == 0
                ? "MemAvailable is " + size(available) + " and --overcommit is 0 (give --overcommit PERCENT to allow more)"
                : "MemAvailable " + size(available) + " + " + overcommitPercent + "% (--overcommit) = " + size(allowed);
        errors.add(new FieldError(field, size(guest) + " of guest memory is more than this host can give: " + limit));
    }

    /**
     * Whether the guest size comes from {@code memory.guest} rather than the memory request: KubeVirt's defaults
     * copy the request into {@code memory.guest}, so a guest equal to the request is named as the request.
     */
    private static boolean guestAsked(DomainSpec d) {
        if (d.getMemory() == null || d.getMemory().getGuest() == null) {
            return false;
        }
        var requests = d.getResources() == null ? null : d.getResources().getRequests();
        if (requests == null || requests.get("memory") == null) {
            return true;
        }
        return Quantities.value(Quantities.text(d.getMemory().getGuest()))
                != Quantities.value(Quantities.text(requests.get("memory")));
    }

    private void vcpus(DomainSpec d, VmPlan plan, String prefix, List<FieldError> errors) {
        CPU cpu = d.getCpu();
        long sockets = cpu != null && cpu.getSockets() != null ? cpu.getSockets() : 1;
        long cores = cpu != null && cpu.getCores() != null ? cpu.getCores() : 1;
        long threads = cpu != null && cpu.getThreads() != null ? cpu.getThreads() : 1;
        long vcpus;
        try {
            vcpus = Math.multiplyExact(Math.multiplyExact(sockets, cores), threads);
        } catch (ArithmeticException e) {
            vcpus = Long.MAX_VALUE;
        }
        String type = d.getMachine() != null && d.getMachine().getType() != null ? d.getMachine().getType() : "q35";
        long limit = Q35_MAX_CPUS;
        String why = "QEMU's limit for machine type " + type;
        int kvm = plan.accelerator().isKvm() ? facts.kvmMaxVcpus() : -1;
        if (kvm > 0 && kvm < limit) {
            limit = kvm;
            why = "KVM_CAP_MAX_VCPUS of this host's /dev/kvm";
        }
        if (vcpus <= limit) {
            return;
        }
        // The field that asks for most; cores on a tie (where KubeVirt users usually size a guest).
        String field = "cores";
        long most = cores;
        if (sockets > most) {
            field = "sockets";
            most = sockets;
        }
        if (threads > most) {
            field = "threads";
        }
        String count = vcpus == Long.MAX_VALUE ? "more than " + Long.MAX_VALUE : Long.toString(vcpus);
        errors.add(new FieldError(prefix + "domain.cpu." + field, sockets + " sockets x " + cores + " cores x "
                + threads + " threads = " + count + " vCPUs; at most " + limit + " can run here (" + why
                + (plan.accelerator().isKvm() ? ", accelerator kvm)" : ", accelerator tcg)")));
    }

    private void disks(VmPlan plan, List<FieldError> errors) {
        Map<String, Long> taken = new HashMap<>();
        for (PreparedFile f : plan.files()) {
            if (!(f instanceof PreparedFile.SparseRaw raw)) {
                continue;
            }
            HostFacts.DiskSpace space = facts.diskSpace(raw.path());
            if (space == null || space.usableBytes() < 0) {
                continue;
            }
            long before = taken.getOrDefault(space.store(), 0L);
            long after = saturatedAdd(before, raw.sizeBytes());
            taken.put(space.store(), after);
            if (after > space.usableBytes()) {
                errors.add(new FieldError(raw.field() + ".capacity", size(raw.sizeBytes()) + " for new image "
                        + raw.path() + " does not fit: its file system " + space.store() + " has "
                        + size(space.usableBytes()) + " usable"
                        + (before > 0 ? ", " + size(before) + " of it for the VM's other new hostDisk images" : "")));
            }
        }
    }

    /** {@code 1.5 GiB (1610612736 bytes)}: readable, and exact. */
    static String size(long bytes) {
        String[] units = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
        double v = bytes;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        String readable = u < 0 ? bytes + " B" : String.format(Locale.ROOT, "%.1f %s", v, units[u]);
        return readable + " (" + bytes + " bytes)";
    }

    private static long saturatedAdd(long a, long b) {
        long r = a + b;
        return ((a ^ r) & (b ^ r)) < 0 ? Long.MAX_VALUE : r;
    }

    private static long saturatedMultiply(long a, long b) {
        long hi = Math.multiplyHigh(a, b);
        long lo = a * b;
        return (hi == 0 && lo >= 0) ? lo : Long.MAX_VALUE;
    }
}
