package io.qvirt.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.qvirt.api.KubevirtJson;
import io.qvirt.api.VirtualMachine;
import io.qvirt.api.VirtualMachineInstance;
import io.qvirt.api.model.Condition;
import io.qvirt.api.model.Disk;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Claims on the cluster path, as KubeVirt's VMI and VM controllers: a missing claim is the VM's ErrorPvcNotFound
 * (the VMI Pending with Synchronized=False FailedPvcNotFound, no pod) until the claim appears; an unbound one is
 * WaitingForVolumeBinding; a bound one gives the VMI's status.volumeStatus its persistentVolumeClaimInfo and the pod
 * the claim (mounted, or as a device in block mode) and the launcher's {@code --pvc-dir}. On fabric8's CRUD mock API
 * server (not a real kube-apiserver: no one binds claims, the test writes their status).
 */
class VolumeClaimsTest extends WithController {
    static final String MOUNTS = LauncherPods.VMI_DISKS_DIR;

    @Test
    void aMissingClaimIsErrorPvcNotFoundWithoutAPodUntilTheClaimExists() throws Exception {
        h.create(vmWith("data", "persistentVolumeClaim", "{claimName: data-claim}"));
        VirtualMachineInstance vmi = h.awaitVmi("testvm", null);
        h.awaitPrintable("testvm", "ErrorPvcNotFound");
        vmi = h.vmi("testvm");
        Condition sync = Objects2.condition(vmi.getStatus().getConditions(), "Synchronized");
        assertEquals("False", sync.getStatus());
        assertEquals("FailedPvcNotFound", sync.getReason());
        assertEquals("PVC default/data-claim does not exist, waiting for it to appear", sync.getMessage());
        Condition scheduled = Objects2.condition(vmi.getStatus().getConditions(), "PodScheduled");
        assertEquals("False", scheduled.getStatus());
        assertEquals("Unschedulable", scheduled.getReason());
        assertEquals("Pending", VmReconciler.phase(vmi));
        assertTrue(h.pods().isEmpty(), "no pod while the claim is missing");
        assertTrue(h.client.v1().events().inNamespace(ControllerHarness.NS).list().getItems().stream()
                .anyMatch(e -> "FailedPvcNotFound".equals(e.getReason())
                        && e.getMessage().contains("default/data-claim")), "KubeVirt's FailedPvcNotFound Event");

        // The claim appears, bound: the pod comes, with the claim mounted and its info recorded.
        h.client.persistentVolumeClaims().inNamespace(ControllerHarness.NS)
                .resource(claim("data-claim", "Filesystem", "64Mi")).create();
        setClaimStatus("data-claim", "Bound", "80Mi");
        Pod pod = h.awaitPod(vmi);
        h.awaitPrintable("testvm", "Starting");
        Volume vol = podVolume(pod, "data");
        assertEquals("data-claim", vol.getPersistentVolumeClaim().getClaimName());
        Container compute = pod.getSpec().getContainers().get(0);
        assertTrue(compute.getVolumeMounts().stream().anyMatch(m -> "data".equals(m.getName())
                && (MOUNTS + "/data").equals(m.getMountPath())), "claim mounted at " + MOUNTS + "/data");
        assertTrue(compute.getVolumeDevices() == null || compute.getVolumeDevices().isEmpty());
        List<String> cmd = compute.getCommand();
        assertEquals(MOUNTS, cmd.get(cmd.indexOf("--pvc-dir") + 1));
        JsonNode launcherInfo = info(KubevirtJson.json().readTree(cmd.get(cmd.indexOf("--vmi-json") + 1)), "data");
        // the launcher sizes disk.img by these (the capacity only if the claim's status came before the pod did)
        assertEquals("64Mi", launcherInfo.path("requests").path("storage").asText(), launcherInfo.toString());
        assertTrue(launcherInfo.path("capacity").isMissingNode()
                || "80Mi".equals(launcherInfo.path("capacity").path("storage").asText()), launcherInfo.toString());

        VirtualMachineInstance after = MockApi.awaitValue(ControllerHarness.WAIT, "volumeStatus with the claim's info",
                () -> {
                    VirtualMachineInstance v = h.vmi("testvm");
                    return info(KubevirtJson.toTree(v.getStatus()), "data").isMissingNode() ? null : v;
                });
        JsonNode info = info(KubevirtJson.toTree(after.getStatus()), "data");
        assertEquals("data-claim", info.path("claimName").asText());
        assertEquals("Filesystem", info.path("volumeMode").asText());
        assertEquals("ReadWriteOnce", info.path("accessModes").path(0).asText());
        assertEquals("0.055", info.path("filesystemOverhead").asText());
        assertNull(Objects2.condition(after.getStatus().getConditions(), "Synchronized"), "FailedPvcNotFound gone");
        assertEquals("Scheduling", VmReconciler.phase(after));
    }

