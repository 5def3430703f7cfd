package io.qvirt.controller;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.jdkhttp.JdkHttpClientFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code virt-controller}: runs the {@link Controller} until SIGTERM/SIGINT, then stops it cleanly (workers,
 * informers, the Lease released). Exit codes: 0 for {@code --help}/{@code --version}, 1 runtime failure
 * (API server unreachable, caches not filled in time, leadership lost), 2 invalid usage; on a signal the
 * JVM's own status (143 for SIGTERM) once the clean stop is done.
 */
@Command(name = "virt-controller", mixinStandardHelpOptions = true, version = "qvirt virt-controller 0.1.0",
        description = "qvirt's cluster controller: VirtualMachine -> VirtualMachineInstance by run strategy, "
            + "VirtualMachineInstance -> launcher pod, VM status. Settings in the KubeVirt CR override the image and "
            + "emulation flags. Exit codes: 0 ok, 1 runtime failure, 2 invalid usage.")
public final class ControllerMain implements Callable<Integer> {
    @Option(names = "--kubeconfig", paramLabel = "FILE",
            description = "kubeconfig to use (default: $KUBECONFIG or ~/.kube/config if there is one, else the "
                    + "in-cluster service account)")
    Path kubeconfig;

    @Option(names = "--namespace", paramLabel = "NS", description = "watch only this namespace (default: all)")
    String namespace;

    @Option(names = "--kubevirt-namespace", paramLabel = "NS", defaultValue = "kubevirt",
            description = "where the KubeVirt CR and the leader Lease live (default: ${DEFAULT-VALUE})")
    String kubevirtNamespace;

    @Option(names = "--metrics-port", paramLabel = "PORT", defaultValue = "8080",
            description = "serve /metrics and /healthz on this port; -1 to not serve (default: ${DEFAULT-VALUE})")
    int metricsPort;

    @Option(names = "--leader-elect", description = "run workers only while holding the Lease NS/virt-controller")
    boolean leaderElect;

    @Option(names = "--lease-duration", paramLabel = "SECONDS", defaultValue = "15",
            description = "leader Lease duration (default: ${DEFAULT-VALUE})")
    int leaseSeconds;

    @Option(names = "--workers", paramLabel = "N", defaultValue = "4",
            description = "worker threads per queue, VM and VMI (default: ${DEFAULT-VALUE})")
    int workers;

    @Option(names = "--image-registry", paramLabel = "REGISTRY", defaultValue = ClusterConfig.DEFAULT_REGISTRY,
            description = "registry of the virt-launcher image, unless the KubeVirt CR says (default: ${DEFAULT-VALUE})")
    String imageRegistry;

    @Option(names = "--image-tag", paramLabel = "TAG", defaultValue = ClusterConfig.DEFAULT_TAG,
            description = "tag of the virt-launcher image, unless the KubeVirt CR says (default: ${DEFAULT-VALUE})")
    String imageTag;

    @Option(names = "--use-emulation", description = "allow TCG when the KubeVirt CR does not say (no /dev/kvm request)")
    boolean useEmulation;

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Parses and runs; returns the exit code. */
    static int run(String... args) {
        return new CommandLine(new ControllerMain()).setExitCodeExceptionMapper(e -> e instanceof CommandLine.ParameterException ? 2 : 1).execute(args);
    }

    @Override
    public Integer call() throws Exception {
        if (workers < 1 || leaseSeconds < 3 || metricsPort < -1 || metricsPort > 65535) {
            System.err.println("virt-controller: --workers must be >= 1, --lease-duration >= 3, --metrics-port -1..65535");
            return 2;
        }
        Config config;
        if (kubeconfig != null) {
            if (!Files.isReadable(kubeconfig)) {
                System.err.println("virt-controller: cannot read kubeconfig " + kubeconfig);
                return 2;
            }
            config = Config.fromKubeconfig(Files.readString(kubeconfig));
        } else {
            config = new ConfigBuilder().build();
        }
        ControllerOptions options = ControllerOptions.standard().withNamespace(namespace).withWorkers(workers)
                .withDefaults(new ClusterConfig(useEmulation, imageRegistry, imageTag, java.util.List.of()));
        options = new ControllerOptions(options.namespace(), kubevirtNamespace, options.workers(), options.defaults(),
                options.crashLoopBase(), options.crashLoopMax(), options.retryBase(),
                options.retryMax(), options.resync());
        AtomicInteger exit = new AtomicInteger(0);
        CountDownLatch done = new CountDownLatch(1);
        CountDownLatch stopped = new CountDownLatch(1);
        Metrics metrics = new Metrics();
        try (KubernetesClient client = new KubernetesClientBuilder().withConfig(config)
                .withHttpClientFactory(new JdkHttpClientFactory()).build();
             Controller controller = new Controller(client, options, metrics);
             HttpEndpoints http = metricsPort < 0 ? null : new HttpEndpoints(metricsPort, metrics, controller::isHealthy)) {
            // The hook lets the main thread close everything (releasing the Lease at once, so a standby takes
            // over without waiting for it to expire), bounded so a stuck API call cannot hold the JVM.
            io.qvirt.api.client.ServerLifecycle.onShutdown(done, stopped);
            try {
                controller.start(Duration.ofSeconds(60), !leaderElect);
            } catch (TimeoutException e) {
                System.err.println("virt-controller: caches not filled within 60 s: is the API server reachable?");
                return 1;
            } catch (StartupException e) {
                System.err.println("virt-controller: cannot start: " + e.getMessage());
                return 1;
            }
            if (leaderElect) {
                String id = io.qvirt.api.client.ServerLifecycle.leaderIdentity("virt-controller");
                controller.startLeaderElection(id, Duration.ofSeconds(leaseSeconds), () -> {
                    exit.set(1); // as client-go's controllers: a lost lease ends the process, Kubernetes restarts it
                    done.countDown();
                });
            }
            System.err.println("virt-controller: running" + (namespace == null ? "" : " in namespace " + namespace)
                    + (http == null ? "" : ", metrics on :" + http.port()) + (leaderElect ? ", leader election on" : ""));
            done.await();
        } catch (IOException e) {
            System.err.println("virt-controller: " + e.getMessage());
            return 1;
        } finally {
            stopped.countDown();
        }
        return exit.get();
    }
}
