package io.qvirt.apiserver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.apps.ControllerRevisionBuilder;
import io.qvirt.api.KubevirtJson;
import io.qvirt.api.ManifestLoader;
import io.qvirt.api.instancetype.VirtualMachineClusterPreference;
import io.qvirt.api.instancetype.VirtualMachineInstancetype;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Instancetypes and preferences through virt-api over HTTPS, read from fabric8's CRUD mock API server (the four CRDs
 * installed): the VM webhook refuses what KubeVirt's admitter refuses (a template field the instancetype also
 * sets, an unmet preference requirement) and admits a VM naming what does not exist with a warning; the mutator takes
 * the preferred machine type; {@code expand-spec} (per VM) and {@code expand-vm-spec} (a body) expand, or answer
 * KubeVirt's errors (500 and 400).
 */
class InstancetypeApiTest {
    @TempDir
    static Path dir;
    static Rig rig;

    @BeforeAll
    static void up() throws Exception {
        rig = new Rig(dir);
        for (String yaml : new String[] {"""
                apiVersion: instancetype.kubevirt.io/v1beta1
                kind: VirtualMachineInstancetype
                metadata: {name: clarge, namespace: default}
                spec: {cpu: {guest: 4}, memory: {guest: 2Gi}}
                """, """
                apiVersion: instancetype.kubevirt.io/v1beta1
                kind: VirtualMachineClusterPreference
                metadata: {name: virtio}
                spec:
                  devices: {preferredDiskBus: virtio, preferredInterfaceModel: virtio}
                  machine: {preferredMachineType: pc-q35-7.2}
                """, """
                apiVersion: instancetype.kubevirt.io/v1beta1
                kind: VirtualMachineClusterPreference
                metadata: {name: needs8}
                spec: {requirements: {cpu: {guest: 8}}}
                """}) {
            var doc = ManifestLoader.loadString(yaml, "setup").get(0).resource();
            if (doc instanceof VirtualMachineInstancetype it) {
                rig.client.resources(VirtualMachineInstancetype.class).resource(it).create();
            } else {
                rig.client.resources(VirtualMachineClusterPreference.class).resource((VirtualMachineClusterPreference) doc)
                        .create();
            }
        }
        // A revision of clarge as it was: 2 vCPUs
        rig.client.apps().controllerRevisions().inNamespace("default").resource(new ControllerRevisionBuilder()
                .withNewMetadata().withName("vm-clarge-old").endMetadata().withRevision(1L)
                .withData(Map.of("apiVersion", "instancetype.kubevirt.io/v1beta1", "kind", "VirtualMachineInstancetype",
                        "spec", Map.of("cpu", Map.of("guest", 2), "memory", Map.of("guest", "1Gi")))).build()).create();
    }

    @AfterAll
    static void down() {
        if (rig != null) {
            rig.close();
        }
    }

    static ObjectNode vm(String name, String matchers, String domainExtra) throws Exception {
        String yaml = """
                apiVersion: kubevirt.io/v1
                kind: VirtualMachine
                metadata: {name: %s, namespace: default}
                spec:
                  runStrategy: Halted
                  %s
                  template:
                    spec:
                      domain:
                        devices:
                          disks: [{name: root, disk: {}}]
                        %s
                      volumes: [{name: root, containerDisk: {image: example/disk}}]
                """.formatted(name, matchers.replace("\n", "\n  "), domainExtra);
        return (ObjectNode) KubevirtJson.yaml().readTree(yaml);
    }

    /** The review's response, as kube-apiserver posts it (no client certificate). */
    static JsonNode response(String path, ObjectNode review) throws Exception {
        HttpResponse<String> r = rig.send(rig.http(null, null), "POST", path, review.toString(), null);
        assertEquals(200, r.statusCode(), r.body());
        return KubevirtJson.json().readTree(r.body()).path("response");
    }

    static JsonNode validate(ObjectNode vm) throws Exception {
        return response("/virtualmachines-validate",
                AdmissionTest.review("VirtualMachine", "CREATE", vm, null, "alice"));
    }

    @Test
    void aTemplateFieldTheInstancetypeAlsoSetsIsRefusedWithKubevirtsWords() throws Exception {
        JsonNode r = validate(vm("conflict", "instancetype: {name: clarge, kind: VirtualMachineInstancetype}",
                "memory: {guest: 128Mi}"));
        assertFalse(r.path("allowed").asBoolean(), r.toString());
        assertEquals(422, r.at("/status/code").asInt());
        assertEquals("spec.template.spec.domain.memory.guest", r.at("/status/details/causes/0/field").asText());
        assertTrue(r.at("/status/message").asText().contains("VM field(s) spec.template.spec.domain.memory.guest "
                + "conflicts with selected instance type"), r.toString());
        JsonNode ok = validate(vm("fits", "instancetype: {name: clarge, kind: VirtualMachineInstancetype}\n"
                + "preference: {name: virtio}", ""));
        assertTrue(ok.path("allowed").asBoolean(), ok.toString());
        assertTrue(ok.path("warnings").isMissingNode(), ok.toString());
    }

