package io.qvirt.virtctl;

import static io.qvirt.virtctl.MockApiServer.virtctl;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.mockwebserver.http.MockResponse;
import io.qvirt.virtctl.MockApiServer.Request;
import io.qvirt.virtctl.MockApiServer.Run;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The exact request each virt-api verb sends (method, path, body), read from the mock API server's request log. The
 * mock stands in for the API server; virt-api's answers are scripted.
 */
class SubresourceVerbsTest {
    static final String SUB = "/apis/subresources.kubevirt.io/v1/namespaces/";

    @TempDir
    Path tmp;
    MockApiServer api;
    Map<String, String> env;

    @BeforeEach
    void up() throws Exception {
        api = new MockApiServer();
        env = Map.of("HOME", tmp.toString(), "KUBECONFIG", api.kubeconfig(tmp).toString());
    }

    @AfterEach
    void down() {
        api.close();
    }

    private Run ok(String... args) {
        Run r = virtctl(env, args);
        assertEquals(0, r.code(), () -> String.join(" ", args) + ": " + r.err());
        return r;
    }

    private void onlyRequest(String method, String path, String body) {
        assertEquals(List.of(new Request(method, path, body)), api.requests());
    }

    @Test
    void startSendsStartOptions() {
        Run r = ok("start", "testvm");
        assertEquals("VM testvm was scheduled to start\n", r.out());
        onlyRequest("PUT", SUB + "ns1/virtualmachines/testvm/start", "{}");

        r = ok("start", "testvm", "--paused", "--dry-run");
        assertEquals("Dry Run execution\nVM testvm was scheduled to start\n", r.out());
        onlyRequest("PUT", SUB + "ns1/virtualmachines/testvm/start", "{\"dryRun\":[\"All\"],\"paused\":true}");

        ok("start", "--paused=false", "-n", "other", "testvm");
        onlyRequest("PUT", SUB + "other/virtualmachines/testvm/start", "{}");
    }

    @Test
    void stopAndRestartSendGracePeriodOnlyWithForce() {
        assertEquals("VM testvm was scheduled to stop\n", ok("stop", "testvm").out());
        onlyRequest("PUT", SUB + "ns1/virtualmachines/testvm/stop", "{}");
        ok("stop", "testvm", "--force", "--grace-period=0");
        onlyRequest("PUT", SUB + "ns1/virtualmachines/testvm/stop", "{\"gracePeriod\":0}");
        ok("stop", "testvm", "--dry-run");
        onlyRequest("PUT", SUB + "ns1/virtualmachines/testvm/stop", "{\"dryRun\":[\"All\"]}");

        assertEquals("VM testvm was scheduled to restart\n", ok("restart", "testvm").out());
        onlyRequest("PUT", SUB + "ns1/virtualmachines/testvm/restart", "{}");
        ok("restart", "testvm", "--force", "--grace-period", "0");
        onlyRequest("PUT", SUB + "ns1/virtualmachines/testvm/restart", "{\"gracePeriodSeconds\":0}");

        for (String verb : List.of("stop", "restart")) {
            Run r = virtctl(env, verb, "testvm", "--grace-period=0");
            assertEquals(2, r.code());
            assertEquals("error: Must both use --force=true and set --grace-period.\n", r.err());
            r = virtctl(env, verb, "testvm", "--force");
            assertEquals(2, r.code());
        }
        assertEquals(List.of(), api.requests(), "a refused flag combination sends nothing");
    }

    @Test
    void pauseAndUnpauseVmReadTheVmThenPutOnItsVmi() {
        api.createSeedVm("ns1");
        assertEquals("VMI testvm was scheduled to pause\n", ok("pause", "vm", "testvm").out());
        onlyPair("GET", "/apis/kubevirt.io/v1/namespaces/ns1/virtualmachines/testvm",
                "PUT", SUB + "ns1/virtualmachineinstances/testvm/pause", "{}");
        assertEquals("VMI testvm was scheduled to unpause\n", ok("unpause", "VirtualMachine", "testvm").out());
        onlyPair("GET", "/apis/kubevirt.io/v1/namespaces/ns1/virtualmachines/testvm",
                "PUT", SUB + "ns1/virtualmachineinstances/testvm/unpause", "{}");

        ok("pause", "vmi", "testvm", "--dry-run");
        onlyRequest("PUT", SUB + "ns1/virtualmachineinstances/testvm/pause", "{\"dryRun\":[\"All\"]}");
        ok("unpause", "vmis", "testvm");
        onlyRequest("PUT", SUB + "ns1/virtualmachineinstances/testvm/unpause", "{}");
    }

