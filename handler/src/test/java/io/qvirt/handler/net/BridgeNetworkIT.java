package io.qvirt.handler.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.jdkhttp.JdkHttpClientFactory;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.qvirt.handler.vmi.HandlerMetrics;
import io.qvirt.handler.vmi.VmiDriver;
import io.qvirt.testdata.OffLoopWatchCloseDispatcher;
import java.io.InputStream;
import java.time.Clock;
import java.util.HashMap;
import java.util.Map;
import io.qvirt.api.KubevirtJson;
import io.qvirt.api.VirtualMachineInstance;
import io.qvirt.launcher.plan.RuntimePaths;
import io.qvirt.launcher.runtime.NetworkHandshake;
import io.qvirt.launcher.runtime.RuntimeDir;
import io.qvirt.testdata.GuestMarkers;
import io.qvirt.testdata.TestGuest;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bridge} on the pod network end to end, as on a cluster node: a real network namespace stands for the
 * launcher pod's ({@code qvirt-it-<random>}: eth0 = one end of a veth pair with 10.x.y.2/24, default route via
 * 10.x.y.1, its own resolv.conf through /etc/netns), another for the node side of the pod network (10.x.y.1/24).
 * The real {@code bin/launcher exec} runs in the pod namespace ({@code ip netns exec}) on a VMI with
 * {@code bridge: {}}; the handler's {@link BridgeNetworks} (what VmiDriver calls each sync) answers its request:
 * plumbs the namespace, serves DHCP from there. The real test guest (TCG) then gets 10.x.y.2 by udhcpc (its
 * QVIRT-NET console line) and the node side pings it. Teardown removes namespaces, veth and QEMU; the test checks
 * that nothing is left. Needs root and {@code ip netns}.
 */
class BridgeNetworkIT {
    private static final Duration BOOT = Duration.ofSeconds(180);

    @TempDir
    Path tmp;

    private final String id = HexFormat.of().formatHex(new byte[] {(byte) new Random().nextInt(), (byte) new Random().nextInt(),
            (byte) new Random().nextInt()});
    private final String podNs = "qvirt-it-" + id;
    private final String nodeNs = "qvirt-it-" + id + "-node";
    private final Path etcNetns = Path.of("/etc/netns", podNs);
    private final int x = 200 + new Random().nextInt(50);
    private final int y = new Random().nextInt(250);
    private final String subnet = "10." + x + "." + y + ".";
    private final List<Process> launchers = new ArrayList<>();
    private BridgeNetworks bridges;

    @BeforeEach
    void needsRootAndIpNetns() throws Exception {
        assumeTrue("0".equals(new String(new ProcessBuilder("id", "-u").start().getInputStream().readAllBytes()).strip()),
                "BridgeNetworkIT needs root (network namespaces, taps)");
        boolean netns;
        try {
            netns = new ProcessBuilder("ip", "netns", "list").redirectErrorStream(true).start().waitFor() == 0;
        } catch (IOException e) {
            netns = false;
        }
        assumeTrue(netns, "BridgeNetworkIT needs iproute2's `ip netns`");
        bridges = new BridgeNetworks();
    }

    @AfterEach
    void teardownLeavesNothing() throws Exception {
        if (bridges == null) {
            return;
        }
        bridges.close();
        List<Long> pids = new ArrayList<>();
        for (Process p : launchers) {
            pids.add(p.pid());
            p.destroyForcibly();
            assertTrue(p.waitFor(30, TimeUnit.SECONDS), "launcher/QEMU " + p.pid() + " ended");
        }
        sh(false, "ip", "netns", "del", podNs);
        sh(false, "ip", "netns", "del", nodeNs);
        if (Files.exists(etcNetns)) {
            Files.deleteIfExists(etcNetns.resolve("resolv.conf"));
            Files.deleteIfExists(etcNetns);
        }
        String left = sh(true, "ip", "netns", "list");
        assertFalse(left.contains(podNs), "netns left: " + left);
        assertFalse(left.contains(nodeNs), "netns left: " + left);
        assertFalse(sh(true, "ip", "-o", "link", "show").contains("qv" + id), "no veth end left in the root namespace");
        assertFalse(Files.exists(etcNetns));
        for (long pid : pids) {
            assertTrue(ProcessHandle.of(pid).isEmpty(), "process " + pid + " is gone");
        }
    }

