package io.qvirt.apiserver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.qvirt.api.KubevirtJson;
import io.qvirt.api.ManifestLoader;
import io.qvirt.api.VirtualMachine;
import io.qvirt.api.VirtualMachineInstance;
import io.qvirt.api.model.Condition;
import io.qvirt.api.model.StartFailure;
import io.qvirt.api.model.StateChangeRequest;
import io.qvirt.api.model.VirtualMachineInstanceStatus;
import io.qvirt.api.model.VirtualMachineStatus;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * start/stop/restart/migrate/expand-spec per run strategy and VMI state, through virt-api over HTTPS (as the
 * aggregator calls it) against fabric8's CRUD mock API server: the status code, KubeVirt's message, and what
 * changed on the VM (spec.running/runStrategy, status.stateChangeRequests) or did not.
 */
class SubresourcesTest {
    @TempDir
    static Path dir;
    static Rig rig;
    static final AtomicInteger seq = new AtomicInteger();

    @BeforeAll
    static void up() throws Exception {
        rig = new Rig(dir);
    }

    @AfterAll
    static void down() {
        if (rig != null) {
            rig.close();
        }
    }

    /** The seed VM under a new name, with {@code running} or {@code runStrategy} as given. */
    static String vm(Boolean running, String runStrategy) throws Exception {
        VirtualMachine vm = ManifestLoader.loadOne(Path.of(System.getProperty("qvirt.root", ".."), "testdata", "vm.yaml")).vm();
        String name = "vm-" + seq.incrementAndGet();
        vm.getMetadata().setName(name);
        vm.getMetadata().setNamespace("default");
        vm.getSpec().setRunning(running);
        vm.getSpec().setRunStrategy(runStrategy);
        rig.client.resources(VirtualMachine.class).resource(vm).create();
        return name;
    }

    static VirtualMachine get(String name) {
        return rig.client.resources(VirtualMachine.class).inNamespace("default").withName(name).get();
    }

    static void status(String name, VirtualMachineStatus st) {
        VirtualMachine vm = get(name);
        vm.setStatus(st);
        rig.client.resources(VirtualMachine.class).resource(vm).updateStatus();
    }