    private void onlyPair(String m1, String p1, String m2, String p2, String body2) {
        List<Request> got = api.requests();
        assertEquals(2, got.size(), got::toString);
        assertEquals(m1, got.get(0).method());
        assertEquals(p1, got.get(0).path());
        assertEquals(new Request(m2, p2, body2), got.get(1));
    }

    @Test
    void pauseOfAHaltedVmSaysItIsNotSetToRun() {
        api.createSeedVm("ns1");
        api.virtApi = r -> MockApiServer.status(404, "NotFound", "virtualmachineinstance.kubevirt.io \"testvm\" not found");
        Run r = virtctl(env, "pause", "vm", "testvm");
        assertEquals(1, r.code());
        assertEquals("error: Error pausing VirtualMachineInstance testvm. VirtualMachine testvm is not set to run\n", r.err());
        r = virtctl(env, "pause", "vmi", "testvm");
        assertEquals("error: Error pausing VirtualMachineInstance testvm: virtualmachineinstance.kubevirt.io \"testvm\" not found\n", r.err());
    }

    @Test
    void resetSendsNoBodyAndMigrateItsOptions() {
        assertEquals("VMI testvm was scheduled to reset\n", ok("reset", "testvm").out());
        onlyRequest("PUT", SUB + "ns1/virtualmachineinstances/testvm/reset", "");
        assertEquals("VM testvm was scheduled to migrate\n", ok("migrate", "testvm").out());
        onlyRequest("PUT", SUB + "ns1/virtualmachines/testvm/migrate", "{}");
        ok("migrate", "testvm", "--addedNodeSelector", "zone=a,rack=2", "--dry-run");
        onlyRequest("PUT", SUB + "ns1/virtualmachines/testvm/migrate",
                "{\"dryRun\":[\"All\"],\"addedNodeSelector\":{\"zone\":\"a\",\"rack\":\"2\"}}");
    }

    @Test
    void migrateCancelDeletesTheMigrationInFlightOnly() {
        String mig = "/apis/kubevirt.io/v1/namespaces/ns1/virtualmachineinstancemigrations";
        Run none = virtctl(env, "migrate-cancel", "testvm");
        assertEquals(1, none.code());
        assertEquals("error: Found no migration to cancel for testvm\n", none.err());
        api.requests();
        for (String[] m : new String[][] {{"done", "Succeeded", "testvm"}, {"other", "Running", "othervm"},
                {"live", "Running", "testvm"}}) {
            io.qvirt.api.VirtualMachineInstanceMigration x = new io.qvirt.api.VirtualMachineInstanceMigration();
            x.getMetadata().setName(m[0]);
            x.getMetadata().setNamespace("ns1");
            x.getMetadata().setLabels(Map.of("kubevirt.io/vmi-name", m[2]));
            x.setSpec(new io.qvirt.api.model.VirtualMachineInstanceMigrationSpec());
            x.getSpec().setVmiName(m[2]);
            x.setStatus(new io.qvirt.api.model.VirtualMachineInstanceMigrationStatus());
            x.getStatus().setPhase(m[1]);
            var ops = api.client.resources(io.qvirt.api.VirtualMachineInstanceMigration.class).inNamespace("ns1");
            ops.resource(x).create();
            ops.withName(m[0]).editStatus(y -> {
                y.setStatus(x.getStatus());
                return y;
            });
        }
        api.requests();
        assertEquals("VM testvm was scheduled to migrate-cancel\n", ok("migrate-cancel", "testvm").out());
        List<Request> got = api.requests();
        assertEquals(2, got.size(), got::toString);
        assertEquals(new Request("GET", mig + "?labelSelector=kubevirt.io%2Fvmi-name%3Dtestvm", ""), got.get(0));
        assertEquals("DELETE", got.get(1).method());
        assertEquals(mig + "/live", got.get(1).path());
        var left = api.client.resources(io.qvirt.api.VirtualMachineInstanceMigration.class).inNamespace("ns1").list().getItems()
                .stream().map(x -> x.getMetadata().getName()).sorted().toList();
        assertEquals(List.of("done", "other"), left, "only the one in flight for testvm is deleted");
    }