    /** The pod's and the node's namespaces joined by a veth pair, as a CNI plugin leaves a pod. */
    private String podNetwork() throws Exception {
        sh(true, "ip", "netns", "add", podNs);
        sh(true, "ip", "netns", "add", nodeNs);
        Files.createDirectories(etcNetns);
        Files.writeString(etcNetns.resolve("resolv.conf"), "nameserver " + subnet + "53\nsearch default.svc.bridge.test bridge.test\n");
        sh(true, "ip", "link", "add", "qv" + id + "n", "type", "veth", "peer", "name", "qv" + id + "p");
        sh(true, "ip", "link", "set", "qv" + id + "n", "netns", nodeNs);
        sh(true, "ip", "link", "set", "qv" + id + "p", "netns", podNs);
        sh(true, "ip", "-n", nodeNs, "address", "add", subnet + "1/24", "dev", "qv" + id + "n");
        sh(true, "ip", "-n", nodeNs, "link", "set", "qv" + id + "n", "up");
        sh(true, "ip", "-n", nodeNs, "link", "set", "lo", "up");
        sh(true, "ip", "-n", podNs, "link", "set", "qv" + id + "p", "name", "eth0");
        sh(true, "ip", "-n", podNs, "link", "set", "eth0", "mtu", "1400");
        sh(true, "ip", "-n", podNs, "address", "add", subnet + "2/24", "dev", "eth0");
        sh(true, "ip", "-n", podNs, "link", "set", "eth0", "up");
        sh(true, "ip", "-n", podNs, "link", "set", "lo", "up");
        sh(true, "ip", "-n", podNs, "route", "add", "default", "via", subnet + "1");
        return sh(true, "ip", "netns", "exec", podNs, "cat", "/sys/class/net/eth0/address").strip();
    }