    @Test
    void anUnboundClaimIsWaitingForVolumeBindingUntilBound() throws Exception {
        h.client.persistentVolumeClaims().inNamespace(ControllerHarness.NS)
                .resource(claim("slow", "Filesystem", "64Mi")).create();
        setClaimStatus("slow", "Pending", null);
        h.create(vmWith("data", "persistentVolumeClaim", "{claimName: slow}"));
        h.awaitPrintable("testvm", "WaitingForVolumeBinding");
        // As KubeVirt, the pod is made (the scheduler waits for the claim; a WaitForFirstConsumer claim binds for it).
        Pod pod = h.awaitPod(h.vmi("testvm"));
        JsonNode launcherInfo = info(KubevirtJson.json().readTree(pod.getSpec().getContainers().get(0).getCommand()
                .get(pod.getSpec().getContainers().get(0).getCommand().indexOf("--vmi-json") + 1)), "data");
        assertTrue(launcherInfo.path("capacity").isMissingNode(), "no capacity before binding: " + launcherInfo);
        assertEquals("64Mi", launcherInfo.path("requests").path("storage").asText());
        setClaimStatus("slow", "Bound", "64Mi");
        h.awaitPrintable("testvm", "Starting");
    }

    @Test
    void aBlockClaimIsTheDeviceAtDevVolume() throws Exception {
        h.client.persistentVolumeClaims().inNamespace(ControllerHarness.NS)
                .resource(claim("raw", "Block", "1Gi")).create();
        setClaimStatus("raw", "Bound", "1Gi");
        MockApi.await(ControllerHarness.WAIT, "claim cached", () -> h.controller.caches().pvc("default", "raw") != null);
        h.create(vmWith("data", "persistentVolumeClaim", "{claimName: raw}"));
        Pod pod = h.awaitPod(h.awaitVmi("testvm", null));
        Container compute = pod.getSpec().getContainers().get(0);
        assertEquals(1, compute.getVolumeDevices().size());
        assertEquals("data", compute.getVolumeDevices().get(0).getName());
        assertEquals("/dev/data", compute.getVolumeDevices().get(0).getDevicePath());
        assertFalse(compute.getVolumeMounts().stream().anyMatch(m -> "data".equals(m.getName())), "no mount in block mode");
        assertEquals("raw", podVolume(pod, "data").getPersistentVolumeClaim().getClaimName());
        assertTrue(compute.getCommand().contains("--pvc-dir"));
    }

    @Test
    void anEphemeralVolumeMountsItsClaimAsGiven() throws Exception {
        h.client.persistentVolumeClaims().inNamespace(ControllerHarness.NS)
                .resource(claim("golden", "Filesystem", "1Gi")).create();
        setClaimStatus("golden", "Bound", "1Gi");
        MockApi.await(ControllerHarness.WAIT, "claim cached", () -> h.controller.caches().pvc("default", "golden") != null);
        h.create(vmWith("data", "ephemeral", "{persistentVolumeClaim: {claimName: golden, readOnly: true}}"));
        Pod pod = h.awaitPod(h.awaitVmi("testvm", null));
        Volume vol = podVolume(pod, "data");
        assertEquals("golden", vol.getPersistentVolumeClaim().getClaimName());
        assertEquals(Boolean.TRUE, vol.getPersistentVolumeClaim().getReadOnly());
        assertTrue(pod.getSpec().getContainers().get(0).getVolumeMounts().stream()
                .anyMatch(m -> (MOUNTS + "/data").equals(m.getMountPath())));
    }

    @Test
    void dataVolumesAreRefusedByNameWithTheWayOut() throws Exception {
        VirtualMachine vm = vmWith("data", "dataVolume", "{name: dv}");
        vm.getSpec().setDataVolumeTemplates(List.of(KubevirtJson.json().convertValue(Map.of(
                "metadata", Map.of("name", "dv"), "spec", Map.of("source", Map.of("blank", Map.of()))),
                io.qvirt.api.model.DataVolumeTemplateSpec.class)));
        h.create(vm);
        Condition failure = MockApi.awaitValue(ControllerHarness.WAIT, "Failure condition",
                () -> h.vm("testvm").getStatus() == null ? null
                        : Objects2.condition(h.vm("testvm").getStatus().getConditions(), "Failure"));
        assertTrue(failure.getMessage().contains("spec.dataVolumeTemplates[0]: DataVolumes need CDI"), failure.getMessage());
        assertTrue(failure.getMessage().contains("spec.template.spec.volumes[2].dataVolume: DataVolumes need CDI"),
                failure.getMessage());
        assertTrue(failure.getMessage().contains("persistentVolumeClaim volume"), failure.getMessage());
        Thread.sleep(300);
        assertNull(h.vmi("testvm"));
    }

