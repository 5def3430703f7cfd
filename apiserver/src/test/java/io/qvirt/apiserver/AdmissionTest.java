package io.qvirt.apiserver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.qvirt.api.FeatureGates;
import io.qvirt.api.FieldError;
import io.qvirt.api.KubevirtJson;
import io.qvirt.api.LoadedManifest;
import io.qvirt.api.ManifestLoader;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The admission webhooks over HTTPS with AdmissionReview v1 bodies, as kube-apiserver sends them (no client
 * certificate): every VM and VMI fixture of {@code testdata/fixtures} and the seed VMs get exactly the api module's
 * errors (field paths and messages, as {@code launcher validate}), VMI spec immutability, the mutators' patches,
 * and clean 4xx answers to bodies that are not reviews.
 */
class AdmissionTest {
    @TempDir
    static Path dir;
    static Rig rig;

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

    static ObjectNode review(String kind, String operation, JsonNode object, JsonNode old, String user) {
        ObjectNode r = JsonNodeFactory.instance.objectNode();
        r.put("apiVersion", "admission.k8s.io/v1");
        r.put("kind", "AdmissionReview");
        ObjectNode q = r.putObject("request");
        q.put("uid", "uid-" + System.nanoTime());
        q.putObject("kind").put("group", "kubevirt.io").put("version", "v1").put("kind", kind);
        q.putObject("resource").put("group", "kubevirt.io").put("version", "v1")
                .put("resource", kind.equals("VirtualMachine") ? "virtualmachines" : "virtualmachineinstances");
        q.put("operation", operation);
        q.put("namespace", "default");
        q.putObject("userInfo").put("username", user);
        q.set("object", object);
        if (old != null) {
            q.set("oldObject", old);
        }
        return r;
    }

    static HttpResponse<String> post(String path, String body) throws Exception {
        return rig.send(rig.http(null, null), "POST", path, body, null);
    }

    static JsonNode response(String path, ObjectNode review) throws Exception {
        HttpResponse<String> r = post(path, review.toString());
        assertEquals(200, r.statusCode(), r.body());
        JsonNode out = KubevirtJson.json().readTree(r.body());
        assertEquals("AdmissionReview", out.path("kind").asText());
        assertEquals("admission.k8s.io/v1", out.path("apiVersion").asText());
        assertEquals(review.path("request").path("uid").asText(), out.path("response").path("uid").asText());
        return out.path("response");
    }

    static List<Path> documents() throws Exception {
        List<Path> files = new ArrayList<>();
        Path root = Path.of(System.getProperty("qvirt.root", ".."), "testdata");
        try (Stream<Path> s = Files.list(root.resolve("fixtures"))) {
            s.filter(p -> p.getFileName().toString().matches("vmi?-.*\\.yaml")).sorted().forEach(files::add);
        }
        files.add(root.resolve("vm.yaml"));
        files.add(root.resolve("testvm.yaml"));
        return files;
    }

    @Test
    void everyFixtureGetsTheApiModulesErrorsThenTheLaunchers() throws Exception {
        int denied = 0;
        int allowed = 0;
        for (Path f : documents()) {
            LoadedManifest doc = ManifestLoader.loadOne(f);
            List<FieldError> expected = doc.validate(FeatureGates.kubevirtDefaults());
            if (expected.isEmpty() && doc.vmi() != null) {
                // Then what qvirt's launcher would refuse, as `launcher validate` refuses it.
                io.qvirt.api.VirtualMachineInstance vmi = io.qvirt.api.VmiDefaults.apply(doc.vmi(),
                        io.qvirt.api.NetworkSettings.QVIRT_DEFAULTS);
                if (vmi.getMetadata().getNamespace() == null) {
                    vmi.getMetadata().setNamespace("default");
                }
                expected = io.qvirt.launcher.plan.AdmissionPlanning.refusals(vmi,
                        doc.isVirtualMachine() ? "spec.template.spec." : "spec.");
            }
            String kind = doc.isVirtualMachine() ? "VirtualMachine" : "VirtualMachineInstance";
            String path = doc.isVirtualMachine() ? "/virtualmachines-validate" : "/virtualmachineinstances-validate-create";
            JsonNode resp = response(path, review(kind, "CREATE", KubevirtJson.toTree(doc.resource()), null, "alice"));
            assertEquals(expected.isEmpty(), resp.path("allowed").asBoolean(), f + ": " + resp);
            if (expected.isEmpty()) {
                allowed++;
                continue;
            }
            denied++;
            assertEquals(422, resp.path("status").path("code").asInt(), f.toString());
            assertEquals("Invalid", resp.path("status").path("reason").asText(), f.toString());
            List<String> causes = new ArrayList<>();
            for (JsonNode c : resp.path("status").path("details").path("causes")) {
                causes.add(c.path("field").asText() + " | " + c.path("message").asText());
            }
            assertEquals(expected.stream().map(e -> e.path() + " | " + e).toList(), causes, f.toString());
            assertEquals(String.join(", ", expected.stream().map(FieldError::toString).toList()),
                    resp.path("status").path("message").asText(), f.toString());
        }
        assertTrue(denied >= 3 && allowed >= 3, "the fixtures exercise both: denied " + denied + ", allowed " + allowed);
    }