    private VirtualMachineInstance vmi(String name) throws Exception {
        Path overlay = tmp.resolve(name + ".qcow2");
        sh(true, "qemu-img", "create", "-q", "-f", "qcow2", "-b", TestGuest.get().diskQcow2().toString(), "-F", "qcow2",
                overlay.toString());
        VirtualMachineInstance v = KubevirtJson.yaml().readValue("""
                apiVersion: kubevirt.io/v1
                kind: VirtualMachineInstance
                metadata: {name: %s, namespace: default}
                spec:
                  domain:
                    devices:
                      disks:
                      - name: rootdisk
                        disk: {bus: virtio}
                      interfaces:
                      - name: default
                        bridge: {}
                    resources:
                      requests:
                        memory: 128Mi
                  networks:
                  - name: default
                    pod: {}
                  volumes:
                  - name: rootdisk
                    hostDisk: {path: %s, type: Disk}
                """.formatted(name, overlay), VirtualMachineInstance.class);
        v.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace("default").withUid(UUID.randomUUID().toString()).build());
        return v;
    }

    /** The real launcher exec, in the pod's namespace if {@code ns} is given, as the launcher pod's entrypoint. */
    private Process launcherExec(VirtualMachineInstance v, String ns) throws IOException {
        List<String> cmd = new ArrayList<>();
        if (ns != null) {
            cmd.addAll(List.of("ip", "netns", "exec", ns));
        }
        cmd.addAll(List.of(TestGuest.projectRoot().resolve("bin/launcher").toString(), "exec", "--vmi-json",
                KubevirtJson.toJson(v), "--accel", "tcg", "--autostart", "--network-wait", "60"));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(tmp.resolve(v.getMetadata().getName() + ".launcher.log").toFile());
        pb.environment().put("QVIRT_RUNTIME_ROOT", tmp.resolve("run").toString());
        Process p = pb.start();
        launchers.add(p);
        return p;
    }

    /** What VmiDriver does each sync, until the launcher's request is answered (or {@code failure} is returned). */
    private String handlerSyncs(VirtualMachineInstance v, RuntimePaths paths, Process launcher) throws Exception {
        String key = "default/" + v.getMetadata().getName();
        return await(Duration.ofSeconds(60), "the handler answers " + NetworkHandshake.requestFile(paths), () -> {
            assertTrue(launcher.isAlive() || Files.exists(NetworkHandshake.readyFile(paths)), "launcher exited early: " + log(v));
            String failure = bridges.ensure(key, v.getMetadata().getUid(), v.getMetadata().getName(), paths);
            if (failure != null) {
                return failure;
            }
            return bridges.serves(key) ? "" : null;
        });
    }

    @Test
    void theGuestGetsThePodsAddressByDhcpAndTheNodeReachesIt() throws Exception {
        String podMac = podNetwork();
        VirtualMachineInstance v = vmi("bridgevm");
        Process launcher = launcherExec(v, podNs);
        RuntimePaths paths = RuntimeDir.paths(tmp.resolve("run"), "default", "bridgevm");
        assertEquals("", handlerSyncs(v, paths, launcher), "plumbed and serving");

        // What the launcher was told, and what the pod's namespace looks like now.
        NetworkHandshake.Ready ready = NetworkHandshake.read(NetworkHandshake.readyFile(paths), NetworkHandshake.Ready.class);
        assertNull(ready.error());
        assertEquals(List.of(new NetworkHandshake.ReadyInterface("default", "tap0", podMac, 1400)), ready.interfaces(),
                "the guest takes eth0's original MAC and MTU");
        String links = sh(true, "ip", "-n", podNs, "-o", "link", "show");
        for (String port : List.of("eth0", "tap0")) {
            assertTrue(links.lines().anyMatch(l -> l.matches("\\d+: " + port + "[@:].* master k6t-eth0 .*")), port + " in " + links);
        }
        assertNotEquals(podMac, sh(true, "ip", "netns", "exec", podNs, "cat", "/sys/class/net/eth0/address").strip(),
                "eth0 has a new MAC");
        String addrs = sh(true, "ip", "-n", podNs, "-4", "-o", "address", "show");
        assertTrue(addrs.lines().anyMatch(l -> l.matches("\\d+: k6t-eth0\\s+inet 169\\.254\\.75\\.10/32 .*")), addrs);
        assertFalse(addrs.contains(subnet + "2"), "eth0's address is the guest's now: " + addrs);
        DhcpLease lease = NetworkHandshake.read(paths.dir().resolve(BridgeNetworks.LEASE), DhcpLease.class);
        assertEquals(new DhcpLease(podMac, subnet + "2", 24, subnet + "1", List.of(subnet + "53"),
                List.of("default.svc.bridge.test", "bridge.test"), "bridgevm", 1400, "169.254.75.10"), lease);

        // The guest: DHCP from the handler's responder, then the node side reaches it at the pod's address.
        Path console = paths.consoleLog();
        Matcher net = await(BOOT, "QVIRT-NET on " + console, () -> {
            assertTrue(launcher.isAlive(), "QEMU exited: " + log(v));
            Matcher m = GuestMarkers.NET.matcher(read(console));
            return m.find() ? m : null;
        });
        assertEquals(subnet + "2", net.group(1), read(console));
        assertEquals(subnet + "1", net.group(2), read(console));
        assertEquals("", await(Duration.ofSeconds(30), "the node side pings the guest at " + subnet + "2", () -> {
            try {
                return sh(false, "ip", "netns", "exec", nodeNs, "busybox", "ping", "-c", "1", "-W", "2", subnet + "2")
                        .contains("1 packets received") ? "" : null;
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        }));
        assertTrue(bridges.serves("default/bridgevm"));

        // The VMI goes: its DHCP server stops with it.
        bridges.stop("default/bridgevm");
        assertFalse(bridges.serves("default/bridgevm"));
    }

    /** True while something listens on UDP port 67 in the pod's namespace (the DHCP server's sockets). */
    private boolean dhcpListens() throws Exception {
        return sh(true, "ip", "netns", "exec", podNs, "ss", "-H", "-uln", "sport", "= :67").contains(":67");
    }

    /**
     * The hook in VmiDriver: a Scheduled bridge VMI (the test plays controller and kubelet on fabric8's CRUD mock API
     * server, NOT a kube-apiserver) is plumbed by the driver's sync, started with cont and written Running; the
     * guest gets the pod's address; a handler stop closes the DHCP sockets, the next handler serves again from
     * network-lease.json; the VMI deleted ends Succeeded and its DHCP server stops.
     */
    @Test
    void theHandlerPlumbsABridgeVmiInItsSyncAndStopsDhcpWithIt() throws Exception {
        podNetwork();
        java.util.logging.Logger.getLogger("io.fabric8.mockwebserver").setLevel(java.util.logging.Level.WARNING);
        KubernetesMockServer server = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(),
                new OffLoopWatchCloseDispatcher(), false);
        server.init();
        List<KubernetesClient> clients = new ArrayList<>();
        Supplier<KubernetesClient> newClient = () -> {
            KubernetesClient c = server.createClient(b -> b.withHttpClientFactory(new JdkHttpClientFactory())
                    .editOrNewConfig().withNamespace("default").withRequestRetryBackoffLimit(0).endConfig());
            clients.add(c);
            return c;
        };
        List<VmiDriver> drivers = new ArrayList<>();
        Supplier<VmiDriver> newDriver = () -> {
            VmiDriver d = new VmiDriver(newClient.get(), new VmiDriver.Settings("node-a", tmp.resolve("run"),
                    Duration.ofSeconds(2), Duration.ofSeconds(3), 2), new HandlerMetrics(), Clock.systemUTC());
            drivers.add(d);
            d.start(Duration.ofSeconds(20));
            return d;
        };
        try {
            KubernetesClient client = newClient.get();
            for (String crd : new String[] {"virtualmachineinstances.kubevirt.io-v1.yml", "virtualmachines.kubevirt.io-v1.yml"}) {
                try (InputStream in = VmiDriver.class.getResourceAsStream("/META-INF/fabric8/" + crd)) {
                    client.apiextensions().v1().customResourceDefinitions()
                            .resource(Serialization.unmarshal(in, CustomResourceDefinition.class)).create();
                }
            }
            VirtualMachineInstance spec = vmi("drivenvm");
            spec.getMetadata().setUid(null);
            spec.getMetadata().setFinalizers(List.of("test.qvirt.io/keep"));
            VirtualMachineInstance v = client.resources(VirtualMachineInstance.class).resource(spec).create();
            v.getMetadata().setLabels(Map.of(VmiDriver.NODE_NAME_LABEL, "node-a"));
            v = client.resources(VirtualMachineInstance.class).resource(v).update();
            v.setStatus(new io.qvirt.api.model.VirtualMachineInstanceStatus());
            v.getStatus().setPhase("Scheduled");
            v.getStatus().setNodeName("node-a");
            v = client.resources(VirtualMachineInstance.class).resource(v).update();
            String uid = v.getMetadata().getUid();
            client.pods().resource(new PodBuilder().withNewMetadata().withName("virt-launcher-drivenvm-abcde")
                    .withNamespace("default").addToLabels("kubevirt.io", "virt-launcher")
                    .addToLabels("kubevirt.io/created-by", uid).addToAnnotations("kubevirt.io/domain", "drivenvm").endMetadata()
                    .withNewSpec().withNodeName("node-a").addNewContainer().withName("compute").withImage("virt-launcher:test")
                    .endContainer().endSpec()
                    .withNewStatus().withPhase("Running").withPodIP(subnet + "2")
                    .withContainerStatuses(new ContainerStatusBuilder().withName("compute").withNewState().withNewRunning()
                            .withStartedAt("2026-12-01T00:00:00Z").endRunning().endState().build()).endStatus().build()).create();
            newDriver.get();
            VirtualMachineInstance forLauncher = vmi("drivenvm");
            forLauncher.getMetadata().setUid(uid);
            forLauncher.setSpec(v.getSpec());
            Process launcher = launcherExecPaused(forLauncher);
            RuntimePaths paths = RuntimeDir.paths(tmp.resolve("run"), "default", "drivenvm");

            await(BOOT, "drivenvm Running", () -> {
                assertTrue(launcher.isAlive(), "launcher/QEMU exited: " + log(forLauncher));
                VirtualMachineInstance x = client.resources(VirtualMachineInstance.class).inNamespace("default")
                        .withName("drivenvm").get();
                assertNotEquals("Failed", x.getStatus().getPhase(), () -> "Failed: " + x.getStatus());
                return "Running".equals(x.getStatus().getPhase()) ? x : null;
            });
            Matcher net = await(BOOT, "QVIRT-NET", () -> {
                Matcher m = GuestMarkers.NET.matcher(read(paths.consoleLog()));
                return m.find() ? m : null;
            });
            assertEquals(subnet + "2", net.group(1), read(paths.consoleLog()));
            assertTrue(dhcpListens());

            // A handler stop closes the DHCP sockets; the next handler serves again (from network-lease.json).
            drivers.get(0).close();
            assertFalse(dhcpListens(), "no DHCP socket while no handler runs");
            VmiDriver second = newDriver.get();
            await(Duration.ofSeconds(30), "DHCP served again by the next handler", () -> {
                try {
                    return dhcpListens() && second.attached() == 1 ? true : null;
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            });
            assertTrue(launcher.isAlive(), "the same QEMU runs on");

            // Deleted: ACPI power-off, Succeeded, and the DHCP server goes with it.
            client.resources(VirtualMachineInstance.class).inNamespace("default").withName("drivenvm").delete();
            await(Duration.ofSeconds(60), "drivenvm Succeeded", () -> {
                VirtualMachineInstance x = client.resources(VirtualMachineInstance.class).inNamespace("default")
                        .withName("drivenvm").get();
                return x != null && "Succeeded".equals(x.getStatus().getPhase()) ? x : null;
            });
            assertTrue(launcher.waitFor(30, TimeUnit.SECONDS), "QEMU quit after the status");
            await(Duration.ofSeconds(10), "DHCP stopped with the VMI", () -> {
                try {
                    return dhcpListens() ? null : true;
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            });
        } finally {
            drivers.forEach(VmiDriver::close);
            clients.forEach(KubernetesClient::close);
            try {
                server.destroy();
            } catch (IllegalStateException e) {
                System.err.println("mock API server: " + e.getMessage());
            }
        }
    }

    /** launcher exec in the pod's namespace, the guest paused until the handler's cont (as in a launcher pod). */
    private Process launcherExecPaused(VirtualMachineInstance v) throws IOException {
        ProcessBuilder pb = new ProcessBuilder("ip", "netns", "exec", podNs, TestGuest.projectRoot().resolve("bin/launcher")
                .toString(), "exec", "--vmi-json", KubevirtJson.toJson(v), "--accel", "tcg", "--network-wait", "60")
                .redirectErrorStream(true).redirectOutput(tmp.resolve(v.getMetadata().getName() + ".launcher.log").toFile());
        pb.environment().put("QVIRT_RUNTIME_ROOT", tmp.resolve("run").toString());
        Process p = pb.start();
        launchers.add(p);
        return p;
    }

    @Test
    void aLauncherInTheHandlersOwnNamespaceIsRefusedAndNothingChanges() throws Exception {
        String linksBefore = sh(true, "ip", "-o", "link", "show").replaceAll("\\s+state \\S+", "");
        VirtualMachineInstance v = vmi("samens");
        Process launcher = launcherExec(v, null); // as on the one-machine rig: no pod network namespace
        RuntimePaths paths = RuntimeDir.paths(tmp.resolve("run"), "default", "samens");
        String failure = handlerSyncs(v, paths, launcher);
        assertTrue(failure.startsWith("bridge on the pod network: cannot plumb the launcher pod's network namespace: "
                + "the launcher's network namespace (pid " + launcher.pid() + ", net:["), failure);
        assertTrue(failure.contains("is virt-handler's own: no pod network namespace to plumb (the one-machine rig's "
                + "FAKE node agent runs pods as local processes without one)"), failure);
        assertTrue(launcher.waitFor(30, TimeUnit.SECONDS), "the launcher gives up at once");
        assertEquals(1, launcher.exitValue());
        String out = log(v);
        assertTrue(out.contains("the node agent could not plumb the pod network for default: " + failure), out);
        assertFalse(Files.exists(paths.dir()), "the launcher removed the VM's directory");
        assertFalse(bridges.serves("default/samens"));
        assertEquals(linksBefore, sh(true, "ip", "-o", "link", "show").replaceAll("\\s+state \\S+", ""),
                "no link changed in the handler's namespace");
    }

    private String log(VirtualMachineInstance v) {
        return read(tmp.resolve(v.getMetadata().getName() + ".launcher.log"));
    }

    private static String read(Path p) {
        try {
            return Files.readString(p, StandardCharsets.ISO_8859_1);
        } catch (IOException e) {
            return "";
        }
    }

    private static String sh(boolean check, String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        int rc = p.waitFor();
        if (check) {
            assertEquals(0, rc, String.join(" ", cmd) + ": " + out);
        }
        return out;
    }

    private static <T> T await(Duration timeout, String what, Supplier<T> value) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            T t = value.get();
            if (t != null) {
                return t;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + timeout + " waiting for: " + what);
            }
            Thread.sleep(100);
        }
    }
}
