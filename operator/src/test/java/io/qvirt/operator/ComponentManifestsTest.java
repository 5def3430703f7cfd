package io.qvirt.operator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * What the operator installs from {@code manifests/install} (the one source of the components' manifests): the
 * private registry everywhere, no hostPath that could make a directory on a node without KVM, and the controller's
 * RBAC exactly the calls it makes (moved here from the controller module's ManifestsTest with render.sh's change).
 */
class ComponentManifestsTest {
    private static List<ObjectNode> objects() throws Exception {
        String ca = Pki.newCa("test", Instant.now(), Duration.ofDays(1)).cert();
        return InstallStrategy.desired(Templates.fromClassPath(),
                InstallStrategy.Target.of(null, "registry.internal:5000/virt", "v1.2.3"), ca);
    }

    private static JsonNode one(List<ObjectNode> objects, String kind, String name) {
        return objects.stream().filter(o -> kind.equals(o.path("kind").asText()) && name.equals(o.at("/metadata/name").asText()))
                .findFirst().orElseThrow(() -> new AssertionError("no " + kind + " " + name));
    }

    @Test
    void componentsUseTheRegistryAndTheHandlerMakesNoDevKvmDirectory() throws Exception {
        List<ObjectNode> objects = objects();
        JsonNode controller = one(objects, "Deployment", "virt-controller");
        JsonNode c = controller.at("/spec/template/spec/containers/0");
        assertEquals("registry.internal:5000/virt/virt-controller:v1.2.3", c.path("image").asText());
        assertTrue(c.path("args").toString().contains("--leader-elect"));
        assertEquals("/healthz", c.at("/livenessProbe/httpGet/path").asText());
        JsonNode handler = one(objects, "DaemonSet", "virt-handler");
        assertEquals("registry.internal:5000/virt/virt-handler:v1.2.3", handler.at("/spec/template/spec/containers/0/image").asText());
        assertTrue(handler.at("/spec/template/spec/containers/0/securityContext/privileged").asBoolean(),
                "privileged: the runtime gives it the host's /dev, /dev/kvm included where it exists");
        Set<String> hostPaths = new TreeSet<>();
        handler.at("/spec/template/spec/volumes").forEach(v -> {
            if (v.has("hostPath")) {
                hostPaths.add(v.at("/hostPath/path").asText());
                assertTrue(!v.at("/hostPath/type").asText().isEmpty(), "hostPath " + v + " without a type");
            }
        });
        assertEquals(Set.of("/run/qvirt", "/var/lib/kubelet/device-plugins"), hostPaths);
        assertNotNull(one(objects, "Service", "kubevirt-prometheus-metrics"));
    }

    @Test
    void controllerRbacIsExactlyItsCalls() throws Exception {
        List<ObjectNode> objects = objects();
        // Exactly the calls the controller makes (Controller, VmReconciler, VmiReconciler, MigrationReconciler,
        // EvacuationReconciler, VmInstancetypes, ResourcePatcher, leader election), nothing more.
        assertEquals(new TreeSet<>(List.of(
                "kubevirt.io/virtualmachines:get", "kubevirt.io/virtualmachines:list", "kubevirt.io/virtualmachines:watch",
                "kubevirt.io/virtualmachines:patch",
                "kubevirt.io/virtualmachines/status:get", "kubevirt.io/virtualmachines/status:patch",
                "kubevirt.io/virtualmachineinstances:get", "kubevirt.io/virtualmachineinstances:list",
                "kubevirt.io/virtualmachineinstances:watch", "kubevirt.io/virtualmachineinstances:create",
                "kubevirt.io/virtualmachineinstances:delete", "kubevirt.io/virtualmachineinstances:patch",
                "kubevirt.io/virtualmachineinstancemigrations:get", "kubevirt.io/virtualmachineinstancemigrations:list",
                "kubevirt.io/virtualmachineinstancemigrations:watch", "kubevirt.io/virtualmachineinstancemigrations:create",
                "kubevirt.io/virtualmachineinstancemigrations:delete", "kubevirt.io/virtualmachineinstancemigrations:patch",
                "migrations.kubevirt.io/migrationpolicies:list", "migrations.kubevirt.io/migrationpolicies:watch",
                "kubevirt.io/virtualmachineinstancemigrations/status:patch",
                "kubevirt.io/kubevirts:get", "kubevirt.io/kubevirts:list", "kubevirt.io/kubevirts:watch",
                "/pods:get", "/pods:list", "/pods:watch", "/pods:create", "/pods:delete", "/pods/status:patch",
                "/resourcequotas:list", "/resourcequotas:watch", "/namespaces:list", "/namespaces:watch",
                "/persistentvolumeclaims:list", "/persistentvolumeclaims:watch",
                "/events:create", "apps/controllerrevisions:list", "apps/controllerrevisions:watch",
                "apps/controllerrevisions:create", "apps/controllerrevisions:delete", "apps/controllerrevisions:get",
                "instancetype.kubevirt.io/virtualmachineinstancetypes:get",
                "instancetype.kubevirt.io/virtualmachineclusterinstancetypes:get",
                "instancetype.kubevirt.io/virtualmachinepreferences:get",
                "instancetype.kubevirt.io/virtualmachineclusterpreferences:get")),
                grants(one(objects, "ClusterRole", "qvirt-controller").path("rules")));
        assertEquals(new TreeSet<>(List.of("coordination.k8s.io/leases:get", "coordination.k8s.io/leases:create",
                "coordination.k8s.io/leases:update")), grants(one(objects, "Role", "qvirt-controller-leader").path("rules")));
    }

    private static Set<String> grants(JsonNode rules) {
        Set<String> out = new TreeSet<>();
        for (JsonNode r : rules) {
            for (JsonNode g : r.path("apiGroups")) {
                for (JsonNode res : r.path("resources")) {
                    for (JsonNode v : r.path("verbs")) {
                        out.add(g.asText() + "/" + res.asText() + ":" + v.asText());
                    }
                }
            }
        }
        return out;
    }
}