    /** A VMI for the VM, in {@code phase} on node-1. */
    static VirtualMachineInstance vmi(String name, String phase, Condition... conds) {
        VirtualMachineInstance v = new VirtualMachineInstance();
        v.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace("default").build());
        v.setSpec(KubevirtJson.deepCopy(get(name) == null ? new io.qvirt.api.model.VirtualMachineInstanceSpec()
                : get(name).getSpec().getTemplate().getSpec(), io.qvirt.api.model.VirtualMachineInstanceSpec.class));
        v.getSpec().setTerminationGracePeriodSeconds(30L);
        VirtualMachineInstanceStatus st = new VirtualMachineInstanceStatus();
        st.setPhase(phase);
        st.setNodeName("node-1");
        st.setConditions(List.of(conds));
        v.setStatus(st);
        return rig.client.resources(VirtualMachineInstance.class).resource(v).create();
    }

    /** A VMI without a VM (for the VMI subresources). */
    static VirtualMachineInstance vmiStandalone(Rig r, String name, String phase, Condition... conds) {
        VirtualMachineInstance v = new VirtualMachineInstance();
        v.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace("default").build());
        v.setSpec(new io.qvirt.api.model.VirtualMachineInstanceSpec());
        VirtualMachineInstanceStatus st = new VirtualMachineInstanceStatus();
        st.setPhase(phase);
        st.setNodeName("node-1");
        st.setConditions(List.of(conds));
        v.setStatus(st);
        return r.client.resources(VirtualMachineInstance.class).resource(v).create();
    }

    static String path(String name, String sub) {
        return "/apis/subresources.kubevirt.io/v1/namespaces/default/virtualmachines/" + name + "/" + sub;
    }

    static HttpResponse<String> put(String name, String sub, String body) throws Exception {
        return rig.put(path(name, sub), body);
    }

    static List<StateChangeRequest> requests(String name) {
        VirtualMachineStatus st = get(name).getStatus();
        return st == null || st.getStateChangeRequests() == null ? List.of() : st.getStateChangeRequests();
    }

    static String requestsText(String name) {
        StringBuilder b = new StringBuilder();
        for (StateChangeRequest r : requests(name)) {
            b.append(r.getAction()).append(r.getUid() != null ? "(uid)" : "").append(r.getData() != null ? r.getData() : "").append(' ');
        }
        return b.toString().trim();
    }

    static void assertRefused(HttpResponse<String> r, int code, String message) throws Exception {
        assertEquals(code, r.statusCode(), r.body());
        JsonNode s = KubevirtJson.json().readTree(r.body());
        assertEquals("Status", s.path("kind").asText());
        assertEquals(message, s.path("message").asText());
        assertEquals(code, s.path("code").asInt());
    }

    static String conflict(String name, String why) {
        return "Operation cannot be fulfilled on virtualmachine.kubevirt.io \"" + name + "\": " + why;
    }

    static Condition cond(String type, String status) {
        Condition c = new Condition();
        c.setType(type);
        c.setStatus(status);
        return c;
    }

    // ---- start ----

    @Test
    void startUnderHaltedSetsRunningOrRunStrategy() throws Exception {
        String a = vm(false, null);
        assertEquals(202, put(a, "start", null).statusCode());
        assertEquals(Boolean.TRUE, get(a).getSpec().getRunning());
        assertNull(get(a).getSpec().getRunStrategy());
        String b = vm(null, "Halted");
        assertEquals(202, put(b, "start", "{}").statusCode());
        assertEquals("Always", get(b).getSpec().getRunStrategy());
        assertNull(get(b).getSpec().getRunning());
        assertEquals("", requestsText(b), "no state change request under Halted without paused");
    }

    @Test
    void startPausedUnderHaltedSendsAStartRequestAndLeavesTheSpec() throws Exception {
        String a = vm(null, "Halted");
        assertEquals(202, put(a, "start", "{\"paused\":true}").statusCode());
        assertEquals("Halted", get(a).getSpec().getRunStrategy());
        assertEquals("Start{paused=true}", requestsText(a));
    }

    @Test
    void startRefusedUnderAlwaysAndOnceAndWhenRunning() throws Exception {
        String a = vm(null, "Always");
        assertRefused(put(a, "start", null), 409, conflict(a, "Always does not support manual start requests"));
        String o = vm(null, "Once");
        assertRefused(put(o, "start", null), 409, conflict(o, "Once does not support manual start requests"));
        String m = vm(null, "Manual");
        vmi(m, "Running");
        assertRefused(put(m, "start", null), 409, conflict(m, "VM is already running"));
        String s = vm(null, "Manual");
        vmi(s, "Scheduling");
        assertRefused(put(s, "start", null), 409, conflict(s, "VM is already running"));
        assertEquals("", requestsText(m) + requestsText(s), "nothing written");
    }

    @Test
    void startUnderManualAndRerunOnFailure() throws Exception {
        String m = vm(null, "Manual");
        assertEquals(202, put(m, "start", null).statusCode());
        assertEquals("Start", requestsText(m));
        String done = vm(null, "Manual");
        vmi(done, "Failed");
        assertEquals(202, put(done, "start", "{\"paused\": true}").statusCode());
        assertEquals("Stop(uid) Start{paused=true}", requestsText(done), "Manual restarts a final VMI");
        String unknown = vm(null, "Manual");
        vmi(unknown, "Unknown");
        assertEquals(202, put(unknown, "start", null).statusCode(), "an Unknown VMI does not count as running");
        String r = vm(null, "RerunOnFailure");
        vmi(r, "Succeeded");
        assertEquals(202, put(r, "start", null).statusCode());
        assertEquals("Stop(uid) Start", requestsText(r));
        String f = vm(null, "RerunOnFailure");
        vmi(f, "Failed");
        assertRefused(put(f, "start", null), 409, conflict(f, "RerunOnFailure does not support starting VM from failed state"));
        assertEquals("", requestsText(f));
    }

    @Test
    void aPendingRequestRefusesAStartAndAStartFailureIsCleared() throws Exception {
        String m = vm(null, "Manual");
        VirtualMachineStatus st = new VirtualMachineStatus();
        st.setStateChangeRequests(List.of(VmSubresources.request("Start", null, null)));
        status(m, st);
        assertRefused(put(m, "start", null), 500, "Internal error occurred: unable to complete request: stop/start already underway");
        String f = vm(null, "Manual");
        VirtualMachineStatus st2 = new VirtualMachineStatus();
        st2.setPrintableStatus("CrashLoopBackOff");
        StartFailure sf = new StartFailure();
        sf.setConsecutiveFailCount(3);
        st2.setStartFailure(sf);
        status(f, st2);
        assertEquals(202, put(f, "start", null).statusCode());
        assertEquals("Start", requestsText(f));
        assertNull(get(f).getStatus().getStartFailure(), "startFailure removed with the request");
    }

    @Test
    void dryRunChangesNothingAndBadBodiesAre400() throws Exception {
        String a = vm(false, null);
        assertEquals(202, put(a, "start", "{\"dryRun\":[\"All\"]}").statusCode());
        assertEquals(Boolean.FALSE, get(a).getSpec().getRunning());
        String b = vm(null, "Always");
        assertEquals(202, put(b, "stop", "{\"dryRun\":[\"All\"]}").statusCode());
        assertEquals("Always", get(b).getSpec().getRunStrategy());
        HttpResponse<String> bad = put(a, "start", "{\"paused\":\"yes\"");
        assertEquals(400, bad.statusCode(), bad.body());
        assertTrue(bad.body().contains("Can not unmarshal Request body to struct, error: "), bad.body());
        assertEquals(400, put(a, "start", "{\"paused\":\"yes\"}").statusCode());
        assertEquals(400, put(a, "start", "[1]").statusCode());
        assertRefused(put("missing", "start", null), 404, "virtualmachine.kubevirt.io \"missing\" not found");
        assertRefused(put("missing", "stop", null), 404, "virtualmachine.kubevirt.io \"missing\" not found");
        String both = vm(true, "Always");
        assertRefused(put(both, "start", null), 500, "Internal error occurred: running and runstrategy are mutually exclusive");
    }

    // ---- stop ----

    @Test
    void stopUnderAlwaysRerunOnFailureAndOnceHalts() throws Exception {
        String a = vm(true, null);
        assertEquals(202, put(a, "stop", null).statusCode());
        assertEquals(Boolean.FALSE, get(a).getSpec().getRunning());
        for (String rs : List.of("Always", "RerunOnFailure", "Once")) {
            String n = vm(null, rs);
            assertEquals(202, put(n, "stop", null).statusCode(), rs);
            assertEquals("Halted", get(n).getSpec().getRunStrategy(), rs);
        }
    }

    @Test
    void stopUnderManualSendsAStopRequestForTheRunningVmi() throws Exception {
        String m = vm(null, "Manual");
        assertRefused(put(m, "stop", null), 409, conflict(m, "VM is not running"));
        VirtualMachineInstance v = vmi(m, "Running");
        assertEquals(202, put(m, "stop", null).statusCode());
        assertEquals(List.of("Stop"), requests(m).stream().map(StateChangeRequest::getAction).toList());
        assertEquals(v.getMetadata().getUid(), requests(m).get(0).getUid());
        assertEquals("Manual", get(m).getSpec().getRunStrategy());
        String f = vm(null, "Manual");
        vmi(f, "Succeeded");
        assertRefused(put(f, "stop", null), 409, conflict(f, "VM is not running"));
    }

    @Test
    void aStopReplacesPendingRequests() throws Exception {
        String m = vm(null, "Manual");
        vmi(m, "Running");
        VirtualMachineStatus st = new VirtualMachineStatus();
        st.setStateChangeRequests(List.of(VmSubresources.request("Start", null, null)));
        status(m, st);
        assertEquals(202, put(m, "stop", null).statusCode());
        assertEquals("Stop(uid)", requestsText(m));
    }

    @Test
    void stopUnderHaltedOnlyWithAShorterGracePeriod() throws Exception {
        String h = vm(null, "Halted");
        assertRefused(put(h, "stop", null), 409, conflict(h, "VM is not running"));
        vmi(h, "Running");
        assertRefused(put(h, "stop", null), 409, conflict(h, "Halted only supports manual stop requests with a shorter graceperiod"));
        assertRefused(put(h, "stop", "{\"gracePeriod\": 30}"), 409,
                conflict(h, "Halted only supports manual stop requests with a shorter graceperiod"));
        assertEquals(202, put(h, "stop", "{\"gracePeriod\": 0}").statusCode());
        assertEquals("Stop(uid)", requestsText(h));
        assertEquals(0L, rig.client.resources(VirtualMachineInstance.class).inNamespace("default").withName(h).get()
                .getSpec().getTerminationGracePeriodSeconds(), "force: the VMI's grace period is 0");
    }

    // ---- restart ----

    @Test
    void restartSendsStopAndStartExceptUnderHaltedAndOnce() throws Exception {
        for (String rs : List.of("Always", "Manual", "RerunOnFailure")) {
            String n = vm(null, rs);
            assertRefused(put(n, "restart", null), 409, conflict(n, "VM is not running: Halted"));
            vmi(n, "Running");
            assertEquals(202, put(n, "restart", null).statusCode(), rs);
            assertEquals("Stop(uid) Start", requestsText(n), rs);
        }
        for (String rs : List.of("Halted", "Once")) {
            String n = vm(null, rs);
            vmi(n, "Running");
            assertRefused(put(n, "restart", null), 409, conflict(n, "RunStategy " + rs + " does not support manual restart requests"));
        }
        String a = vm(true, null);
        assertRefused(put(a, "restart", "{\"gracePeriodSeconds\": 5}"), 400, "For force restart, only gracePeriod=0 is supported for now");
        assertRefused(put(a, "restart", "{\"gracePeriodSeconds\": -1}"), 400, "gracePeriod has to be greater or equal to 0");
    }

    @Test
    void forceRestartDeletesTheRunningLauncherPod() throws Exception {
        String n = vm(null, "Always");
        VirtualMachineInstance v = vmi(n, "Running");
        var pod = new PodBuilder().withNewMetadata().withName("virt-launcher-" + n).withNamespace("default")
                .addToLabels("kubevirt.io", "virt-launcher").addToLabels("kubevirt.io/created-by", v.getMetadata().getUid())
                .endMetadata().withNewSpec().addNewContainer().withName("compute").withImage("x").endContainer().endSpec()
                .withNewStatus().withPhase("Running").endStatus().build();
        rig.client.pods().resource(pod).create();
        var p = rig.client.pods().inNamespace("default").withName("virt-launcher-" + n).get();
        if (p.getStatus() == null || !"Running".equals(p.getStatus().getPhase())) {
            p.setStatus(pod.getStatus());
            rig.client.pods().resource(p).updateStatus();
        }
        assertEquals(202, put(n, "restart", "{\"gracePeriodSeconds\": 0}").statusCode());
        assertEquals("Stop(uid) Start", requestsText(n));
        assertNull(rig.client.pods().inNamespace("default").withName("virt-launcher-" + n).get(), "the launcher pod is deleted");
    }

    // ---- migrate, expand-spec ----

    @Test
    void migrateCreatesAMigrationForARunningVmi() throws Exception {
        String n = vm(null, "Always");
        assertRefused(put(n, "migrate", null), 404, "virtualmachineinstance.kubevirt.io \"" + n + "\" not found");
        vmi(n, "Scheduled");
        assertRefused(put(n, "migrate", null), 409, conflict(n, "VM is not running"));
        String r = vm(null, "Always");
        vmi(r, "Running");
        assertEquals(202, put(r, "migrate", "{\"dryRun\":[\"All\"]}").statusCode());
        assertEquals(0, migrations(r).size(), "dry run: nothing created");
        assertEquals(202, put(r, "migrate", "{}").statusCode());
        List<GenericKubernetesResource> ms = migrations(r);
        assertEquals(1, ms.size());
        assertTrue(ms.get(0).getMetadata().getName().startsWith("kubevirt-migrate-vm-"), ms.get(0).getMetadata().getName());
        String p = vm(null, "Always");
        vmi(p, "Running");
        VirtualMachineStatus st = new VirtualMachineStatus();
        st.setConditions(List.of(cond("Paused", "True")));
        status(p, st);
        assertRefused(put(p, "migrate", null), 409, conflict(p, "VM is paused"));
    }

    static List<GenericKubernetesResource> migrations(String vmi) {
        return rig.client.genericKubernetesResources(VmSubresources.MIGRATIONS).inNamespace("default").list().getItems().stream()
                .filter(m -> vmi.equals(((Map<?, ?>) m.getAdditionalProperties().get("spec")).get("vmiName"))).toList();
    }

    @Test
    void expandSpecAppliesTheTemplateDefaults() throws Exception {
        String n = vm(null, "Always");
        HttpResponse<String> r = rig.send(rig.aggregator(), "GET", path(n, "expand-spec"), null, "alice");
        assertEquals(200, r.statusCode(), r.body());
        JsonNode vm = KubevirtJson.json().readTree(r.body());
        assertEquals("q35", vm.path("spec").path("template").path("spec").path("domain").path("machine").path("type").asText());
        assertEquals("amd64", vm.path("spec").path("template").path("spec").path("architecture").asText());
        assertNull(get(n).getSpec().getTemplate().getSpec().getArchitecture(), "the stored VM is not changed");
        HttpResponse<String> body = rig.send(rig.aggregator(), "PUT", "/apis/subresources.kubevirt.io/v1/namespaces/default/expand-vm-spec",
                KubevirtJson.toJson(get(n)), "alice");
        assertEquals(200, body.statusCode(), body.body());
        assertEquals("q35", KubevirtJson.json().readTree(body.body()).path("spec").path("template").path("spec").path("domain")
                .path("machine").path("type").asText());
    }

    @Test
    void v1alpha3ServesTheSame() throws Exception {
        String a = vm(false, null);
        HttpResponse<String> r = rig.put("/apis/subresources.kubevirt.io/v1alpha3/namespaces/default/virtualmachines/" + a + "/start", null);
        assertEquals(202, r.statusCode(), r.body());
        assertNotNull(get(a).getSpec().getRunning());
        assertEquals(Boolean.TRUE, get(a).getSpec().getRunning());
    }

    @Test
    void aStatusPatchFromAnOlderReadIsRefusedAndStartDecidesAgainFromAFreshRead() throws Exception {
        String m = vm(null, "Manual");
        VirtualMachineStatus st = new VirtualMachineStatus();
        st.setPrintableStatus("Stopped");
        status(m, st);
        // The guard: a patch computed from an older read meets a 409, where KubeVirt's JSON Patch test would.
        VirtualMachine older = get(m);
        String patch = VmSubresources.changeRequests(older, VmSubresources.request("Start", null, null));
        VirtualMachineStatus newer = get(m).getStatus();
        newer.setPrintableStatus("Stopped-again");
        status(m, newer);
        io.fabric8.kubernetes.client.KubernetesClientException e = org.junit.jupiter.api.Assertions.assertThrows(
                io.fabric8.kubernetes.client.KubernetesClientException.class,
                () -> rig.client.resources(VirtualMachine.class).inNamespace("default").withName(m).subresource("status")
                        .patch(io.fabric8.kubernetes.client.dsl.base.PatchContext.of(io.fabric8.kubernetes.client.dsl.base.PatchType.JSON), patch));
        assertEquals(409, e.getCode(), e.getMessage());
        assertEquals(List.of(), requests(m), "nothing written by the refused patch");

        // The race itself, made to happen: the VM's status changes between start's read and its patch.
        AtomicInteger window = new AtomicInteger();
        java.util.function.Consumer<VirtualMachine> writeStatus = seen -> {
            VirtualMachineStatus changed = get(m).getStatus();
            changed.setPrintableStatus("Stopped-" + window.incrementAndGet());
            status(m, changed);
        };
        rig.vms.beforeStatusPatch = seen -> {
            if (window.get() == 0) {
                writeStatus.accept(seen); // once: the first attempt loses, the second wins
            }
        };
        try {
            HttpResponse<String> first = put(m, "start", "{}");
            assertEquals(202, first.statusCode(), first.body());
            assertEquals(1, window.get(), "the first attempt met a newer VM");
            assertEquals("Start", requestsText(m), "one Start, decided again from the fresh read");
            assertEquals("Stopped-1", get(m).getStatus().getPrintableStatus(), "the other writer's change kept");
            HttpResponse<String> second = put(m, "start", "{}");
            assertEquals(500, second.statusCode(), second.body());
            assertTrue(second.body().contains("stop/start already underway"), second.body());

            // A VM that changes before every attempt: KubeVirt's conflict after the last one, nothing written.
            String other = vm(null, "Manual");
            status(other, st);
            window.set(0);
            rig.vms.beforeStatusPatch = seen -> {
                VirtualMachineStatus changed = get(other).getStatus();
                changed.setPrintableStatus("Stopped-" + window.incrementAndGet());
                status(other, changed);
            };
            HttpResponse<String> lost = put(other, "start", "{}");
            assertEquals(409, lost.statusCode(), lost.body());
            assertTrue(lost.body().contains("the object has been modified"), lost.body());
            assertEquals(VmSubresources.ATTEMPTS, window.get(), "every attempt read afresh");
            assertEquals(List.of(), requests(other), "nothing written");
        } finally {
            rig.vms.beforeStatusPatch = seen -> { };
        }
    }
}