    @Test
    void aHostDiskNeedsTheGateAndIsItsDirectoryAsAHostPath() throws Exception {
        h.create(vmWith("data", "hostDisk", "{path: /var/lib/qvirt-disks/data.img, type: DiskOrCreate, capacity: 1Gi}"));
        Condition failure = MockApi.awaitValue(ControllerHarness.WAIT, "Failure condition",
                () -> h.vm("testvm").getStatus() == null ? null
                        : Objects2.condition(h.vm("testvm").getStatus().getConditions(), "Failure"));
        assertTrue(failure.getMessage().contains("HostDisk feature gate is not enabled"), failure.getMessage());

        KubeVirt cr = cr();
        KubeVirt.DeveloperConfiguration dev = new KubeVirt.DeveloperConfiguration();
        dev.setFeatureGates(List.of("HostDisk"));
        cr.getSpec().getConfiguration().setDeveloperConfiguration(dev);
        h.client.resource(cr).create();
        Pod pod = h.awaitPod(h.awaitVmi("testvm", null));
        Volume vol = podVolume(pod, "data");
        assertEquals("/var/lib/qvirt-disks", vol.getHostPath().getPath());
        assertEquals("DirectoryOrCreate", vol.getHostPath().getType());
        Container compute = pod.getSpec().getContainers().get(0);
        assertTrue(compute.getVolumeMounts().stream().anyMatch(m -> "data".equals(m.getName())
                && (MOUNTS + "/data").equals(m.getMountPath())));
        JsonNode spec = KubevirtJson.json().readTree(compute.getCommand().get(compute.getCommand().indexOf("--vmi-json")
                + 1)).path("spec");
        assertEquals(MOUNTS + "/data/data.img", spec.path("volumes").path(2).path("hostDisk").path("path").asText(),
                "the launcher opens the disk where the pod mounts it");
        assertEquals("/var/lib/qvirt-disks/data.img", h.vmi("testvm").getSpec().getVolumes().get(2).getHostDisk()
                .getPath(), "the VMI itself keeps the user's path");
        assertFalse(compute.getCommand().contains("--pvc-dir"), "no claims");
    }

    @Test
    void theKubeVirtCrsNetworkSettingsShapeDefaultsAndValidation() throws Exception {
        KubeVirt cr = cr();
        cr.getSpec().getConfiguration().setNetwork(Map.of("defaultNetworkInterface", "bridge"));
        h.client.resource(cr).create();
        MockApi.await(ControllerHarness.WAIT, "network settings read", () ->
                "bridge".equals(h.controller.clusterConfig().network().defaultNetworkInterface()));
        VirtualMachine vm = MockApi.seedVm();
        vm.getSpec().setRunning(true);
        vm.getSpec().getTemplate().getSpec().getDomain().getDevices().setInterfaces(null);
        vm.getSpec().getTemplate().getSpec().setNetworks(null);
        h.create(vm);
        VirtualMachineInstance vmi = h.awaitVmi("testvm", null);
        var iface = vmi.getSpec().getDomain().getDevices().getInterfaces().get(0);
        assertTrue(iface.getBridge() != null && iface.getMasquerade() == null,
                "the CR's default binding: " + KubevirtJson.toJson(iface));
        Container compute = h.awaitPod(vmi).getSpec().getContainers().get(0);
        assertEquals(new Quantity("1"), compute.getResources().getRequests().get(LauncherPods.TUN_RESOURCE),
                "a bridge on the pod network asks for the tun device");
        assertEquals(new Quantity("1"), compute.getResources().getLimits().get(LauncherPods.TUN_RESOURCE));

        // Bridge no longer permitted on the pod network: a VM asking for it is refused by field.
        h.client.resources(KubeVirt.class).inNamespace("kubevirt").withName("kubevirt").edit(k -> {
            k.getSpec().getConfiguration().setNetwork(Map.of("permitBridgeInterfaceOnPodNetwork", false));
            return k;
        });
        MockApi.await(ControllerHarness.WAIT, "bridge no longer permitted", () ->
                !h.controller.clusterConfig().network().permitBridgeInterfaceOnPodNetwork());
        VirtualMachine bridged = MockApi.seedVm();
        bridged.getMetadata().setName("bridged");
        bridged.getSpec().setRunning(true);
        var ifaces = bridged.getSpec().getTemplate().getSpec().getDomain().getDevices().getInterfaces();
        ifaces.get(0).setMasquerade(null);
        ifaces.get(0).setBridge(new io.qvirt.api.model.BindingMethod());
        h.create(bridged);
        Condition failure = MockApi.awaitValue(ControllerHarness.WAIT, "Failure condition",
                () -> h.vm("bridged").getStatus() == null ? null
                        : Objects2.condition(h.vm("bridged").getStatus().getConditions(), "Failure"));
        assertTrue(failure.getMessage().contains("spec.template.spec.domain.devices.interfaces[0]"), failure.getMessage());
        assertNull(h.vmi("bridged"));
    }

