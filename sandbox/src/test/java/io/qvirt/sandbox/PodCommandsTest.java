package io.qvirt.sandbox;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** How the FAKE node agent resolves a container: $(VAR) expansion, fieldRefs, mount paths, the program. */
class PodCommandsTest {
    static final Path BIN = Path.of(System.getProperty("qvirt.root", "..")).toAbsolutePath().normalize().resolve("bin");

    @Test
    void expandsAsTheKubeletDoes() {
        Map<String, String> env = Map.of("A", "x", "EMPTY", "");
        assertEquals("x", PodCommands.expand("$(A)", env));
        assertEquals("-x-", PodCommands.expand("-$(A)-", env));
        assertEquals("$(A)", PodCommands.expand("$$(A)", env), "$$ escapes");
        assertEquals("$(UNDEFINED)", PodCommands.expand("$(UNDEFINED)", env), "undefined references stay");
        assertEquals("", PodCommands.expand("$(EMPTY)", env));
        assertEquals("$(A", PodCommands.expand("$(A", env), "unterminated stays");
        assertEquals("$A $", PodCommands.expand("$A $", env), "only $( is a reference");
        assertEquals("x$x", PodCommands.expand("$(A)$$$(A)", env));
    }

    static Pod launcherLikePod() {
        Container compute = new ContainerBuilder().withName("compute").withImage("quay.io/qvirt/virt-launcher:v0.1.0")
                .withCommand("launcher", "exec", "--vmi-json", "{\"a\":\"$(POD_NAME)\"}", "--forward-address", "$(POD_IP)",
                        "--container-disk-dir", "/var/run/qvirt/container-disks")
                .addNewEnv().withName("POD_IP").withNewValueFrom().withNewFieldRef().withFieldPath("status.podIP").endFieldRef().endValueFrom().endEnv()
                .addNewEnv().withName("POD_NAME").withNewValueFrom().withNewFieldRef().withFieldPath("metadata.name").endFieldRef().endValueFrom().endEnv()
                .addNewEnv().withName("POD_NAMESPACE").withNewValueFrom().withNewFieldRef().withFieldPath("metadata.namespace").endFieldRef().endValueFrom().endEnv()
                .addNewEnv().withName("NODE").withNewValueFrom().withNewFieldRef().withFieldPath("spec.nodeName").endFieldRef().endValueFrom().endEnv()
                .addNewEnv().withName("QVIRT_RUNTIME_ROOT").withValue("/run/qvirt").endEnv()
                .addNewEnv().withName("WHERE").withValue("$(POD_NAMESPACE)/$(POD_NAME) on $(NODE) $(LATER)").endEnv()
                .addNewEnv().withName("LATER").withValue("late").endEnv()
                .addNewVolumeMount().withName("runtime").withMountPath("/run/qvirt").endVolumeMount()
                .addNewVolumeMount().withName("tmp").withMountPath("/tmp").endVolumeMount()
                .addNewVolumeMount().withName("container-disks").withMountPath("/var/run/qvirt/container-disks").withReadOnly(true).endVolumeMount()
                .build();
        return new PodBuilder().withNewMetadata().withName("virt-launcher-vm-abcde").withNamespace("ns1").withUid("u1").endMetadata()
                .withNewSpec().withNodeName("sandbox-node-3").withContainers(compute)
                .addNewVolume().withName("runtime").withNewHostPath().withPath("/run/qvirt").endHostPath().endVolume()
                .addNewVolume().withName("tmp").withNewEmptyDir().endEmptyDir().endVolume()
                .addNewVolume().withName("container-disks").withNewEmptyDir().endEmptyDir().endVolume()
                .addNewVolume().withName("other").withNewHostPath().withPath("/var/lib/x").endHostPath().endVolume()
                .endSpec().build();
    }