    @Test
    void anInvalidVmIsDeniedWithItsFieldPath() throws Exception {
        ObjectNode vm = (ObjectNode) KubevirtJson.toTree(ManifestLoader.loadOne(
                Path.of(System.getProperty("qvirt.root", ".."), "testdata", "vm.yaml")).vm());
        ((ObjectNode) vm.path("spec")).put("runStrategy", "Sometimes");
        ((ObjectNode) vm.path("spec")).remove("running");
        JsonNode resp = response("/virtualmachines-validate", review("VirtualMachine", "CREATE", vm, null, "alice"));
        assertFalse(resp.path("allowed").asBoolean());
        assertEquals("spec.runStrategy", resp.path("status").path("details").path("causes").get(0).path("field").asText());
        assertTrue(resp.path("status").path("message").asText().startsWith("spec.runStrategy: Invalid RunStrategy (Sometimes)"),
                resp.toString());
    }

    @Test
    void featureGatesFromTheKubeVirtConfigurationApply() throws Exception {
        Path hostdisk = Path.of(System.getProperty("qvirt.root", ".."), "testdata", "fixtures", "vmi-hostdisk.yaml");
        LoadedManifest doc = ManifestLoader.loadOne(hostdisk);
        JsonNode obj = KubevirtJson.toTree(doc.resource());
        rig.gates = FeatureGates.kubevirtDefaults();
        assertFalse(response("/virtualmachineinstances-validate-create", review("VirtualMachineInstance", "CREATE", obj, null, "a"))
                .path("allowed").asBoolean(), "HostDisk without its gate");
        rig.gates = FeatureGates.kubevirtDefaults().with(FeatureGates.HOST_DISK);
        try {
            assertEquals(doc.validate(rig.gates).isEmpty(), response("/virtualmachineinstances-validate-create",
                    review("VirtualMachineInstance", "CREATE", obj, null, "a")).path("allowed").asBoolean(), "HostDisk with its gate");
        } finally {
            rig.gates = FeatureGates.kubevirtDefaults();
        }
    }

    @Test
    void aVmisSpecIsImmutableExceptForKubeVirtsComponents() throws Exception {
        JsonNode old = KubevirtJson.toTree(LoadedManifest.fromVm(ManifestLoader.loadOne(
                Path.of(System.getProperty("qvirt.root", ".."), "testdata", "vm.yaml")).vm()));
        ObjectNode changed = old.deepCopy();
        ((ObjectNode) changed.path("spec")).put("terminationGracePeriodSeconds", 1);
        ObjectNode statusOnly = old.deepCopy();
        statusOnly.putObject("status").put("phase", "Running");
        String path = "/virtualmachineinstances-validate-update";
        JsonNode r = response(path, review("VirtualMachineInstance", "UPDATE", changed, old, "alice"));
        assertFalse(r.path("allowed").asBoolean());
        assertEquals("spec: update of VMI object is restricted", r.path("status").path("message").asText());
        assertTrue(response(path, review("VirtualMachineInstance", "UPDATE", statusOnly, old, "alice")).path("allowed").asBoolean());
        assertTrue(response(path, review("VirtualMachineInstance", "UPDATE", changed, old,
                "system:serviceaccount:kubevirt:kubevirt-controller")).path("allowed").asBoolean());
    }

