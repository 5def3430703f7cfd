package io.qvirt.launcher.plan;

import io.qvirt.api.FieldError;
import io.qvirt.api.ValidationException;
import io.qvirt.api.VirtualMachineInstance;
import io.qvirt.api.model.Volume;
import io.qvirt.launcher.runtime.RuntimeDir;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What qvirt's launcher would refuse in a VMI, asked by virt-api's admission webhooks so that a VM qvirt cannot run
 * is refused at {@code kubectl apply} with the field path, as {@code launcher validate} refuses it, instead of
 * failing later in its launcher pod. The VMI is planned as {@code launcher exec} plans it on a node, with stand-ins
 * for what only the node has: images not pulled, the claims as the pod mounts them, the pod network as the node
 * agent plumbs it, TCG, and no look at node files (firmware, a hostDisk's image): the launcher checks those when
 * it runs. Nothing is read, made or started.
 */
public final class AdmissionPlanning {
    /** Where stand-in paths point; never read. */
    private static final Path ROOT = Path.of("/var/run/qvirt-admission");
    private static final Path QEMU = Path.of("/usr/bin/qemu-system-x86_64");

    private AdmissionPlanning() {
    }

    /**
     * @param vmi         the VMI as it would be created: defaulted, valid by the api module's rules, with a namespace
     *                    and a name (a VM's VMI: the template with its instancetype and preference applied)
     * @param fieldPrefix how field paths are named ({@code spec.} for a VMI, {@code spec.template.spec.} for a VM)
     * @return every field qvirt's launcher would refuse; empty when it would run it
     */
    public static List<FieldError> refusals(VirtualMachineInstance vmi, String fieldPrefix) {
        Map<String, ResolvedVolumes.ClaimDisk> claims = new LinkedHashMap<>();
        List<Volume> volumes = vmi.getSpec().getVolumes() == null ? List.of() : vmi.getSpec().getVolumes();
        for (Volume v : volumes) {
            if (v.getName() != null && (v.getPersistentVolumeClaim() != null || v.getEphemeral() != null)) {
                claims.put(v.getName(), new ResolvedVolumes.ClaimDisk(
                        ROOT.resolve("vmi-disks").resolve(v.getName()).resolve("disk.img"), false, 0));
            }
        }
        RuntimePaths paths;
        try {
            paths = RuntimeDir.paths(ROOT, vmi.getMetadata().getNamespace(), vmi.getMetadata().getName());
        } catch (IllegalArgumentException e) {
            return List.of(new FieldError("metadata.name", e.getMessage()));
        }
        PlanOptions options = new PlanOptions(paths, new Accelerator(Accelerator.TCG, "admission"), false, true,
                fieldPrefix, "0.0.0.0", p -> p, 512, ResolvedVolumes.placeholders(vmi).withClaims(claims),
                PlumbedPodNetwork.PENDING, true);
        try {
            new VmPlanner(QEMU).plan(vmi, options);
            return List.of();
        } catch (ValidationException e) {
            return e.errors();
        }
    }
}
