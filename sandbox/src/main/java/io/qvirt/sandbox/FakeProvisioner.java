package io.qvirt.sandbox;

import io.fabric8.kubernetes.api.model.PersistentVolume;
import io.fabric8.kubernetes.api.model.PersistentVolumeBuilder;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The FAKE volume provisioner and binder of the rig (kube-controller-manager's PV binder and a hostPath
 * provisioner in one, nothing more): each PersistentVolumeClaim created in the mock API server gets a FAKE
 * PersistentVolume {@code pvc-<claim uid>} of the claim's requested size, access modes, volume mode and class,
 * backed by the directory {@code <dir>/pvc-<claim uid>} (a {@code hostPath} PV, as Kubernetes' hostpath
 * provisioner makes them), and the claim is bound to it at once: {@code spec.volumeName}, then status
 * {@code Bound} with the capacity and access modes. A claim of the storage class {@value #WAIT_CLASS} stays
 * {@code Pending} for ever (a test sees KubeVirt's WaitingForVolumeBinding with it). A deleted claim takes its PV and
 * directory along (reclaim policy Delete). The FAKE node agents mount a claim by its PV's {@code hostPath}.
 *
 * <p>Block mode ({@code volumeMode: Block}) is bound the same way, but no block device stands behind it: the node
 * agents refuse to start a container with {@code volumeDevices} (see {@link FakeNodeAgent}).
 */
public final class FakeProvisioner implements AutoCloseable {
    /** The storage class whose claims this provisioner never binds. */
    public static final String WAIT_CLASS = "qvirt-fake-wait";
    private final KubernetesClient client;
    private final Path dir;
    private final ComponentLog log;
    private final ExecutorService work = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "fake-provisioner");
        t.setDaemon(true);
        return t;
    });
    private final SharedIndexInformer<PersistentVolumeClaim> claims;

    /**
     * @param dir where the claims' directories go; emptied first (the mock API server's claims start empty too)
     */
    public FakeProvisioner(KubernetesClient client, Path dir, ComponentLog log) throws IOException {
        this.client = client;
        this.dir = dir;
        this.log = log;
        FakeNodeAgent.deleteTree(dir);
        Files.createDirectories(dir);
        claims = client.persistentVolumeClaims().inAnyNamespace().inform(new ResourceEventHandler<>() {
            @Override
            public void onAdd(PersistentVolumeClaim pvc) {
                work.submit(() -> bind(pvc));
            }

            @Override
            public void onUpdate(PersistentVolumeClaim old, PersistentVolumeClaim pvc) {
                work.submit(() -> bind(pvc));
            }

            @Override
            public void onDelete(PersistentVolumeClaim pvc, boolean unknownFinalState) {
                work.submit(() -> release(pvc));
            }
        }, 0);
        log.info("FAKE provisioner started: claims bound at once to hostPath PVs under " + dir + " (class "
                + WAIT_CLASS + " stays Pending)");
    }

    /** The directory a bound claim's PV stands for. */
    static Path claimDir(Path dir, PersistentVolumeClaim pvc) {
        return dir.resolve(pvName(pvc));
    }

    private static String pvName(PersistentVolumeClaim pvc) {
        return "pvc-" + pvc.getMetadata().getUid();
    }

    private void bind(PersistentVolumeClaim pvc) {
        String key = pvc.getMetadata().getNamespace() + "/" + pvc.getMetadata().getName();
        try {
            if (pvc.getMetadata().getDeletionTimestamp() != null
                    || pvc.getStatus() != null && "Bound".equals(pvc.getStatus().getPhase())) {
                return;
            }
            var spec = pvc.getSpec();
            if (WAIT_CLASS.equals(spec.getStorageClassName())) {
                if (pvc.getStatus() == null || pvc.getStatus().getPhase() == null) {
                    status(pvc, Map.of("phase", "Pending"));
                    log.info("claim " + key + ": class " + WAIT_CLASS + ": left Pending");
                }
                return;
            }
            Quantity size = spec.getResources() == null || spec.getResources().getRequests() == null ? null
                    : spec.getResources().getRequests().get("storage");
            if (size == null) {
                log.warn("claim " + key + ": no resources.requests.storage: left unbound");
                return;
            }
            Path storage = claimDir(dir, pvc);
            Files.createDirectories(storage);
            List<String> modes = spec.getAccessModes() == null || spec.getAccessModes().isEmpty()
                    ? List.of("ReadWriteOnce") : spec.getAccessModes();
            String mode = spec.getVolumeMode() == null ? "Filesystem" : spec.getVolumeMode();
            PersistentVolume pv = new PersistentVolumeBuilder().withNewMetadata().withName(pvName(pvc))
                    .addToAnnotations("pv.kubernetes.io/provisioned-by", "qvirt-sandbox/fake-provisioner").endMetadata()
                    .withNewSpec().addToCapacity("storage", size).withAccessModes(modes).withVolumeMode(mode)
                    .withStorageClassName(spec.getStorageClassName()).withPersistentVolumeReclaimPolicy("Delete")
                    .withNewHostPath().withPath(storage.toString()).withType("Directory").endHostPath()
                    .withNewClaimRef().withKind("PersistentVolumeClaim").withNamespace(pvc.getMetadata().getNamespace())
                    .withName(pvc.getMetadata().getName()).withUid(pvc.getMetadata().getUid()).endClaimRef()
                    .endSpec().withNewStatus().withPhase("Bound").endStatus().build();
            try {
                client.persistentVolumes().resource(pv).create();
            } catch (KubernetesClientException e) {
                if (e.getCode() != 409) {
                    throw e;
                }
            }
            client.persistentVolumeClaims().inNamespace(pvc.getMetadata().getNamespace())
                    .withName(pvc.getMetadata().getName()).patch(PatchContext.of(PatchType.JSON),
                            "[{\"op\":\"add\",\"path\":\"/spec/volumeName\",\"value\":\"" + pvName(pvc) + "\"}]");
            status(pvc, Map.of("phase", "Bound", "accessModes", modes, "capacity", Map.of("storage", size.toString())));
            log.info("claim " + key + ": bound to FAKE PV " + pvName(pvc) + " (" + size + ", " + mode + ") at " + storage);
        } catch (IOException | KubernetesClientException e) {
            log.warn("claim " + key + ": not bound: " + e.getMessage());
        }
    }

    private void status(PersistentVolumeClaim pvc, Map<String, Object> status) {
        client.persistentVolumeClaims().inNamespace(pvc.getMetadata().getNamespace())
                .withName(pvc.getMetadata().getName()).subresource("status").patch(PatchContext.of(PatchType.JSON),
                        "[{\"op\":\"add\",\"path\":\"/status\",\"value\":" + Serialization.asJson(status) + "}]");
    }

    private void release(PersistentVolumeClaim pvc) {
        try {
            client.persistentVolumes().withName(pvName(pvc)).delete();
        } catch (KubernetesClientException e) {
            log.warn("claim " + pvc.getMetadata().getName() + ": PV not deleted: " + e.getMessage());
        }
        FakeNodeAgent.deleteTree(claimDir(dir, pvc));
        log.info("claim " + pvc.getMetadata().getNamespace() + "/" + pvc.getMetadata().getName() + " deleted: FAKE PV "
                + pvName(pvc) + " and its directory removed");
    }

    @Override
    public void close() {
        claims.close();
        work.shutdownNow();
    }
}
