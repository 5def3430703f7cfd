package io.qvirt.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.io.FileInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** manifests/render.sh and what it renders: valid objects, the private registry everywhere, least privilege. */
class ManifestsTest {
    private static final Path ROOT = Path.of(System.getProperty("qvirt.root", ".."));

    private static int render(Path out, String... args) throws Exception {
        List<String> cmd = new java.util.ArrayList<>(List.of("bash", ROOT.resolve("manifests/render.sh").toString()));
        cmd.addAll(List.of(args));
        if (out != null) {
            cmd.add(out.toString());
        }
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "render.sh hung");
        return p.exitValue();
    }

    @Test
    void rendersForAPrivateRegistryWithLeastPrivilege(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("qvirt.yaml");
        assertEquals(0, render(out, "registry.internal:5000/virt", "v1.2.3"));
        String text = Files.readString(out, StandardCharsets.UTF_8);
        assertTrue(!text.contains("${QVIRT_"), "placeholder left");
        List<HasMetadata> objects;
        try (KubernetesClient offline = new KubernetesClientBuilder().build(); InputStream in = new FileInputStream(out.toFile())) {
            objects = offline.load(in).items();
        }
        Deployment controller = one(objects, Deployment.class, "virt-controller");
        var c = controller.getSpec().getTemplate().getSpec().getContainers().get(0);
        assertEquals("registry.internal:5000/virt/virt-controller:v1.2.3", c.getImage());
        assertTrue(c.getArgs().contains("--leader-elect"));
        assertTrue(c.getArgs().contains("--image-registry=registry.internal:5000/virt"));
        assertEquals("/healthz", c.getLivenessProbe().getHttpGet().getPath());
        DaemonSet handler = one(objects, DaemonSet.class, "virt-handler");
        assertEquals("registry.internal:5000/virt/virt-handler:v1.2.3",
                handler.getSpec().getTemplate().getSpec().getContainers().get(0).getImage());
        Set<String> hostPaths = new TreeSet<>();
        handler.getSpec().getTemplate().getSpec().getVolumes().forEach(v -> {
            if (v.getHostPath() != null) {
                hostPaths.add(v.getHostPath().getPath());
            }
        });
        assertEquals(Set.of("/run/qvirt", "/dev/kvm", "/var/lib/kubelet/device-plugins"), hostPaths);
        GenericKubernetesResource kv = objects.stream().filter(o -> "KubeVirt".equals(o.getKind()))
                .map(GenericKubernetesResource.class::cast).findFirst().orElseThrow();
        assertEquals("registry.internal:5000/virt", ((java.util.Map<?, ?>) kv.getAdditionalProperties().get("spec"))
                .get("imageRegistry"));

        // Least privilege: exactly the calls the controller makes (Controller, VmReconciler, VmiReconciler,
        // ResourcePatcher, leader election), nothing more.
        assertEquals(new TreeSet<>(List.of(
                "kubevirt.io/virtualmachines:get", "kubevirt.io/virtualmachines:list", "kubevirt.io/virtualmachines:watch",
                "kubevirt.io/virtualmachines:patch",
                "kubevirt.io/virtualmachines/status:get", "kubevirt.io/virtualmachines/status:patch",
                "kubevirt.io/virtualmachineinstances:get", "kubevirt.io/virtualmachineinstances:list",
                "kubevirt.io/virtualmachineinstances:watch", "kubevirt.io/virtualmachineinstances:create",
                "kubevirt.io/virtualmachineinstances:delete", "kubevirt.io/virtualmachineinstances:patch",
                "kubevirt.io/kubevirts:get", "kubevirt.io/kubevirts:list", "kubevirt.io/kubevirts:watch",
                "/pods:get", "/pods:list", "/pods:watch", "/pods:create", "/pods:delete", "/pods/status:patch",
                "/events:create", "apps/controllerrevisions:list", "apps/controllerrevisions:watch",
                "apps/controllerrevisions:create", "apps/controllerrevisions:delete")),
                grants(one(objects, ClusterRole.class, "qvirt-controller").getRules()));
        assertEquals(new TreeSet<>(List.of("coordination.k8s.io/leases:get", "coordination.k8s.io/leases:create",
                "coordination.k8s.io/leases:update")), grants(one(objects, Role.class, "qvirt-controller-leader").getRules()));
    }

    @Test
    void refusesBadInput() throws Exception {
        assertEquals(2, render(null));
        assertEquals(2, render(null, "not a registry", "v1"));
        assertEquals(2, render(null, "registry.internal", "bad tag!"));
    }

    private static Set<String> grants(List<PolicyRule> rules) {
        Set<String> out = new TreeSet<>();
        for (PolicyRule r : rules) {
            for (String g : r.getApiGroups()) {
                for (String res : r.getResources()) {
                    for (String v : r.getVerbs()) {
                        out.add(g + "/" + res + ":" + v);
                    }
                }
            }
        }
        return out;
    }

    private static <T extends HasMetadata> T one(List<HasMetadata> objects, Class<T> type, String name) {
        return objects.stream().filter(type::isInstance).map(type::cast)
                .filter(o -> name.equals(o.getMetadata().getName())).findFirst()
                .orElseThrow(() -> new AssertionError("no " + type.getSimpleName() + " " + name));
    }
}
