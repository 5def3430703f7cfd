package io.qvirt.operator;

import static io.qvirt.operator.MockCluster.NS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.qvirt.api.KubevirtJson;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The seed's install flow with the real virt-operator image: {@code images/build.sh virt-operator} for real (jlink,
 * umoci), the image unpacked with {@code umoci unpack} and its entrypoint run as its config says (chroot in a private
 * mount namespace, read-only root, uid 107, the args of kubevirt-operator.yaml's Deployment) against fabric8's CRUD
 * mock API server (not a kube-apiserver) where the release files were applied; the test plays the Deployment and
 * DaemonSet controllers. No container runtime is installed here: no kubelet, image pull, cgroups or pod network.
 */
class OperatorImageIT {
    private static final String TAG = "it";

    @Test
    void theImageInstallsFromTheCrUntilAvailable() throws Exception {
        // Not @TempDir: JUnit warns once per absolute symlink (busybox's applets) when it cleans one up.
        Path work = Files.createTempDirectory("qvirt-operator-image-it");
        try {
            run(work);
        } finally {
            try (var files = Files.walk(work)) { // does not follow links: the applets' links go, /usr/bin/busybox stays
                files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    private static void run(Path work) throws Exception {
        Path root = MockCluster.ROOT;
        Process build = new ProcessBuilder(root.resolve("images/build.sh").toString(), "--out", work.resolve("oci").toString(),
                "--tag", TAG, "virt-operator").redirectErrorStream(true).redirectOutput(work.resolve("build.log").toFile()).start();
        assertTrue(build.waitFor(5, TimeUnit.MINUTES), "images/build.sh hung");
        assertEquals(0, build.exitValue(), "images/build.sh (needs the operator packaged): " + Files.readString(work.resolve("build.log")));
        Path bundle = work.resolve("bundle");
        Process unpack = new ProcessBuilder("umoci", "unpack", "--image", work.resolve("oci/virt-operator") + ":" + TAG,
                bundle.toString()).redirectErrorStream(true).redirectOutput(work.resolve("unpack.log").toFile()).start();
        assertTrue(unpack.waitFor(2, TimeUnit.MINUTES));
        assertEquals(0, unpack.exitValue(), Files.readString(work.resolve("unpack.log")));
        JsonNode process = KubevirtJson.json().readTree(bundle.resolve("config.json").toFile()).path("process");
        assertEquals(107, process.path("user").path("uid").asInt());
        List<String> entry = new ArrayList<>();
        process.path("args").forEach(a -> entry.add(a.asText()));
        assertEquals(List.of("/usr/bin/virt-operator"), entry);
        List<String> env = new ArrayList<>();
        process.path("env").forEach(v -> env.add(v.asText()));

        Path release = work.resolve("release");
        assertEquals(0, MockCluster.render(release, "registry.internal:5000/virt", TAG));
        try (MockCluster mock = new MockCluster()) {
            mock.client.nodes().resource(new NodeBuilder().withNewMetadata().withName("node01").endMetadata()
                    .withNewStatus().addNewAddress().withType("InternalIP").withAddress("10.0.0.7").endAddress().endStatus()
                    .build()).create();
            mock.applyRelease(release);
            FakeCrdEstablisher crds = new FakeCrdEstablisher(mock.client).start();
            // The container's args as kubevirt-operator.yaml gives them; a free webhook port; the API server's address
            // through a kubeconfig, as the in-cluster service account would give it.
            Deployment op = (Deployment) mock.load(release.resolve("kubevirt-operator.yaml")).stream()
                    .filter(o -> o instanceof Deployment).map(HasMetadata.class::cast).findFirst().orElseThrow();
            int port;
            try (ServerSocket s = new ServerSocket(0)) {
                port = s.getLocalPort();
            }
            List<String> args = new ArrayList<>();
            for (String a : op.getSpec().getTemplate().getSpec().getContainers().get(0).getArgs()) {
                args.add(a.startsWith("--webhook-port=") ? "--webhook-port=" + port : a);
            }
            args.add("--kubeconfig=/etc/kube/config");
            Path kube = Files.createDirectories(work.resolve("kube"));
            Files.writeString(kube.resolve("config"), """
                    apiVersion: v1
                    kind: Config
                    clusters: [{name: mock, cluster: {server: "%s"}}]
                    users: [{name: u, user: {token: mock}}]
                    contexts: [{name: mock, context: {cluster: mock, user: u, namespace: kubevirt}}]
                    current-context: mock
                    """.formatted(mock.server.url("/").replaceAll("/$", "")), StandardCharsets.UTF_8);
            kube.resolve("config").toFile().setReadable(true, false);
            kube.toFile().setExecutable(true, false);
            Path r = bundle.resolve("rootfs");
            Files.createDirectories(r.resolve("etc/kube"));
            // The root bound onto itself first (a mount point, to be made read-only), then the pod's mounts on top.
            StringBuilder script = new StringBuilder("set -e; r=\"$1\"; shift; mount --bind \"$r\" \"$r\"; ")
                    .append("mount -t proc proc \"$r/proc\"; mount -t tmpfs tmpfs \"$r/tmp\"; ")
                    .append("mount --bind \"").append(kube).append("\" \"$r/etc/kube\"; ")
                    .append("mount -o remount,bind,ro \"$r\"; ")
                    .append("exec env -i");
            env.forEach(e -> script.append(" '").append(e.replace("'", "'\\''")).append('\''));
            script.append(" chroot --userspec=107:107 \"$r\" \"$@\"");
            List<String> cmd = new ArrayList<>(List.of("unshare", "-m", "--propagation", "private", "sh", "-c", script.toString(),
                    "sh", r.toString()));
            cmd.addAll(entry);
            cmd.addAll(args);
            Process operator = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(work.resolve("operator.log").toFile()).start();
            try {
                MockCluster.await(Duration.ofSeconds(90), "the image's operator installing virt-handler",
                        () -> mock.client.apps().daemonSets().inNamespace(NS).withName("virt-handler").get() != null
                                || !operator.isAlive());
                assertTrue(operator.isAlive(), "virt-operator exited: " + Files.readString(work.resolve("operator.log")));
                assertEquals("registry.internal:5000/virt/virt-handler:" + TAG, mock.client.apps().daemonSets().inNamespace(NS)
                        .withName("virt-handler").get().getSpec().getTemplate().getSpec().getContainers().get(0).getImage());
                new FakeWorkloadControllers(mock.client, NS, 1).allReady();
                MockCluster.await(Duration.ofSeconds(60), "Available", () -> InstallTest.is(InstallTest.cr(mock), "Available", "True"));
                assertEquals(KubeVirtStatus.DEPLOYED, InstallTest.phase(InstallTest.cr(mock)));
                assertEquals(TAG, InstallTest.cr(mock).getStatus().getObservedKubeVirtVersion());
                assertTrue(mock.client.leases().inNamespace(NS).withName("virt-operator").get().getSpec().getHolderIdentity() != null);
            } finally {
                crds.close();
                operator.destroy(); // SIGTERM to the unshare'd shell's exec: the JVM's clean stop
                if (!operator.waitFor(20, TimeUnit.SECONDS)) {
                    operator.descendants().forEach(ProcessHandle::destroyForcibly);
                    operator.destroyForcibly();
                    operator.waitFor(10, TimeUnit.SECONDS);
                }
            }
            String log = Files.readString(work.resolve("operator.log"));
            assertTrue(log.contains("became leader"), log);
        }
    }
}