    @Test
    void resolvesTheLauncherPodsComputeContainer() throws Exception {
        Pod pod = launcherLikePod();
        Path node = Path.of("/sb/nodes/sandbox-node-3");
        PodCommands.Placement at = new PodCommands.Placement("sandbox-node-3", "127.0.3.1", "127.0.3.7", node.resolve("run"),
                node.resolve("host"), node.resolve("pods/p1"), BIN);
        Map<String, Path> vols = PodCommands.volumePaths(pod, at);
        assertEquals(node.resolve("run"), vols.get("runtime"));
        assertEquals(node.resolve("pods/p1/volumes/tmp"), vols.get("tmp"));
        assertEquals(node.resolve("host/var/lib/x"), vols.get("other"));
        Container c = pod.getSpec().getContainers().get(0);
        Map<String, Path> mounts = PodCommands.mounts(c, vols);
        Map<String, String> env = PodCommands.env(c, pod, at, mounts);
        assertEquals("127.0.3.7", env.get("POD_IP"));
        assertEquals("virt-launcher-vm-abcde", env.get("POD_NAME"));
        assertEquals("ns1", env.get("POD_NAMESPACE"));
        assertEquals("sandbox-node-3", env.get("NODE"));
        assertEquals(node.resolve("run").toString(), env.get("QVIRT_RUNTIME_ROOT"), "hostPath mapped in env");
        assertEquals("ns1/virt-launcher-vm-abcde on sandbox-node-3 $(LATER)", env.get("WHERE"),
                "only variables defined before are expanded in env values");
        List<String> argv = PodCommands.argv(c, env, mounts, BIN, "/usr/bin:/bin");
        assertEquals(List.of(BIN.resolve("launcher").toString(), "exec", "--vmi-json", "{\"a\":\"virt-launcher-vm-abcde\"}",
                "--forward-address", "127.0.3.7", "--container-disk-dir", node.resolve("pods/p1/volumes/container-disks").toString()),
                argv);
        assertEquals("/sb/x/y", PodCommands.mapPath("/sb/x/y", mounts), "unmounted paths stay");
        assertEquals(node.resolve("pods/p1/volumes/tmp/a").toString(), PodCommands.mapPath("/tmp/a", mounts));
        assertEquals("/tmpfoo", PodCommands.mapPath("/tmpfoo", mounts), "a prefix is a path prefix, not a string prefix");
    }

    @Test
    void refusesWhatItCannotPlay() throws Exception {
        Pod pod = launcherLikePod();
        PodCommands.Placement at = new PodCommands.Placement("n", "127.0.1.1", "127.0.1.2", Path.of("/r"), Path.of("/h"),
                Path.of("/p"), BIN);
        Container noCommand = new ContainerBuilder().withName("c").withImage("x").build();
        PodCommands.Unrunnable e = assertThrows(PodCommands.Unrunnable.class,
                () -> PodCommands.argv(noCommand, Map.of(), Map.of(), BIN, "/usr/bin:/bin"));
        assertEquals("CreateContainerError", e.reason);
        assertTrue(e.getMessage().contains("entrypoint"), e.getMessage());
        Container missing = new ContainerBuilder().withName("c").withCommand("no-such-program-qvirt").build();
        assertThrows(PodCommands.Unrunnable.class, () -> PodCommands.argv(missing, Map.of(), Map.of(), BIN, "/usr/bin:/bin"));
        Container resourceRef = new ContainerBuilder().withName("c").withCommand("sh").addNewEnv().withName("M")
                .withNewValueFrom().withNewResourceFieldRef().withResource("limits.memory").endResourceFieldRef().endValueFrom()
                .endEnv().build();
        e = assertThrows(PodCommands.Unrunnable.class, () -> PodCommands.env(resourceRef, pod, at, Map.of()));
        assertEquals("CreateContainerConfigError", e.reason);
        assertEquals(PodCommands.program("sh", BIN, "/usr/bin:/bin", "c"), "/usr/bin/sh");
    }

    @Test
    void imageRepositoryAndQos() {
        assertEquals("127.0.0.1:5000/qvirt/guest", FakeNodeAgent.repository("127.0.0.1:5000/qvirt/guest:latest"));
        assertEquals("127.0.0.1:5000/qvirt/guest", FakeNodeAgent.repository("127.0.0.1:5000/qvirt/guest@sha256:ab"));
        assertEquals("guest", FakeNodeAgent.repository("guest"));
        assertEquals("BestEffort", FakeNodeAgent.qosClass(launcherLikePod()));
    }
}