    @Test
    void namespaceFromFlagThenContextThenDefault() {
        ok("--context", "plain", "start", "a");
        onlyRequest("PUT", SUB + "default/virtualmachines/a/start", "{}");
        ok("start", "a", "--namespace", "team");
        onlyRequest("PUT", SUB + "team/virtualmachines/a/start", "{}");
        ok("-n", "team2", "start", "a");
        onlyRequest("PUT", SUB + "team2/virtualmachines/a/start", "{}");
    }

    @Test
    void virtApiRefusalsArePassedThroughInOneLine() {
        api.virtApi = r -> MockApiServer.status(404, "NotFound", "virtualmachine.kubevirt.io \"x\" not found");
        Run r = virtctl(env, "start", "x");
        assertEquals(1, r.code());
        assertEquals("error: Error starting VirtualMachine virtualmachine.kubevirt.io \"x\" not found\n", r.err());
        assertEquals("", r.out());

        api.virtApi = r2 -> MockApiServer.status(409, "Conflict",
                "Operation cannot be fulfilled on virtualmachine.kubevirt.io \"testvm\": VM is already running");
        r = virtctl(env, "start", "testvm");
        assertEquals(1, r.code());
        assertEquals("error: Error starting VirtualMachine Operation cannot be fulfilled on virtualmachine.kubevirt.io "
                + "\"testvm\": VM is already running\n", r.err());
        r = virtctl(env, "stop", "testvm");
        assertTrue(r.err().startsWith("error: error stopping VirtualMachine Operation cannot be fulfilled"), r.err());

        api.virtApi = r2 -> MockApiServer.status(403, "Forbidden", "virtualmachines.subresources.kubevirt.io \"testvm\" is "
                + "forbidden: User \"alice\" cannot update resource \"virtualmachines/start\" in API group "
                + "\"subresources.kubevirt.io\" in the namespace \"ns1\"");
        r = virtctl(env, "start", "testvm");
        assertEquals(1, r.code());
        assertEquals("error: Error starting VirtualMachine virtualmachines.subresources.kubevirt.io \"testvm\" is forbidden: "
                + "User \"alice\" cannot update resource \"virtualmachines/start\" in API group \"subresources.kubevirt.io\" "
                + "in the namespace \"ns1\"\n", r.err());

        // A 404 without a Status body (an API server that does not serve the group): client-go's words.
        api.virtApi = r2 -> new MockResponse().setResponseCode(404);
        r = virtctl(env, "reset", "vmi1");
        assertEquals("error: Error resetting VirtualMachineInstance vmi1: virtualmachineinstance.kubevirt.io \"vmi1\" not found\n", r.err());
        r = virtctl(env, "--debug", "reset", "vmi1");
        assertTrue(r.err().contains("\tat io.qvirt.virtctl."), "--debug prints the trace: " + r.err());
    }

    @Test
    void versionAsksVirtApiUnlessClientOnly() {
        Run r = ok("version", "--client");
        assertTrue(r.out().startsWith("Client Version: version.Info{GitVersion:\"v"), r.out());
        assertEquals(1, r.out().lines().count());
        assertEquals(List.of(), api.requests());

        api.virtApi = req -> new MockResponse().setResponseCode(200).addHeader("Content-Type", "application/json")
                .setBody("{\"gitVersion\":\"v0.1.0\",\"gitCommit\":\"abc\",\"gitTreeState\":\"clean\",\"buildDate\":\"2026-12-01\","
                        + "\"goVersion\":\"java17\",\"compiler\":\"javac\",\"platform\":\"linux/amd64\"}");
        r = ok("version");
        assertTrue(r.out().contains("\nServer Version: version.Info{GitVersion:\"v0.1.0\", GitCommit:\"abc\", "
                + "GitTreeState:\"clean\", BuildDate:\"2026-12-01\", GoVersion:\"java17\", Compiler:\"javac\", "
                + "Platform:\"linux/amd64\"}\n"), r.out());
        onlyRequest("GET", "/apis/subresources.kubevirt.io/v1/version", "");
    }
}
