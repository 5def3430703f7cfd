package io.qvirt.controller;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.apps.ControllerRevision;
import io.fabric8.kubernetes.api.model.apps.ControllerRevisionBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.qvirt.api.FieldError;
import io.qvirt.api.KubevirtJson;
import io.qvirt.api.NetworkSettings;
import io.qvirt.api.VirtualMachine;
import io.qvirt.api.client.ResourcePatcher;
import io.qvirt.api.instancetype.InstancetypeExpander;
import io.qvirt.api.instancetype.InstancetypeLookup;
import io.qvirt.api.instancetype.InstancetypeResource;
import io.qvirt.api.model.InstancetypeMatcher;
import io.qvirt.api.model.InstancetypeStatusRef;
import io.qvirt.api.model.LocalObjectReference;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The VM controller's part of instancetypes and preferences, as KubeVirt's ({@code pkg/instancetype/controller/vm},
 * {@code revision/store.go}): for a VM that names them, find them (an error keeps the VM from starting: its Failure
 * condition), store each in a ControllerRevision owned by the VM and name it in {@code status.instancetypeRef}/
 * {@code preferenceRef} (so a later edit of the instancetype does not change this VM: later finds read the revision),
 * and make the VMI from the VM with them applied.
 */
final class VmInstancetypes {
    static final String LABEL_PREFIX = "instancetype.kubevirt.io/";

    private final KubernetesClient client;
    private final InstancetypeLookup lookup;
    private final ResourcePatcher patcher;

    VmInstancetypes(KubernetesClient client, InstancetypeLookup lookup) {
        this.client = client;
        this.lookup = lookup;
        this.patcher = new ResourcePatcher(client);
    }

    /** Whether the VM names an instancetype or a preference (else nothing here applies to it). */
    static boolean references(VirtualMachine vm) {
        return InstancetypeExpander.references(vm);
    }

    /** The lookup validation uses (the VM's conflicts and the preference's requirements). */
    InstancetypeLookup lookup() {
        return lookup;
    }

    /**
     * What {@link #sync} did.
     *
     * @param errors  what keeps the VM from starting (its Failure condition), or empty
     * @param patched the VM after its status refs were written, or null if nothing was written
     * @param specs   what the VM names, as found (for {@link #vmi}); NONE when there are errors
     */
    record Synced(List<FieldError> errors, VirtualMachine patched, InstancetypeExpander.Specs specs) {
    }

    /**
     * KubeVirt's instancetype sync of a VM: what it names is found, and stored as revisions named in its status
     * (once: a VM whose refs name its revisions costs no write). Precondition: {@link #references}.
     */
    Synced sync(VirtualMachine vm) {
        InstancetypeExpander.Found found = InstancetypeExpander.find(vm, lookup);
        if (!found.errors().isEmpty()) {
            return new Synced(found.errors(), null, InstancetypeExpander.Specs.NONE);
        }
        List<FieldError> errors = new ArrayList<>();
        InstancetypeStatusRef it = statusRef(vm, vm.getSpec().getInstancetype(), vm.getStatus() == null ? null
                : vm.getStatus().getInstancetypeRef(), false, errors);
        InstancetypeStatusRef pref = statusRef(vm, vm.getSpec().getPreference(), vm.getStatus() == null ? null
                : vm.getStatus().getPreferenceRef(), true, errors);
        if (!errors.isEmpty()) {
            return new Synced(errors, null, InstancetypeExpander.Specs.NONE);
        }
        boolean itChanged = it != null && !same(it, vm.getStatus() == null ? null : vm.getStatus().getInstancetypeRef());
        boolean prefChanged = pref != null && !same(pref, vm.getStatus() == null ? null : vm.getStatus().getPreferenceRef());
        if (itChanged || prefChanged) {
            VirtualMachine patched = patcher.patchStatus(VirtualMachine.class, vm, v -> {
                ObjectNode s = KubevirtJson.json().createObjectNode();
                if (itChanged) {
                    s.set("instancetypeRef", KubevirtJson.toTree(it));
                }
                if (prefChanged) {
                    s.set("preferenceRef", KubevirtJson.toTree(pref));
                }
                return s;
            }, true);
            return new Synced(List.of(), patched, found.specs());
        }
        return new Synced(List.of(), null, found.specs());
    }

    /**
     * The VMI KubeVirt's controller makes from the VM: the instancetype and preference applied. Precondition:
     * {@code specs} is what {@link #sync} found for this VM in the same reconcile, with no error.
     *
     * @throws IllegalStateException with KubeVirt's words when they cannot be applied
     */
    io.qvirt.api.VirtualMachineInstance vmi(VirtualMachine vm, InstancetypeExpander.Specs specs, NetworkSettings network) {
        InstancetypeExpander.Made made = InstancetypeExpander.toVmi(vm, specs, network);
        if (made.vmi() == null) {
            throw new IllegalStateException("Failed to apply instancetype: " + made.describe());
        }
        return made.vmi();
    }

