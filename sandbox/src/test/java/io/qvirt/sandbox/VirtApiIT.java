package io.qvirt.sandbox;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.qvirt.api.KubevirtJson;
import io.qvirt.api.ManifestLoader;
import io.qvirt.api.VirtualMachine;
import io.qvirt.api.VirtualMachineInstance;
import io.qvirt.api.model.Port;
import io.qvirt.testdata.ConsoleWatcher;
import io.qvirt.testdata.GuestMarkers;
import java.io.IOException;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * virt-api on the rig (fabric8's CRUD mock, NOT a kube-apiserver; the front door plays the aggregator and the
 * admission layer, FAKE authentication and SubjectAccessReviews): the real virt-api process between clients and the
 * real controller and handler, with real QEMU. Subresources through the front door's
 * {@code /apis/subresources.kubevirt.io/v1/...} with the JDK client, as virtctl would call them.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class VirtApiIT {
    private static final Duration BOOT = Duration.ofSeconds(120);
    private static final Duration SHORT = Duration.ofSeconds(30);
    private static final String SUB = "/apis/subresources.kubevirt.io/v1/namespaces/";

    @TempDir
    static Path tmp;
    static Path dir;
    static KubernetesClient client;
    static String front;
    static final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @BeforeAll
    static void up() throws Exception {
        SandboxIT.registry();
        dir = tmp.resolve("api");
        SandboxIT.Result up = SandboxIT.run(Duration.ofSeconds(240), SandboxIT.BIN.toString(), "up", "--dir", dir.toString(),
                "--nodes", "1");
        assertEquals(0, up.code(), up.out());
        client = SandboxIT.client(dir);
        front = "127.0.0.1:" + client.getConfiguration().getMasterUrl().replaceAll(".*:(\\d+).*", "$1");
    }

    @AfterAll
    static void down() throws Exception {
        if (client != null) {
            client.close();
        }
        if (dir != null) {
            SandboxIT.Result down = SandboxIT.run(Duration.ofSeconds(120), SandboxIT.BIN.toString(), "down", "--dir", dir.toString());
            assertEquals(0, down.code(), down.out());
        }
    }

    static HttpResponse<String> put(String token, String ns, String path, String body) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create("http://" + front + SUB + ns + "/" + path))
                .header("Authorization", "Bearer " + token).timeout(Duration.ofSeconds(30))
                .PUT(body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    static HttpResponse<String> admin(String path, String body) throws IOException, InterruptedException {
        return put(FakePolicy.ADMIN_TOKEN, "default", path, body);
    }

    static VirtualMachineInstance vmi() {
        return client.resources(VirtualMachineInstance.class).inNamespace("default").withName("testvm").get();
    }

    static VirtualMachine vm() {
        return client.resources(VirtualMachine.class).inNamespace("default").withName("testvm").get();
    }

    static boolean ready(VirtualMachineInstance v) {
        return v != null && v.getStatus() != null && "Running".equals(v.getStatus().getPhase()) && v.getStatus().getConditions() != null
                && v.getStatus().getConditions().stream().anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
    }

    static boolean paused(VirtualMachineInstance v) {
        return v != null && v.getStatus() != null && v.getStatus().getConditions() != null
                && v.getStatus().getConditions().stream().anyMatch(c -> "Paused".equals(c.getType()) && "True".equals(c.getStatus()));
    }

    static VirtualMachine seed(String name) throws Exception {
        VirtualMachine vm = ManifestLoader.loadOne(io.qvirt.testdata.TestGuest.testVmYaml()).vm();
        vm.getMetadata().setName(name);
        vm.getMetadata().setNamespace("default");
        vm.getSpec().setRunning(null);
        vm.getSpec().setRunStrategy("Halted");
        Port p = new Port();
        p.setName("http");
        p.setPort(80);
        vm.getSpec().getTemplate().getSpec().getDomain().getDevices().getInterfaces().get(0).setPorts(List.of(p));
        return vm;
    }

    @Test
    @Order(1)
    void anInvalidVmIsRefusedByTheWebhookWithItsFieldPath() throws Exception {
        VirtualMachine bad = seed("badvm");
        bad.getSpec().getTemplate().getSpec().getDomain().getDevices().getDisks().get(0).setName("Bad_Name");
        KubernetesClientException e = assertThrows(KubernetesClientException.class,
                () -> client.resources(VirtualMachine.class).resource(bad).create());
        assertEquals(422, e.getCode(), e.getMessage());
        assertTrue(e.getMessage().contains("admission webhook \"virtualmachine-validator.kubevirt.io\" denied the request: "
                + "spec.template.spec.domain.devices.disks[0].name"), e.getMessage());
        assertEquals(null, client.resources(VirtualMachine.class).inNamespace("default").withName("badvm").get(), "nothing stored");
    }

    @Test
    @Order(1)
    void aPatchIsAdmittedAsTheUpdateItMakes() throws Exception {
        VirtualMachine created = client.resources(VirtualMachine.class).resource(seed("patchvm")).create();
        var vmRes = client.resources(VirtualMachine.class).inNamespace("default").withName("patchvm");

        KubernetesClientException json = assertThrows(KubernetesClientException.class, () -> vmRes.patch(
                io.fabric8.kubernetes.client.dsl.base.PatchContext.of(io.fabric8.kubernetes.client.dsl.base.PatchType.JSON),
                "[{\"op\":\"replace\",\"path\":\"/spec/template/spec/domain/devices/disks/0/name\",\"value\":\"Bad_Name\"}]"));
        assertEquals(422, json.getCode(), json.getMessage());
        assertTrue(json.getMessage().contains("admission webhook \"virtualmachine-validator.kubevirt.io\" denied the request: "
                + "spec.template.spec.domain.devices.disks[0].name"), json.getMessage());
        KubernetesClientException merge = assertThrows(KubernetesClientException.class, () -> vmRes.patch(
                io.fabric8.kubernetes.client.dsl.base.PatchContext.of(io.fabric8.kubernetes.client.dsl.base.PatchType.JSON_MERGE),
                "{\"spec\":{\"runStrategy\":\"Sometimes\"}}"));
        assertEquals(422, merge.getCode(), merge.getMessage());
        assertTrue(merge.getMessage().contains("spec.runStrategy"), merge.getMessage());
        // (The controller writes the VM's status meanwhile, so the resourceVersion is no witness: the spec is.)
        VirtualMachine kept = vmRes.get();
        assertEquals("Halted", kept.getSpec().getRunStrategy(), "nothing stored by the denied patches");
        assertEquals(created.getSpec().getTemplate().getSpec().getDomain().getDevices().getDisks().get(0).getName(),
                kept.getSpec().getTemplate().getSpec().getDomain().getDevices().getDisks().get(0).getName());

        // An admitted patch is stored as the webhooks left it: the VM mutator puts back the machine type it removed.
        vmRes.patch(io.fabric8.kubernetes.client.dsl.base.PatchContext.of(io.fabric8.kubernetes.client.dsl.base.PatchType.JSON),
                "[{\"op\":\"remove\",\"path\":\"/spec/template/spec/domain/machine\"},"
                        + "{\"op\":\"add\",\"path\":\"/metadata/labels\",\"value\":{\"patched\":\"yes\"}}]");
        VirtualMachine after = vmRes.get();
        assertEquals("yes", after.getMetadata().getLabels().get("patched"));
        assertEquals("q35", after.getSpec().getTemplate().getSpec().getDomain().getMachine().getType(),
                "the mutating webhook ran on the patch's result");
        vmRes.delete();
    }

    @Test
    @Order(2)
    void startPauseConsoleRestartAndStopThroughVirtApi() throws Exception {
        VirtualMachine created = client.resources(VirtualMachine.class).resource(seed("testvm")).create();
        assertEquals("q35", created.getSpec().getTemplate().getSpec().getDomain().getMachine().getType(),
                "the mutating webhook defaulted the template's machine type");
        SandboxIT.await(SHORT, "the controller saw the VM", () -> vm().getStatus() != null);

        HttpResponse<String> start = admin("virtualmachines/testvm/start", "{}");
        assertEquals(202, start.statusCode(), start.body());
        assertEquals("Always", vm().getSpec().getRunStrategy());
        VirtualMachineInstance v = SandboxIT.awaitValue(BOOT, "VMI Running and Ready", () -> ready(vmi()) ? vmi() : null);
        HttpResponse<String> again = admin("virtualmachines/testvm/start", null);
        assertEquals(409, again.statusCode(), again.body());
        assertTrue(again.body().contains("VM is already running"), again.body());

        assertEquals(200, admin("virtualmachineinstances/testvm/pause", null).statusCode());
        SandboxIT.await(SHORT, "Paused condition (QEMU paused by the handler)", () -> paused(vmi()));
        HttpResponse<String> twice = admin("virtualmachineinstances/testvm/pause", null);
        assertEquals(409, twice.statusCode(), twice.body());
        assertEquals(200, admin("virtualmachineinstances/testvm/unpause", null).statusCode());
        SandboxIT.await(SHORT, "Paused condition gone", () -> !paused(vmi()));

        // The console through the front door, virt-api and the handler.
        Path log = dir.resolve("nodes").resolve(v.getStatus().getNodeName()).resolve("run/default/testvm/console.log");
        SandboxIT.await(BOOT, "the guest's shell prompt", () -> {
            try {
                return Files.readString(log).contains(GuestMarkers.PROMPT);
            } catch (IOException e) {
                return false;
            }
        });
        PipedInputStream in = new PipedInputStream(1 << 20);
        PipedOutputStream sink = new PipedOutputStream(in);
        WebSocket ws = http.newWebSocketBuilder().header("Authorization", "Bearer " + FakePolicy.ADMIN_TOKEN)
                .buildAsync(URI.create("ws://" + front + SUB + "default/virtualmachineinstances/testvm/console"), new WebSocket.Listener() {
                    @Override
                    public CompletionStage<?> onBinary(WebSocket w, ByteBuffer data, boolean last) {
                        byte[] b = new byte[data.remaining()];
                        data.get(b);
                        try {
                            sink.write(b);
                            sink.flush();
                        } catch (IOException e) {
                            // the test reads what arrived
                        }
                        w.request(1);
                        return null;
                    }
                }).get(30, TimeUnit.SECONDS);
        try (ConsoleWatcher out = new ConsoleWatcher(in, "testvm")) {
            ws.sendBinary(ByteBuffer.wrap("echo qvirt-$((6*7))\n".getBytes(StandardCharsets.UTF_8)), true).get(5, TimeUnit.SECONDS);
            out.await(Pattern.compile("qvirt-42\\r?\\n"), SHORT);
        } finally {
            ws.sendClose(WebSocket.NORMAL_CLOSURE, "done");
            sink.close();
        }

        // Who may: the namespace user elsewhere, and a FAKE policy refusal for the admin.
        HttpResponse<String> elsewhere = put(FakePolicy.USER_TOKEN, "kubevirt", "virtualmachines/testvm/stop", null);
        assertEquals(403, elsewhere.statusCode(), elsewhere.body());
        assertTrue(elsewhere.body().contains("User \\\"sandbox-user\\\" cannot update resource \\\"virtualmachines/stop\\\""), elsewhere.body());
        Files.writeString(dir.resolve("fake-policy"), "deny sandbox-admin virtualmachines/restart\n");
        HttpResponse<String> refused = admin("virtualmachines/testvm/restart", null);
        assertEquals(403, refused.statusCode(), refused.body());
        Files.delete(dir.resolve("fake-policy"));
        assertEquals(v.getMetadata().getUid(), vmi().getMetadata().getUid(), "a refused restart changed nothing");

        HttpResponse<String> restart = admin("virtualmachines/testvm/restart", null);
        assertEquals(202, restart.statusCode(), restart.body());
        VirtualMachineInstance v2 = SandboxIT.awaitValue(BOOT, "a new VMI Running after the restart", () -> {
            VirtualMachineInstance x = vmi();
            return x != null && !x.getMetadata().getUid().equals(v.getMetadata().getUid()) && ready(x) ? x : null;
        });
        assertNotEquals(v.getMetadata().getUid(), v2.getMetadata().getUid());

        // The namespace user may stop a VM of its own namespace.
        HttpResponse<String> stop = put(FakePolicy.USER_TOKEN, "default", "virtualmachines/testvm/stop", null);
        assertEquals(202, stop.statusCode(), stop.body());
        assertEquals("Halted", vm().getSpec().getRunStrategy());
        SandboxIT.await(BOOT, "the VMI gone after stop", () -> vmi() == null);
        HttpResponse<String> stopped = admin("virtualmachines/testvm/stop", null);
        assertEquals(409, stopped.statusCode(), stopped.body());
        assertTrue(stopped.body().contains("VM is not running"), stopped.body());
        Map<String, Object> api = SandboxIT.component(dir, "virt-api");
        assertEquals(0, ((Number) api.get("restarts")).intValue(), "virt-api never restarted: " + api);
        assertTrue(KubevirtJson.toJson(vm()).contains("\"runStrategy\":\"Halted\""));
    }
}
