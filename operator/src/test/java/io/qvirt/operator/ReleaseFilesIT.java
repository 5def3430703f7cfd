package io.qvirt.operator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The release files as the build made them ({@code package}: {@code target/release/}, for
 * {@code -Dqvirt.release.registry} and {@code -Dqvirt.release.tag}): both there, exactly what render.sh writes for
 * that registry and tag, the operator's image and defaults pointing at them.
 */
class ReleaseFilesIT {
    @Test
    void packageWroteKubevirtOperatorAndCrForTheRegistryAndTag(@TempDir Path dir) throws Exception {
        String release = System.getProperty("qvirt.release.dir");
        String registry = System.getProperty("qvirt.release.registry");
        String tag = System.getProperty("qvirt.release.tag");
        assertNotNull(release, "qvirt.release.dir (set by the operator's pom)");
        Path built = Path.of(release);
        assertEquals(0, MockCluster.render(dir, registry, tag));
        for (String f : List.of("kubevirt-operator.yaml", "kubevirt-cr.yaml")) {
            assertTrue(Files.isRegularFile(built.resolve(f)), built.resolve(f) + " not made by the build");
            assertEquals(Files.readString(dir.resolve(f)), Files.readString(built.resolve(f)), f);
        }
        try (MockCluster offline = new MockCluster()) {
            List<HasMetadata> operator = offline.load(built.resolve("kubevirt-operator.yaml"));
            ReleaseFilesTest.assertNoCustomResourceBesideItsCrd(operator);
            Deployment op = operator.stream().filter(Deployment.class::isInstance).map(Deployment.class::cast).findFirst().orElseThrow();
            var c = op.getSpec().getTemplate().getSpec().getContainers().get(0);
            assertEquals(registry + "/virt-operator:" + tag, c.getImage());
            assertTrue(c.getArgs().containsAll(List.of("--image-registry=" + registry, "--image-tag=" + tag)), c.getArgs().toString());
        }
    }
}