    @Test
    void masqueradeAsksForNoTunDevice() throws Exception {
        VirtualMachine vm = MockApi.seedVm();
        vm.getSpec().setRunning(true);
        h.create(vm);
        Container compute = h.awaitPod(h.awaitVmi("testvm", null)).getSpec().getContainers().get(0);
        assertFalse(compute.getResources().getRequests().containsKey(LauncherPods.TUN_RESOURCE));
    }

    /** The seed VM, running, with one more disk {@code name} of the given volume source. */
    static VirtualMachine vmWith(String name, String kind, String sourceYaml) throws Exception {
        VirtualMachine vm = MockApi.seedVm();
        vm.getSpec().setRunning(true);
        var spec = vm.getSpec().getTemplate().getSpec();
        Map<?, ?> src = KubevirtJson.yaml().readValue(sourceYaml, Map.class);
        io.qvirt.api.model.Volume vol = KubevirtJson.json().convertValue(Map.of("name", name, kind, src),
                io.qvirt.api.model.Volume.class);
        List<io.qvirt.api.model.Volume> vols = new ArrayList<>(spec.getVolumes());
        vols.add(vol);
        spec.setVolumes(vols);
        Disk disk = new Disk();
        disk.setName(name);
        spec.getDomain().getDevices().getDisks().add(disk);
        return vm;
    }

    static PersistentVolumeClaim claim(String name, String mode, String request) {
        return new PersistentVolumeClaimBuilder().withNewMetadata().withName(name).endMetadata()
                .withNewSpec().withAccessModes("ReadWriteOnce").withVolumeMode(mode)
                .withNewResources().addToRequests("storage", new Quantity(request)).endResources().endSpec().build();
    }

    /** What a binder writes: the claim's phase and (bound) capacity. */
    private void setClaimStatus(String name, String phase, String capacity) {
        String status = "{\"phase\":\"" + phase + "\"" + (capacity == null ? ""
                : ",\"capacity\":{\"storage\":\"" + capacity + "\"}") + "}";
        h.client.persistentVolumeClaims().inNamespace(ControllerHarness.NS).withName(name).subresource("status")
                .patch(PatchContext.of(PatchType.JSON), "[{\"op\":\"add\",\"path\":\"/status\",\"value\":" + status + "}]");
    }

    private static KubeVirt cr() {
        KubeVirt cr = new KubeVirt();
        cr.setMetadata(new io.fabric8.kubernetes.api.model.ObjectMetaBuilder().withName("kubevirt")
                .withNamespace("kubevirt").build());
        KubeVirt.Spec spec = new KubeVirt.Spec();
        spec.setConfiguration(new KubeVirt.Configuration());
        cr.setSpec(spec);
        return cr;
    }

    private static Volume podVolume(Pod pod, String name) {
        return pod.getSpec().getVolumes().stream().filter(v -> name.equals(v.getName())).findFirst()
                .orElseThrow(() -> new AssertionError("pod volume " + name + " missing: " + pod.getSpec().getVolumes()));
    }

    /** {@code status.volumeStatus[name].persistentVolumeClaimInfo} of a VMI's status (or a whole VMI's JSON). */
    private static JsonNode info(JsonNode statusOrVmi, String name) {
        JsonNode list = statusOrVmi.has("volumeStatus") ? statusOrVmi.get("volumeStatus")
                : statusOrVmi.path("status").path("volumeStatus");
        for (JsonNode e : list) {
            if (name.equals(e.path("name").asText())) {
                return e.path("persistentVolumeClaimInfo");
            }
        }
        return com.fasterxml.jackson.databind.node.MissingNode.getInstance();
    }
}
