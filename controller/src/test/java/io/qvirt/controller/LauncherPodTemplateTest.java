package io.qvirt.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Quantity;
import io.qvirt.api.KubevirtJson;
import io.qvirt.api.LoadedManifest;
import io.qvirt.api.VirtualMachine;
import io.qvirt.api.VirtualMachineInstance;
import io.qvirt.api.VmiDefaults;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The launcher pod against KubeVirt's template ({@code pkg/virt-controller/services/template.go}), field by
 * field; no API server. The VMIs come from the seed VM with the fields of each row added to its spec as a user
 * would write them in YAML.
 */
class LauncherPodTemplateTest {
    private static VirtualMachineInstance vmi(String name, String specYaml) throws Exception {
        VirtualMachine vm = MockApi.seedVm();
        vm.getMetadata().setUid("vm-uid");
        vm.getMetadata().setName(name);
        VirtualMachineInstance vmi = VmiDefaults.apply(LoadedManifest.fromVm(vm));
        vmi.getMetadata().setUid("vmi-uid");
        if (specYaml != null) {
            Map<?, ?> extra = KubevirtJson.yaml().readValue(specYaml, Map.class);
            extra.forEach((k, v) -> vmi.getSpec().getAdditionalProperties().put((String) k, v));
        }
        return vmi;
    }

    private static Pod pod(String specYaml) throws Exception {
        return LauncherPods.build(vmi("testvm", specYaml), ClusterConfig.defaults());
    }