    @Test
    void theMutatorsPatchDefaults() throws Exception {
        JsonNode vmi = KubevirtJson.toTree(LoadedManifest.fromVm(ManifestLoader.loadOne(
                Path.of(System.getProperty("qvirt.root", ".."), "testdata", "vm.yaml")).vm()));
        JsonNode r = response("/virtualmachineinstances-mutate", review("VirtualMachineInstance", "CREATE", vmi, null, "alice"));
        assertTrue(r.path("allowed").asBoolean());
        assertEquals("JSONPatch", r.path("patchType").asText());
        JsonNode ops = KubevirtJson.json().readTree(Base64.getDecoder().decode(r.path("patch").asText()));
        assertEquals("replace", ops.get(0).path("op").asText());
        assertEquals("/spec", ops.get(0).path("path").asText());
        JsonNode spec = ops.get(0).path("value");
        assertEquals("q35", spec.path("domain").path("machine").path("type").asText());
        assertEquals("amd64", spec.path("architecture").asText());
        // Applying the patch again changes nothing: no patch.
        ObjectNode again = vmi.deepCopy();
        again.set("spec", spec);
        JsonNode r2 = response("/virtualmachineinstances-mutate", review("VirtualMachineInstance", "CREATE", again, null, "alice"));
        assertTrue(r2.path("allowed").asBoolean());
        assertTrue(r2.path("patch").isMissingNode(), r2.toString());

        JsonNode vm = KubevirtJson.toTree(ManifestLoader.loadOne(Path.of(System.getProperty("qvirt.root", ".."), "testdata", "vm.yaml")).vm());
        JsonNode m = response("/virtualmachines-mutate", review("VirtualMachine", "CREATE", vm, null, "alice"));
        JsonNode vops = KubevirtJson.json().readTree(Base64.getDecoder().decode(m.path("patch").asText()));
        assertEquals("/spec/template/spec/domain/machine", vops.get(0).path("path").asText());
        assertEquals("q35", vops.get(0).path("value").path("type").asText());
    }

    @Test
    void badBodiesAreClean4xx() throws Exception {
        for (String body : List.of("", "not json", "[1,2]", "{\"kind\":\"AdmissionReview\",\"apiVersion\":\"admission.k8s.io/v1beta1\"}",
                "{\"kind\":\"Pod\",\"apiVersion\":\"v1\"}", "{\"kind\":\"AdmissionReview\",\"apiVersion\":\"admission.k8s.io/v1\"}",
                "{\"kind\":\"AdmissionReview\",\"apiVersion\":\"admission.k8s.io/v1\",\"request\":{}}",
                "{\"kind\":\"AdmissionReview\",\"apiVersion\":\"admission.k8s.io/v1\",\"request\":{\"uid\":\"u\"}} trailing",
                "[".repeat(5000))) {
            HttpResponse<String> r = post("/virtualmachines-validate", body);
            assertEquals(400, r.statusCode(), body + " -> " + r.body());
            JsonNode s = KubevirtJson.json().readTree(r.body());
            assertEquals("Status", s.path("kind").asText());
            assertFalse(r.body().contains("Exception"), r.body());
        }
        HttpResponse<String> big = post("/virtualmachines-validate", "{\"a\":\"" + "x".repeat(2 << 20) + "\"}");
        assertEquals(413, big.statusCode());
        // A review of another resource: denied as KubeVirt does, with its message.
        ObjectNode pod = review("Pod", "CREATE", JsonNodeFactory.instance.objectNode(), null, "a");
        ((ObjectNode) pod.path("request").path("kind")).put("group", "");
        JsonNode r = response("/virtualmachines-validate", pod);
        assertFalse(r.path("allowed").asBoolean());
        assertEquals("expect resource to be 'virtualmachines'", r.path("status").path("message").asText());
        // An object that does not decode as a VM: denied with why, not a 500.
        ObjectNode bad = review("VirtualMachine", "CREATE", JsonNodeFactory.instance.objectNode().put("spec", "text"), null, "a");
        JsonNode d = response("/virtualmachines-validate", bad);
        assertFalse(d.path("allowed").asBoolean());
        assertEquals(400, d.path("status").path("code").asInt());
    }
}
