package io.qvirt.handler;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.jdkhttp.JdkHttpClientFactory;
import io.qvirt.handler.deviceplugin.DevicePluginException;
import io.qvirt.kvmprobe.KvmProbe;
import io.qvirt.kvmprobe.ProbeOptions;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code virt-handler}: runs a {@link NodeAgent} until SIGTERM/SIGINT. Exit codes: 0 ok (and after a clean
 * stop on a signal, the JVM's own status), 1 runtime failure (API server, Node or kubelet unreachable), 2
 * invalid usage.
 */
@Command(name = "virt-handler", mixinStandardHelpOptions = true, version = "qvirt virt-handler 0.1.0",
        description = {"qvirt's node agent (one per node, as a DaemonSet). What it does so far:",
            "  - labels this Node from kvm-probe: kubevirt.io/schedulable, qvirt.io/kvm-verdict, qvirt.io/kvm-vendor,",
            "    and with FULL KVM qvirt.io/kvm-nested and cpu-feature.node.kubevirt.io/<feature>;",
            "  - serves the devices.kubevirt.io/kvm device plugin to the kubelet, its devices Healthy only while",
            "    kvm-probe says FULL;",
            "  - probes again every --reprobe and updates both.",
            "Not built yet: driving the VMIs of this node (cont, pause, status) over their qmp.sock.",
            "Exit codes: 0 ok, 1 runtime failure, 2 invalid usage."})
public final class HandlerMain implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--node-name", paramLabel = "NAME", defaultValue = "${env:NODE_NAME}",
            description = "this node's name (default: $NODE_NAME)")
    String nodeName;

    @Option(names = "--kubeconfig", paramLabel = "FILE",
            description = "kubeconfig to use (default: $KUBECONFIG or ~/.kube/config if there is one, else the "
                    + "in-cluster service account)")
    Path kubeconfig;

    @Option(names = "--device-plugin-dir", paramLabel = "DIR", defaultValue = "/var/lib/kubelet/device-plugins",
            description = "the kubelet's device-plugin directory (default: ${DEFAULT-VALUE})")
    Path devicePluginDir;

    @Option(names = "--kvm-device", paramLabel = "PATH", defaultValue = "/dev/kvm",
            description = "the KVM device to probe and hand to launcher pods (default: ${DEFAULT-VALUE})")
    Path kvmDevice;

    @Option(names = "--kvm-devices", paramLabel = "N", defaultValue = "110",
            description = "devices.kubevirt.io/kvm devices to advertise: the most KVM launcher pods at once "
                    + "(default: ${DEFAULT-VALUE}, the kubelet's default maxPods)")
    int kvmDevices;

    @Option(names = "--use-emulation", arity = "0..1", fallbackValue = "true", defaultValue = "false",
            description = "VMs may run on TCG (KubeVirt's useEmulation): the node is schedulable without FULL KVM")
    boolean useEmulation;

    @Option(names = "--reprobe", paramLabel = "SECONDS", defaultValue = "300",
            description = "probe /dev/kvm again every SECONDS (default: ${DEFAULT-VALUE})")
    int reprobeSeconds;

    @Option(names = "--no-device-plugin", description = "do not serve the device plugin (labels only)")
    boolean noDevicePlugin;

    @Option(names = "--no-labels", description = "do not label the Node (device plugin only; no API server needed)")
    boolean noLabels;

    public static void main(String[] args) {
        System.exit(run(new PrintWriter(System.out, true), new PrintWriter(System.err, true), args));
    }

    /** Parses and runs with the given writers; returns the exit code. */
    static int run(PrintWriter out, PrintWriter err, String... args) {
        CommandLine cl = new CommandLine(new HandlerMain()).setOut(out).setErr(err);
        cl.setExitCodeExceptionMapper(e -> e instanceof CommandLine.ParameterException ? 2 : 1);
        return cl.execute(args);
    }

    /** The messages of an error, its causes and what each suppressed, innermost last. */
    static String causes(Throwable t) {
        StringBuilder b = new StringBuilder();
        java.util.Set<Throwable> seen = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        java.util.ArrayDeque<Throwable> todo = new java.util.ArrayDeque<>(java.util.List.of(t));
        while (!todo.isEmpty()) {
            Throwable x = todo.poll();
            if (!seen.add(x)) {
                continue;
            }
            b.append(b.length() == 0 ? "" : "; ").append(x.getMessage());
            if (x.getCause() != null) {
                todo.add(x.getCause());
            }
            todo.addAll(java.util.List.of(x.getSuppressed()));
        }
        return b.toString();
    }

    @Override
    public Integer call() throws Exception {
        PrintWriter err = spec.commandLine().getErr();
        if (kvmDevices < 1 || reprobeSeconds < 1) {
            err.println("virt-handler: --kvm-devices and --reprobe must be >= 1");
            return 2;
        }
        if (!noLabels && (nodeName == null || nodeName.isBlank())) {
            err.println("virt-handler: no node name: set --node-name or $NODE_NAME (the DaemonSet sets it from "
                    + "spec.nodeName), or --no-labels");
            return 2;
        }
        if (kubeconfig != null && !Files.isReadable(kubeconfig)) {
            err.println("virt-handler: cannot read kubeconfig " + kubeconfig);
            return 2;
        }
        if (!noDevicePlugin && !Files.isDirectory(devicePluginDir)) {
            err.println("virt-handler: --device-plugin-dir " + devicePluginDir + " is not a directory (mount the "
                    + "kubelet's /var/lib/kubelet/device-plugins), or --no-device-plugin");
            return 2;
        }
        KubernetesClient client = null;
        CountDownLatch done = new CountDownLatch(1);
        CountDownLatch stopped = new CountDownLatch(1);
        try {
            if (!noLabels) {
                Config config = kubeconfig != null ? Config.fromKubeconfig(Files.readString(kubeconfig))
                        : new ConfigBuilder().build();
                client = new KubernetesClientBuilder().withConfig(config)
                        .withHttpClientFactory(new JdkHttpClientFactory()).build();
            }
            ProbeOptions probe = ProbeOptions.defaults().withDevice(kvmDevice);
            NodeAgent.Settings settings = new NodeAgent.Settings(() -> KvmProbe.probe(probe),
                    client == null ? null : new NodeLabeller(client, nodeName), useEmulation,
                    noDevicePlugin ? null : devicePluginDir, kvmDevice.toString(), kvmDevices,
                    Duration.ofSeconds(reprobeSeconds), Duration.ofSeconds(1));
            try (NodeAgent agent = new NodeAgent(settings)) {
                Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                    done.countDown();
                    try {
                        stopped.await(10, TimeUnit.SECONDS); // let close() remove the plugin's socket
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }, "qvirt-shutdown"));
                agent.start();
                err.println("virt-handler: kvm-probe " + agent.lastReport().verdict() + " on " + kvmDevice
                        + (noLabels ? "" : "; node " + nodeName + " labelled")
                        + (noDevicePlugin ? "" : "; devices.kubevirt.io/kvm served on "
                            + agent.devicePluginServer().socket()));
                done.await();
            }
        } catch (DevicePluginException e) {
            err.println("virt-handler: device plugin: " + e.getMessage());
            return 1;
        } catch (IllegalStateException | KubernetesClientException | IOException e) {
            err.println("virt-handler: " + e.getMessage());
            return 1;
        } catch (UnsatisfiedLinkError e) {
            err.println("virt-handler: a native library (Netty's epoll transport, jnr-ffi) cannot load: it is unpacked "
                    + "to java.io.tmpdir (" + System.getProperty("java.io.tmpdir") + "), which must be writable and "
                    + "not noexec: " + causes(e));
            return 1;
        } finally {
            if (client != null) {
                client.close();
            }
            stopped.countDown();
        }
        return 0;
    }
}
