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
import io.qvirt.handler.nodeapi.TlsFiles;
import io.qvirt.handler.vmi.HandlerMetrics;
import io.qvirt.handler.vmi.VmiDriver;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
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
        description = {"qvirt's node agent (one per node, as a DaemonSet):",
            "  - labels this Node from kvm-probe: kubevirt.io/schedulable, qvirt.io/kvm-verdict, qvirt.io/kvm-vendor,",
            "    and with FULL KVM qvirt.io/kvm-nested and cpu-feature.node.kubevirt.io/<feature>;",
            "  - serves the devices.kubevirt.io/kvm device plugin to the kubelet, its devices Healthy only while",
            "    kvm-probe says FULL; probes again every --reprobe and updates both;",
            "  - drives the VMIs of this node through each launcher pod's qmp.sock under --runtime-root (cont,",
            "    power-off, status from QMP events: Running, Paused, Succeeded, Failed); never spawns QEMU, and a",
            "    restart re-attaches to every running QEMU;",
            "  - serves the node API for virt-api (pause, unpause, reset, console) over mutual TLS on",
            "    --node-api-listen, and /metrics and /healthz on --metrics-listen;",
            "  - live-migrates VMIs as a migration's source or target through the migration proxy on",
            "    --migration-listen (mutual TLS with the same certificate), and writes their LiveMigratable condition.",
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
            description = {"VMs may run on TCG (KubeVirt's useEmulation): the node is schedulable without FULL KVM.",
                "The default when the KubeVirt CR does not say: its spec.configuration.developerConfiguration."
                    + "useEmulation, read live, wins (default: ${DEFAULT-VALUE})"})
    boolean useEmulation;

    @Option(names = "--reprobe", paramLabel = "SECONDS", defaultValue = "300",
            description = "probe /dev/kvm again every SECONDS (default: ${DEFAULT-VALUE})")
    int reprobeSeconds;

    @Option(names = "--no-device-plugin", description = "do not serve the device plugin (labels only)")
    boolean noDevicePlugin;

    @Option(names = "--runtime-root", paramLabel = "DIR", defaultValue = "/run/qvirt",
            description = "where launcher pods make each VM's directory (the hostPath they share; default: ${DEFAULT-VALUE})")
    Path runtimeRoot;

    @Option(names = "--resync", paramLabel = "SECONDS", defaultValue = "30",
            description = "sync every VMI of this node this often even without events (default: ${DEFAULT-VALUE})")
    int resyncSeconds;

    @Option(names = "--sync-workers", paramLabel = "N", defaultValue = "4",
            description = "VMIs synced at once (default: ${DEFAULT-VALUE})")
    int syncWorkers;

    @Option(names = "--node-api-listen", paramLabel = "HOST:PORT",
            description = "serve the node API (mutual TLS) here, e.g. 0.0.0.0:8186 as KubeVirt's; needs --tls-cert, "
                    + "--tls-key and --tls-ca (default: not served)")
    String nodeApiListen;

    @Option(names = "--tls-cert", paramLabel = "FILE", description = "the node API's serving certificate (PEM)")
    Path tlsCert;

    @Option(names = "--tls-key", paramLabel = "FILE", description = "its private key (PEM)")
    Path tlsKey;

    @Option(names = "--tls-ca", paramLabel = "FILE",
            description = "the CA whose client certificates the node API accepts (PEM): qvirt's CA, which signs virt-api's")
    Path tlsCa;

    @Option(names = "--migration-listen", paramLabel = "HOST:PORT",
            description = {"the live-migration proxy (mutual TLS with the --tls-* files) listens here; a source node's",
                "handler connects to it for each migration into this node (default: the --node-api-listen host, port 0 ="
                    + " an ephemeral port; without --node-api-listen no migrations in or out)"})
    String migrationListen;

    @Option(names = "--metrics-listen", paramLabel = "HOST:PORT",
            description = "serve /metrics (Prometheus) and /healthz over plain HTTP here (default: not served)")
    String metricsListen;

    @Option(names = "--no-vmis", description = "do not drive VMIs (labels and device plugin only)")
    boolean noVmis;

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
        if (kvmDevices < 1 || reprobeSeconds < 1 || resyncSeconds < 1 || syncWorkers < 1) {
            err.println("virt-handler: --kvm-devices, --reprobe, --resync and --sync-workers must be >= 1");
            return 2;
        }
        boolean needApi = !noLabels || !noVmis;
        if (needApi && (nodeName == null || nodeName.isBlank())) {
            err.println("virt-handler: no node name: set --node-name or $NODE_NAME (the DaemonSet sets it from "
                    + "spec.nodeName), or --no-labels --no-vmis");
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
        InetSocketAddress apiAddress;
        InetSocketAddress metricsAddress;
        InetSocketAddress migrationAddress;
        try {
            apiAddress = nodeApiListen == null ? null : hostPort("--node-api-listen", nodeApiListen);
            metricsAddress = metricsListen == null ? null : hostPort("--metrics-listen", metricsListen);
            migrationAddress = migrationListen != null ? hostPort("--migration-listen", migrationListen)
                    : apiAddress == null ? null : new InetSocketAddress(apiAddress.getHostString(), 0);
        } catch (IllegalArgumentException e) {
            err.println("virt-handler: " + e.getMessage());
            return 2;
        }
        if (migrationListen != null && (tlsCert == null || tlsKey == null || tlsCa == null)) {
            err.println("virt-handler: --migration-listen needs --tls-cert, --tls-key and --tls-ca FILE (PEM)");
            return 2;
        }
        if (apiAddress != null) {
            if (noVmis) {
                err.println("virt-handler: --node-api-listen serves VMIs: it cannot go with --no-vmis");
                return 2;
            }
            for (Object[] f : new Object[][] {{"--tls-cert", tlsCert}, {"--tls-key", tlsKey}, {"--tls-ca", tlsCa}}) {
                if (f[1] == null) {
                    err.println("virt-handler: --node-api-listen needs " + f[0] + " FILE (PEM)");
                    return 2;
                }
            }
        }
        KubernetesClient client = null;
        CountDownLatch done = new CountDownLatch(1);
        CountDownLatch stopped = new CountDownLatch(1);
        HandlerMetrics metrics = new HandlerMetrics();
        VmiDriver driver = null;
        NodeApiStarter nodeApi = null;
        MetricsEndpoint metricsEndpoint = null;
        KubeVirtConfig kubeVirt = null;
        io.qvirt.handler.vmi.MigrationTransport migrations = null;
        try {
            if (needApi) {
                Config config = kubeconfig != null ? Config.fromKubeconfig(Files.readString(kubeconfig))
                        : new ConfigBuilder().build();
                client = new KubernetesClientBuilder().withConfig(config)
                        .withHttpClientFactory(new JdkHttpClientFactory()).build();
            }
            ProbeOptions probe = ProbeOptions.defaults().withDevice(kvmDevice);
            // The labels are the only use of useEmulation here: without them no CR is watched.
            kubeVirt = noLabels ? null : new KubeVirtConfig(client, useEmulation);
            NodeAgent.Settings settings = new NodeAgent.Settings(() -> KvmProbe.probe(probe),
                    noLabels ? null : new NodeLabeller(client, nodeName),
                    kubeVirt == null ? () -> useEmulation : kubeVirt,
                    noDevicePlugin ? null : devicePluginDir, kvmDevice.toString(), kvmDevices,
                    Duration.ofSeconds(reprobeSeconds), Duration.ofSeconds(1));
            try (NodeAgent agent = new NodeAgent(settings)) {
                io.qvirt.api.client.ServerLifecycle.onShutdown(done, stopped); // lets close() remove the plugin's socket
                if (kubeVirt != null) {
                    kubeVirt.start(agent::relabel); // a change of the CR's useEmulation relabels the Node at once
                }
                agent.start();
                if (!noVmis) {
                    if (migrationAddress != null && tlsCert != null && tlsKey != null && tlsCa != null) {
                        KubeVirtConfig kv = kubeVirt;
                        migrations = new io.qvirt.handler.vmi.ProxyMigrationTransport(migrationAddress,
                                new TlsFiles(tlsCert, tlsKey, tlsCa), () -> kv == null
                                        ? io.qvirt.api.MigrationSettings.KUBEVIRT_DEFAULTS : kv.migrations());
                        migrations.advertised(); // starts the proxy now if its certificates are there (else on first use)
                    }
                    driver = new VmiDriver(client, new VmiDriver.Settings(nodeName, runtimeRoot,
                            Duration.ofSeconds(resyncSeconds), Duration.ofSeconds(3), syncWorkers), metrics,
                            Clock.systemUTC(), migrations);
                    driver.start(Duration.ofSeconds(60));
                }
                if (apiAddress != null) {
                    nodeApi = new NodeApiStarter(apiAddress, new TlsFiles(tlsCert, tlsKey, tlsCa), driver, err);
                    nodeApi.start();
                }
                if (metricsAddress != null) {
                    VmiDriver d = driver;
                    metricsEndpoint = new MetricsEndpoint(metricsAddress,
                            () -> metrics.render(d == null ? java.util.List.of() : d.samples()),
                            () -> d == null || d.ready());
                    metricsEndpoint.start();
                }
                err.println("virt-handler: kvm-probe " + agent.lastReport().verdict() + " on " + kvmDevice
                        + (noLabels ? "" : "; node " + nodeName + " labelled")
                        + (noDevicePlugin ? "" : "; devices.kubevirt.io/kvm served on "
                            + agent.devicePluginServer().socket())
                        + (noVmis ? "" : "; driving VMIs under " + runtimeRoot)
                        + (nodeApi == null ? "" : "; node API on " + nodeApiListen)
                        + (migrations == null || migrations.advertised() == null ? ""
                            : "; migrations on " + migrations.advertised().getHostString() + ":" + migrations.advertised().getPort())
                        + (metricsEndpoint == null ? "" : "; metrics on " + metricsListen));
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
            if (metricsEndpoint != null) {
                metricsEndpoint.close();
            }
            if (nodeApi != null) {
                nodeApi.close();
            }
            if (driver != null) {
                driver.close(); // detaches only: the VMs keep running
            }
            if (migrations != null) {
                migrations.close();
            }
            if (kubeVirt != null) {
                kubeVirt.close();
            }
            if (client != null) {
                client.close();
            }
            stopped.countDown();
        }
        return 0;
    }

    /** {@code HOST:PORT} (HOST may be an IPv4 address, a name, or [IPv6]). */
    static InetSocketAddress hostPort(String flag, String v) {
        int colon = v.lastIndexOf(':');
        if (colon <= 0 || colon == v.length() - 1) {
            throw new IllegalArgumentException(flag + " '" + v + "': expected HOST:PORT, e.g. 0.0.0.0:8186");
        }
        String host = v.substring(0, colon).replace("[", "").replace("]", "");
        int port;
        try {
            port = Integer.parseInt(v.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(flag + " '" + v + "': the port must be a number 0-65535");
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException(flag + " '" + v + "': the port must be a number 0-65535");
        }
        return new InetSocketAddress(host, port);
    }
}