    /** The VMI's scheduling intent and DNS reach the pod (KubeVirt passes each on). */
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "affinity | {affinity: {nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: [{matchExpressions: [{key: zone, operator: In, values: [a]}]}]}}}}",
        "tolerations | {tolerations: [{key: dedicated, operator: Equal, value: vms, effect: NoSchedule}]}",
        "topologySpreadConstraints | {topologySpreadConstraints: [{maxSkew: 1, topologyKey: zone, whenUnsatisfiable: DoNotSchedule, labelSelector: {matchLabels: {app: x}}}]}",
        "dnsPolicy | {dnsPolicy: None}",
        "dnsConfig | {dnsConfig: {nameservers: [1.1.1.1], searches: [example.org], options: [{name: ndots, value: '2'}]}}",
    })
    void schedulingAndDnsFieldsReachThePod(String field, String yaml) throws Exception {
        Pod pod = pod(yaml);
        Object expected = KubevirtJson.yaml().readValue(yaml, Map.class).get(field);
        Object actual = KubevirtJson.json().convertValue(KubevirtJson.toTree(pod.getSpec()).get(field), Object.class);
        assertEquals(KubevirtJson.toTree(expected), KubevirtJson.toTree(actual), field);
    }

    @Test
    void withoutThoseFieldsThePodHasNone() throws Exception {
        Pod pod = pod(null);
        assertNull(pod.getSpec().getAffinity());
        assertTrue(pod.getSpec().getTolerations() == null || pod.getSpec().getTolerations().isEmpty());
        assertNull(pod.getSpec().getDnsPolicy());
        assertNull(pod.getSpec().getServiceAccountName());
        assertEquals(Boolean.FALSE, pod.getSpec().getAutomountServiceAccountToken());
    }

    /** serviceAccountName from the spec, else from a serviceAccount volume (whose token is then mounted). */
    @ParameterizedTest(name = "spec {0}, volume {1} -> {2}, automount {3}")
    @CsvSource({
        "sa-spec, ,       sa-spec, false",
        ",        sa-vol, sa-vol,  true",
        "sa-spec, sa-vol, sa-spec, true",
    })
    void serviceAccount(String specName, String volumeName, String expected, boolean automount) throws Exception {
        VirtualMachineInstance vmi = vmi("testvm", null);
        vmi.getSpec().setServiceAccountName(specName);
        if (volumeName != null) {
            io.qvirt.api.model.Volume v = KubevirtJson.json().convertValue(
                    Map.of("name", "sa", "serviceAccount", Map.of("serviceAccountName", volumeName)),
                    io.qvirt.api.model.Volume.class);
            List<io.qvirt.api.model.Volume> vols = new java.util.ArrayList<>(vmi.getSpec().getVolumes());
            vols.add(v);
            vmi.getSpec().setVolumes(vols);
        }
        Pod pod = LauncherPods.build(vmi, ClusterConfig.defaults());
        assertEquals(expected, pod.getSpec().getServiceAccountName());
        assertEquals(automount, pod.getSpec().getAutomountServiceAccountToken());
    }

    /** KubeVirt's fixed parts of the pod: readiness gate, no service links, default container, labels, grace. */
    @Test
    void kubevirtsPodShape() throws Exception {
        VirtualMachineInstance vmi = vmi("testvm", null);
        vmi.getMetadata().setAnnotations(new LinkedHashMap<>(Map.of("example.org/team", "a",
                "kubectl.kubernetes.io/last-applied-configuration", "{}")));
        vmi.getSpec().setTerminationGracePeriodSeconds(20L);
        Pod pod = LauncherPods.build(vmi, ClusterConfig.defaults());
        assertEquals(List.of("kubevirt.io/virtual-machine-unpaused"),
                pod.getSpec().getReadinessGates().stream().map(g -> g.getConditionType()).toList());
        assertEquals(Boolean.FALSE, pod.getSpec().getEnableServiceLinks());
        Map<String, String> a = pod.getMetadata().getAnnotations();
        assertEquals("compute", a.get("kubectl.kubernetes.io/default-container"));
        assertEquals("a", a.get("example.org/team"), "the VMI's annotations are copied");
        assertFalse(a.containsKey("kubectl.kubernetes.io/last-applied-configuration"), "but not kubectl's");
        assertEquals("testvm", a.get("kubevirt.io/domain"));
        assertEquals("testvm", pod.getMetadata().getLabels().get("vmi.kubevirt.io/id"));
        assertEquals(50L, pod.getSpec().getTerminationGracePeriodSeconds(), "VMI grace 20 s + 2 x 15 s");
    }

    /** The VMI's name in labels and hostname: KubeVirt's id (hashed past 63) and its hostname (up to a dot). */
    @ParameterizedTest(name = "{0}")
    @CsvSource({
        "web.example, web, web.example",
        "a-name-that-is-exactly-sixty-four-characters-long-for-the-testxy, "
                + "a-name-that-is-exactly-sixty-four-characters-long-for-the-testx, "
                // the first 54 characters and sha1(name)'s first 8 hex digits (KubeVirt's CalculateVirtualMachineInstanceID)
                + "a-name-that-is-exactly-sixty-four-characters-long-for--1c47a79d",
    })
    void vmiIdAndHostname(String name, String hostname, String id) throws Exception {
        Pod pod = LauncherPods.build(vmi(name, null), ClusterConfig.defaults());
        assertEquals(hostname, pod.getSpec().getHostname());
        assertEquals(hostname, pod.getMetadata().getLabels().get("vm.kubevirt.io/name"));
        assertEquals(id, pod.getMetadata().getLabels().get("vmi.kubevirt.io/id"));
    }

    /** KubeVirt's CPU request without one in the VMI: vCPUs / 10 (cpuAllocationRatio). */
    @ParameterizedTest(name = "{0} sockets x {1} cores -> {2}")
    @CsvSource({"1, 1, 100m", "2, 2, 400m", "4, 3, 1200m"})
    void cpuRequest(int sockets, int cores, String expected) throws Exception {
        VirtualMachineInstance vmi = vmi("testvm", null);
        vmi.getSpec().getDomain().getCpu().setSockets(sockets);
        vmi.getSpec().getDomain().getCpu().setCores(cores);
        Container c = LauncherPods.build(vmi, ClusterConfig.defaults()).getSpec().getContainers().get(0);
        assertEquals(expected, c.getResources().getRequests().get("cpu").toString());
        assertNull(c.getResources().getLimits().get("cpu"));
    }

    /**
     * A memory limit only where KubeVirt sets one: none by default, the VMI's limit plus the overhead, or the
     * request for dedicated CPUs.
     */
    @ParameterizedTest(name = "limit {0}, dedicated {1} -> {2}")
    @CsvSource({
        ",      false, ",
        "256Mi, false, 345Mi",
        ",      true,  151Mi",
    })
    void memoryLimit(String vmiLimit, boolean dedicated, String expected) throws Exception {
        VirtualMachineInstance vmi = vmi("testvm", null);
        if (vmiLimit != null) {
            vmi.getSpec().getDomain().getResources().setLimits(new LinkedHashMap<>(Map.of("memory", new Quantity(vmiLimit))));
        }
        if (dedicated) {
            vmi.getSpec().getDomain().getCpu().setDedicatedCpuPlacement(true);
        }
        Container c = LauncherPods.build(vmi, ClusterConfig.defaults()).getSpec().getContainers().get(0);
        assertEquals("151Mi", c.getResources().getRequests().get("memory").toString(), "64M guest + 89 MiB");
        Quantity limit = c.getResources().getLimits().get("memory");
        assertEquals(expected, limit == null ? null : limit.toString());
    }

    /**
     * KubeVirt's automatic limits (renderresources.go WithAutoMemoryLimits, the auto CPU limit): only in a namespace
     * whose ResourceQuota sets a hard {@code limits.<resource>}, only where the VMI sets no limit of its own; memory
     * = the pod's request x the namespace's ratio label (default 2, a ratio below 1 or not a number ignored), CPU =
     * one per vCPU. The helper containers always carry KubeVirt's minimal limits, so the quota admits them too.
     */
    @ParameterizedTest(name = "quota {0}, ratio label {1}, VMI limit {2} -> memory {3}, cpu {4}")
    @CsvSource({
        "'',                       ,     ,      ,      ",
        "limits.memory,            ,     ,      302Mi, ",
        "limits.memory,            1.5,  ,      227Mi, ",
        "limits.memory,            0.5,  ,      302Mi, ",
        "limits.memory,            lots, ,      302Mi, ",
        "limits.memory,            ,     256Mi, 345Mi, ",
        "limits.cpu,               ,     ,      ,      1",
        "limits.memory limits.cpu, 3,    ,      453Mi, 1",
    })
    void automaticLimitsAsKubeVirt(String quota, String ratio, String vmiLimit, String memory, String cpu)
            throws Exception {
        VirtualMachineInstance vmi = vmi("testvm", null);
        if (vmiLimit != null) {
            vmi.getSpec().getDomain().getResources().setLimits(new LinkedHashMap<>(Map.of("memory", new Quantity(vmiLimit))));
        }
        List<String> hard = List.of(quota.split(" "));
        Map<String, String> labels = ratio == null ? Map.of() : Map.of(LauncherPods.AUTO_MEMORY_RATIO_LABEL, ratio);
        LauncherPods.AutoLimits auto = LauncherPods.AutoLimits.of(vmi, r -> hard.contains("limits." + r), labels);
        Pod pod = LauncherPods.build(vmi, ClusterConfig.defaults(), auto);
        Container c = pod.getSpec().getContainers().get(0);
        assertEquals("151Mi", c.getResources().getRequests().get("memory").toString(), "64M guest + 89 MiB");
        Quantity m = c.getResources().getLimits().get("memory");
        Quantity p = c.getResources().getLimits().get("cpu");
        assertEquals(memory, m == null ? null : m.toString());
        assertEquals(cpu, p == null ? null : p.toString());
    }

    @Test
    void helperContainersCarryKubeVirtsMinimalLimits() throws Exception {
        Pod pod = pod(null); // the seed's VM: a containerDisk, so an init container and a disk container
        List<Container> helpers = new java.util.ArrayList<>(pod.getSpec().getInitContainers());
        helpers.addAll(pod.getSpec().getContainers().subList(1, pod.getSpec().getContainers().size()));
        assertFalse(helpers.isEmpty(), "a containerDisk brings an init and a disk container");
        for (Container h : helpers) {
            assertEquals("100m", h.getResources().getLimits().get("cpu").toString(), h.getName());
            assertEquals("40Mi", h.getResources().getLimits().get("memory").toString(), h.getName());
        }
    }

    /**
     * Kubernetes' QoS class of a pod spec: Guaranteed when every container (init ones too) has CPU and memory limits
     * and requests equal to them (an absent request defaults to the limit), BestEffort when none has any, else
     * Burstable.
     */
    static String qosClass(Pod pod) {
        List<Container> all = new java.util.ArrayList<>(pod.getSpec().getContainers());
        all.addAll(pod.getSpec().getInitContainers());
        boolean guaranteed = true;
        boolean any = false;
        for (Container c : all) {
            Map<String, Quantity> req = c.getResources() == null || c.getResources().getRequests() == null ? Map.of()
                    : c.getResources().getRequests();
            Map<String, Quantity> lim = c.getResources() == null || c.getResources().getLimits() == null ? Map.of()
                    : c.getResources().getLimits();
            for (String r : List.of("cpu", "memory")) {
                any |= req.containsKey(r) || lim.containsKey(r);
                Quantity l = lim.get(r);
                Quantity q = req.getOrDefault(r, l);
                if (l == null || Quantity.getAmountInBytes(q).compareTo(Quantity.getAmountInBytes(l)) != 0) {
                    guaranteed = false;
                }
            }
        }
        return guaranteed ? "Guaranteed" : any ? "Burstable" : "BestEffort";
    }

    /**
     * The pod's QoS class and the compute container's CPU as KubeVirt renders them: dedicated CPUs are whole CPUs
     * with request = limit (one more for an isolated emulator thread) and the helper containers' requests equal
     * their limits, so the pod is Guaranteed (the kubelet's static CPU manager pins only those); so is a VMI whose
     * requests equal its limits; anything else is Burstable. With dedicated CPUs the memory limit is the request,
     * whatever limit the VMI has (KubeVirt's WithCPUPinning aligns them). The seed VMI has a containerDisk, so its
     * pod has an init container and a disk container beside compute.
     */
    @ParameterizedTest(name = "dedicated {0}, isolate {1}, requests {2}, limits {3} -> {4}, cpu {5}/{6}")
    @CsvSource(delimiter = '|', value = {
        "false | false |                  |                  | Burstable  | 100m |",
        "false | false |                  | memory=256Mi     | Burstable  | 100m |",
        "true  | false |                  |                  | Guaranteed | 1    | 1",
        "true  | true  |                  |                  | Guaranteed | 2    | 2",
        "true  | false |                  | memory=256Mi     | Guaranteed | 1    | 1",
        "false | false | cpu=500m         | cpu=500m,memory=64M | Guaranteed | 500m | 500m",
        "false | false | cpu=500m         | cpu=1            | Burstable  | 500m | 1",
    })
    void qosClassAsKubeVirt(boolean dedicated, boolean isolate, String requests, String limits, String qos,
                            String cpuRequest, String cpuLimit) throws Exception {
        VirtualMachineInstance vmi = vmi("testvm", null);
        var res = vmi.getSpec().getDomain().getResources();
        Map<String, Quantity> req = new LinkedHashMap<>(res.getRequests());
        Map<String, Quantity> lim = new LinkedHashMap<>(res.getLimits() == null ? Map.of() : res.getLimits());
        for (String[] pair : new String[][] {{requests, "r"}, {limits, "l"}}) {
            if (pair[0] != null) {
                for (String kv : pair[0].split(",")) {
                    String[] p = kv.split("=");
                    ("r".equals(pair[1]) ? req : lim).put(p[0], new Quantity(p[1]));
                }
            }
        }
        res.setRequests(req);
        res.setLimits(lim);
        vmi.getSpec().getDomain().getCpu().setDedicatedCpuPlacement(dedicated ? true : null);
        vmi.getSpec().getDomain().getCpu().setIsolateEmulatorThread(isolate ? true : null);
        Pod pod = LauncherPods.build(vmi, ClusterConfig.defaults());
        assertEquals(3, pod.getSpec().getContainers().size() + pod.getSpec().getInitContainers().size(),
                "compute, the containerDisk's container and the init container");
        assertEquals(qos, qosClass(pod));
        Container c = pod.getSpec().getContainers().get(0);
        assertEquals(cpuRequest, c.getResources().getRequests().get("cpu").toString());
        Quantity l = c.getResources().getLimits().get("cpu");
        assertEquals(cpuLimit, l == null ? null : l.toString());
    }
}