    @Test
    void anUnmetRequirementIsRefused() throws Exception {
        JsonNode r = validate(vm("small", "instancetype: {name: clarge, kind: VirtualMachineInstancetype}\n"
                + "preference: {name: needs8}", ""));
        assertFalse(r.path("allowed").asBoolean(), r.toString());
        assertEquals("spec.instancetype", r.at("/status/details/causes/0/field").asText());
        assertTrue(r.at("/status/message").asText().contains("failure checking preference requirements: insufficient "
                + "CPU resources of 4 vCPU provided by instance type, preference requires 8 vCPU"), r.toString());
    }

    @Test
    void whatDoesNotExistIsAdmittedAsKubevirtDoesWithAWarning() throws Exception {
        JsonNode r = validate(vm("later", "instancetype: {name: cxl}", "memory: {guest: 128Mi}"));
        assertTrue(r.path("allowed").asBoolean(), r.toString());
        assertEquals("virtualmachineclusterinstancetypes.instancetype.kubevirt.io \"cxl\" not found: the VM cannot start "
                + "until it exists", r.at("/warnings/0").asText());
        JsonNode bad = validate(vm("badkind", "instancetype: {name: clarge, kind: Flavor}", ""));
        assertFalse(bad.path("allowed").asBoolean());
        assertEquals("spec.instancetype.kind", bad.at("/status/details/causes/0/field").asText());
    }

    @Test
    void theMutatorTakesThePreferredMachineType() throws Exception {
        JsonNode r = response("/virtualmachines-mutate", AdmissionTest.review("VirtualMachine",
                "CREATE", vm("m", "preference: {name: virtio}", ""), null, "alice"));
        String patch = new String(java.util.Base64.getDecoder().decode(r.path("patch").asText()));
        assertTrue(patch.contains("pc-q35-7.2"), patch);
    }

    @Test
    void expandSpecAppliesTheObjectsFromTheApiServer() throws Exception {
        ObjectNode body = vm("x", "instancetype: {name: clarge, kind: VirtualMachineInstancetype}\npreference: {name: virtio}", "");
        body.with("metadata").remove("namespace");
        HttpResponse<String> r = rig.put("/apis/subresources.kubevirt.io/v1/namespaces/default/expand-vm-spec", body.toString());
        assertEquals(200, r.statusCode(), r.body());
        JsonNode t = KubevirtJson.json().readTree(r.body()).at("/spec/template/spec");
        assertEquals(4, t.at("/domain/cpu/sockets").asInt());
        assertEquals("2Gi", t.at("/domain/memory/guest").asText());
        assertEquals("virtio", t.at("/domain/devices/disks/0/disk/bus").asText());
        assertEquals("virtio", t.at("/domain/devices/interfaces/0/model").asText());
        assertTrue(KubevirtJson.json().readTree(r.body()).at("/spec/instancetype").isMissingNode());
        // a revisionName reads the ControllerRevision instead of the live object
        ObjectNode pinned = vm("pinned", "instancetype: {name: clarge, kind: VirtualMachineInstancetype, "
                + "revisionName: vm-clarge-old}", "");
        HttpResponse<String> p = rig.put("/apis/subresources.kubevirt.io/v1/namespaces/default/expand-vm-spec", pinned.toString());
        assertEquals(200, p.statusCode(), p.body());
        assertEquals(2, KubevirtJson.json().readTree(p.body()).at("/spec/template/spec/domain/cpu/sockets").asInt());
    }

    @Test
    void expandSpecAnswersKubevirtsErrors() throws Exception {
        ObjectNode conflict = vm("c", "instancetype: {name: clarge, kind: VirtualMachineInstancetype}",
                "memory: {guest: 128Mi}");
        HttpResponse<String> bad = rig.put("/apis/subresources.kubevirt.io/v1/namespaces/default/expand-vm-spec",
                conflict.toString());
        assertEquals(400, bad.statusCode(), bad.body());
        assertEquals("VM field(s) spec.template.spec.domain.memory.guest conflicts with selected instance type",
                KubevirtJson.json().readTree(bad.body()).path("message").asText());
        HttpResponse<String> other = rig.put("/apis/subresources.kubevirt.io/v1/namespaces/other/expand-vm-spec",
                conflict.toString());
        assertEquals(400, other.statusCode());
        assertEquals("VM namespace must be empty or other", KubevirtJson.json().readTree(other.body()).path("message").asText());
        // the stored VM naming an instancetype that does not exist: 500 with the API server's words
        ObjectNode missing = vm("stored-missing", "instancetype: {name: nope}", "memory: {guest: 128Mi}");
        rig.client.resources(io.qvirt.api.VirtualMachine.class).resource(KubevirtJson.json().treeToValue(missing,
                io.qvirt.api.VirtualMachine.class)).create();
        HttpResponse<String> r = rig.send(rig.aggregator(), "GET",
                "/apis/subresources.kubevirt.io/v1/namespaces/default/virtualmachines/stored-missing/expand-spec", null, "alice");
        assertEquals(500, r.statusCode(), r.body());
        assertEquals("Internal error occurred: virtualmachineclusterinstancetypes.instancetype.kubevirt.io \"nope\" not found",
                KubevirtJson.json().readTree(r.body()).path("message").asText());
    }
}
