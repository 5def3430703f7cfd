package io.qvirt.operator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinitionVersion;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code manifests/render.sh}'s release files, KubeVirt's names: kubevirt-operator.yaml (namespace, KubeVirt CRD,
 * operator RBAC, its Deployment and webhook Service) and kubevirt-cr.yaml (the CR), a CR never beside its CRD.
 */
class ReleaseFilesTest {
    @Test
    void rendersKubevirtOperatorAndCrForARegistryAndTag(@TempDir Path dir) throws Exception {
        assertEquals(0, MockCluster.render(dir, "registry.internal:5000/virt", "v1.2.3", "--use-emulation"));
        assertTrue(Files.isRegularFile(dir.resolve("kubevirt-operator.yaml")));
        try (MockCluster offline = new MockCluster()) {
            List<HasMetadata> operator = offline.load(dir.resolve("kubevirt-operator.yaml"));
            List<HasMetadata> cr = offline.load(dir.resolve("kubevirt-cr.yaml"));
            for (List<HasMetadata> file : List.of(operator, cr)) {
                assertNoCustomResourceBesideItsCrd(file);
            }
            assertEquals(Set.of("Namespace/kubevirt", "CustomResourceDefinition/kubevirts.kubevirt.io",
                    "ServiceAccount/kubevirt-operator", "ClusterRole/kubevirt-operator", "ClusterRoleBinding/kubevirt-operator",
                    "Role/kubevirt-operator", "RoleBinding/kubevirt-operator", "Deployment/virt-operator",
                    "Service/kubevirt-operator-webhook"), names(operator));
            CustomResourceDefinition crd = one(operator, CustomResourceDefinition.class, "kubevirts.kubevirt.io");
            assertEquals("KubeVirt", crd.getSpec().getNames().getKind());
            assertTrue(crd.getSpec().getNames().getShortNames().containsAll(List.of("kv", "kvs")));
            CustomResourceDefinitionVersion v1 = crd.getSpec().getVersions().stream().filter(v -> "v1".equals(v.getName()))
                    .findFirst().orElseThrow();
            assertTrue(v1.getStorage());
            assertEquals(List.of("Age", "Phase"), v1.getAdditionalPrinterColumns().stream().map(c -> c.getName()).toList());
            assertEquals(".status.phase", v1.getAdditionalPrinterColumns().get(1).getJsonPath());
            assertTrue(v1.getSchema().getOpenAPIV3Schema().getProperties().get("spec").getProperties()
                    .keySet().containsAll(List.of("imageRegistry", "imageTag", "imagePullPolicy", "imagePullSecrets",
                            "infra", "workloads", "uninstallStrategy", "configuration")));
            assertTrue(v1.getSubresources().getStatus() != null);

            Deployment op = one(operator, Deployment.class, "virt-operator");
            assertEquals(2, op.getSpec().getReplicas());
            var c = op.getSpec().getTemplate().getSpec().getContainers().get(0);
            assertEquals("registry.internal:5000/virt/virt-operator:v1.2.3", c.getImage());
            assertTrue(c.getArgs().containsAll(List.of("--leader-elect", "--image-registry=registry.internal:5000/virt",
                    "--image-tag=v1.2.3")), c.getArgs().toString());
            Service webhook = one(operator, Service.class, "kubevirt-operator-webhook");
            assertEquals(Map.of("kubevirt.io", "virt-operator"), webhook.getSpec().getSelector());
            assertEquals(443, webhook.getSpec().getPorts().get(0).getPort());

            assertEquals(1, cr.size());
            GenericKubernetesResource kv = (GenericKubernetesResource) cr.get(0);
            assertEquals("KubeVirt", kv.getKind());
            assertEquals("kubevirt", kv.getMetadata().getName());
            assertEquals("kubevirt", kv.getMetadata().getNamespace());
            Map<?, ?> spec = (Map<?, ?>) kv.getAdditionalProperties().get("spec");
            assertEquals(true, ((Map<?, ?>) ((Map<?, ?>) spec.get("configuration")).get("developerConfiguration")).get("useEmulation"));
        }
    }

    @Test
    void refusesBadInput() throws Exception {
        assertEquals(2, MockCluster.render(null));
        assertEquals(2, MockCluster.render(null, "not a registry", "v1"));
        assertEquals(2, MockCluster.render(null, "registry.internal", "bad tag!"));
    }

    /** No object of a kind whose CRD is in the same file: kubectl cannot map it until the CRD is established. */
    static void assertNoCustomResourceBesideItsCrd(List<HasMetadata> file) {
        Set<String> defined = new HashSet<>();
        for (HasMetadata o : file) {
            if (o instanceof CustomResourceDefinition crd) {
                defined.add(crd.getSpec().getGroup() + "/" + crd.getSpec().getNames().getKind());
            }
        }
        for (HasMetadata o : file) {
            String group = o.getApiVersion().contains("/") ? o.getApiVersion().substring(0, o.getApiVersion().indexOf('/')) : "";
            assertFalse(defined.contains(group + "/" + o.getKind()), o.getKind() + " " + o.getMetadata().getName()
                    + " is in the same file as its CRD");
        }
    }

    private static Set<String> names(List<HasMetadata> objects) {
        Set<String> out = new HashSet<>();
        objects.forEach(o -> out.add(o.getKind() + "/" + o.getMetadata().getName()));
        return out;
    }

    private static <T extends HasMetadata> T one(List<HasMetadata> objects, Class<T> type, String name) {
        return objects.stream().filter(type::isInstance).map(type::cast)
                .filter(o -> name.equals(o.getMetadata().getName())).findFirst()
                .orElseThrow(() -> new AssertionError("no " + type.getSimpleName() + " " + name));
    }
}