    /**
     * KubeVirt's syncStatusWithMatcher: the status ref for one matcher, with a revision stored when it has none.
     *
     * @return the ref as it should be (equal to {@code current} when nothing changes), or null when there is no matcher
     */
    private InstancetypeStatusRef statusRef(VirtualMachine vm, InstancetypeMatcher m, InstancetypeStatusRef current,
                                            boolean preference, List<FieldError> errors) {
        if (m == null) {
            return null;
        }
        InstancetypeStatusRef ref = current == null ? new InstancetypeStatusRef()
                : KubevirtJson.deepCopy(current, InstancetypeStatusRef.class);
        boolean clear = false;
        if (m.getName() != null && !m.getName().isEmpty() && !m.getName().equals(ref.getName())) {
            ref.setName(m.getName());
            clear = true;
        }
        if (m.getKind() != null && !m.getKind().isEmpty() && !m.getKind().equals(ref.getKind())) {
            ref.setKind(m.getKind());
            clear = true;
        }
        if (clear) {
            ref.setControllerRevisionRef(null);
        }
        if (m.getRevisionName() != null && !m.getRevisionName().isEmpty()) {
            if (ref.getControllerRevisionRef() == null || !m.getRevisionName().equals(ref.getControllerRevisionRef().getName())) {
                ref.setControllerRevisionRef(revisionRef(m.getRevisionName()));
            }
        }
        if (ref.getControllerRevisionRef() == null) {
            InstancetypeResource r = preference ? InstancetypeResource.forPreferenceMatcher(m.getKind()).orElse(null)
                    : InstancetypeResource.forInstancetypeMatcher(m.getKind()).orElse(null);
            String at = preference ? "spec.preference" : "spec.instancetype";
            if (r == null) {
                errors.add(new FieldError(at + ".kind", "got unexpected kind in " + (preference ? "Preference" : "Instancetype")
                        + "Matcher: " + m.getKind()));
                return null;
            }
            try {
                ref.setControllerRevisionRef(revisionRef(store(vm, r, m.getName())));
            } catch (KubernetesClientException | IllegalStateException e) {
                errors.add(new FieldError(at, "failed to store a ControllerRevision of " + r.kind() + " " + m.getName()
                        + ": " + e.getMessage()));
                return null;
            }
        }
        return ref;
    }

    private static LocalObjectReference revisionRef(String name) {
        LocalObjectReference ref = new LocalObjectReference();
        ref.setName(name);
        return ref;
    }

    private static boolean same(InstancetypeStatusRef a, InstancetypeStatusRef b) {
        return b != null && KubevirtJson.toTree(a).equals(KubevirtJson.toTree(b));
    }

    /**
     * KubeVirt's storeControllerRevision: the object, without labels, annotations, finalizers, owners and managed
     * fields, in a ControllerRevision named {@code VM-OBJECT-VERSION-UID-GENERATION} owned by the VM; one that exists
     * with other data is an error.
     *
     * @return the revision's name
     */
    private String store(VirtualMachine vm, InstancetypeResource r, String name) {
        String ns = vm.getMetadata().getNamespace();
        HasMetadata obj = r.namespaced() ? client.resources(r.type()).inNamespace(ns).withName(name).get()
                : client.resources(r.type()).withName(name).get();
        if (obj == null) {
            throw new IllegalStateException(r.notFound(name));
        }
        ObjectNode data = (ObjectNode) KubevirtJson.toTree(obj);
        data.put("apiVersion", InstancetypeResource.API_VERSION);
        data.put("kind", r.kind());
        ObjectNode meta = (ObjectNode) data.path("metadata");
        for (String drop : List.of("labels", "annotations", "finalizers", "ownerReferences", "managedFields")) {
            meta.remove(drop);
        }
        long generation = Objects.requireNonNullElse(obj.getMetadata().getGeneration(), 0L);
        String uid = Objects.requireNonNullElse(obj.getMetadata().getUid(), "");
        String revision = vm.getMetadata().getName() + "-" + name + "-" + InstancetypeResource.VERSION + "-" + uid + "-"
                + generation;
        Map<String, String> labels = new LinkedHashMap<>();
        labels.put(LABEL_PREFIX + "object-generation", Long.toString(generation));
        labels.put(LABEL_PREFIX + "object-kind", r.kind());
        labels.put(LABEL_PREFIX + "object-name", name);
        labels.put(LABEL_PREFIX + "object-uid", uid);
        labels.put(LABEL_PREFIX + "object-version", InstancetypeResource.VERSION);
        @SuppressWarnings("unchecked")
        Map<String, Object> dataMap = KubevirtJson.json().convertValue(data, Map.class);
        ControllerRevision cr = new ControllerRevisionBuilder()
                .withNewMetadata().withName(revision).withNamespace(ns).withLabels(labels)
                    .withOwnerReferences(new OwnerReferenceBuilder().withApiVersion("kubevirt.io/v1").withKind("VirtualMachine")
                            .withName(vm.getMetadata().getName()).withUid(vm.getMetadata().getUid()).withController(true)
                            .withBlockOwnerDeletion(true).build())
                .endMetadata()
                .withData(dataMap).withRevision(1L).build();
        try {
            client.apps().controllerRevisions().inNamespace(ns).resource(cr).create();
        } catch (KubernetesClientException e) {
            if (e.getCode() != 409) {
                throw e;
            }
            ControllerRevision existing = client.apps().controllerRevisions().inNamespace(ns).withName(revision).get();
            JsonNode have = existing == null ? null : KubevirtJson.toTree(existing.getData()).path("spec");
            if (existing == null || !data.path("spec").equals(have)) {
                throw new IllegalStateException("found existing ControllerRevision with unexpected data: " + revision);
            }
        }
        return revision;
    }
}
