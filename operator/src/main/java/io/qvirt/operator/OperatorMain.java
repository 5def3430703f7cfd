package io.qvirt.operator;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.jdkhttp.JdkHttpClientFactory;
import io.qvirt.api.KubevirtJson;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code virt-operator}: runs the {@link Operator} (and its {@link WebhookServer}) until SIGTERM/SIGINT;
 * {@code virt-operator render} prints what it would install. Exit codes: 0 ok, 1 runtime failure (API server
 * unreachable, leadership lost, port taken), 2 invalid usage.
 */
@Command(name = "virt-operator", mixinStandardHelpOptions = true, version = "qvirt virt-operator " + OperatorOptions.VERSION,
        subcommands = OperatorMain.Render.class,
        description = "qvirt's operator: from the KubeVirt CR, installs and keeps installed the kubevirt.io CRDs, RBAC, "
            + "virt-api, virt-controller and virt-handler (images from spec.imageRegistry/imageTag, default this "
            + "operator's own), their certificates, Services and webhooks; writes the CR's status (phase, conditions); "
            + "uninstalls when the CR is deleted. Exit codes: 0 ok, 1 runtime failure, 2 invalid usage.")
public final class OperatorMain implements Callable<Integer> {
    @Option(names = "--kubeconfig", paramLabel = "FILE",
            description = "kubeconfig to use (default: $KUBECONFIG or ~/.kube/config if there is one, else the "
                    + "in-cluster service account)")
    Path kubeconfig;

    @Option(names = "--namespace", paramLabel = "NS", defaultValue = "kubevirt",
            description = "where to install, and where the Lease and certificates live (default: ${DEFAULT-VALUE})")
    String namespace;

    // Not picocli-required: that would be asked of `render` too. Checked in call().
    @Option(names = "--image-registry", paramLabel = "REGISTRY",
            description = "required: the components' registry unless the KubeVirt CR says (the operator's own)")
    String imageRegistry;

    @Option(names = "--image-tag", paramLabel = "TAG",
            description = "required: the components' tag unless the KubeVirt CR says (the operator's own)")
    String imageTag;

    @Option(names = "--leader-elect", description = "work only while holding the Lease NS/virt-operator")
    boolean leaderElect;

    @Option(names = "--lease-duration", paramLabel = "SECONDS", defaultValue = "15",
            description = "leader Lease duration (default: ${DEFAULT-VALUE})")
    int leaseSeconds;

    @Option(names = "--webhook-port", paramLabel = "PORT", defaultValue = "8444",
            description = "serve the admission webhooks and /healthz over HTTPS here; -1 to not serve (default: ${DEFAULT-VALUE})")
    int webhookPort;

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Parses and runs; returns the exit code. */
    static int run(String... args) {
        return new CommandLine(new OperatorMain())
                .setExitCodeExceptionMapper(e -> e instanceof CommandLine.ParameterException ? 2 : 1).execute(args);
    }

    @Override
    public Integer call() throws Exception {
        if (imageRegistry == null || imageRegistry.isBlank() || imageTag == null || imageTag.isBlank()) {
            System.err.println("virt-operator: --image-registry and --image-tag are required (the operator's own image's)");
            return 2;
        }
        if (leaseSeconds < 3 || webhookPort < -1 || webhookPort > 65535) {
            System.err.println("virt-operator: --lease-duration must be >= 3, --webhook-port -1..65535");
            return 2;
        }
        Config config;
        if (kubeconfig != null) {
            if (!Files.isReadable(kubeconfig)) {
                System.err.println("virt-operator: cannot read kubeconfig " + kubeconfig);
                return 2;
            }
            config = Config.fromKubeconfig(Files.readString(kubeconfig));
        } else {
            config = new ConfigBuilder().build();
        }
        OperatorOptions options = new OperatorOptions(namespace, imageRegistry, imageTag, Duration.ofMinutes(5),
                Duration.ofDays(3650), Duration.ofDays(365));
        AtomicInteger exit = new AtomicInteger(0);
        CountDownLatch done = new CountDownLatch(1);
        CountDownLatch stopped = new CountDownLatch(1);
        try (KubernetesClient client = new KubernetesClientBuilder().withConfig(config)
                .withHttpClientFactory(new JdkHttpClientFactory()).build();
             Operator operator = new Operator(client, options);
             WebhookServer webhooks = webhookPort < 0 ? null
                     : new WebhookServer(client, namespace, webhookPort, Duration.ofSeconds(30))) {
            io.qvirt.api.client.ServerLifecycle.onShutdown(done, stopped);
            if (leaderElect) {
                operator.startLeaderElection(io.qvirt.api.client.ServerLifecycle.leaderIdentity("virt-operator"), Duration.ofSeconds(leaseSeconds), () -> {
                    exit.set(1); // a lost lease ends the process; Kubernetes restarts it
                    done.countDown();
                });
            } else {
                operator.start();
            }
            System.err.println("virt-operator: running in " + namespace + (webhooks == null ? "" : ", webhooks on :" + webhooks.port())
                    + (leaderElect ? ", leader election on" : ""));
            done.await();
        } catch (IOException | GeneralSecurityException e) {
            System.err.println("virt-operator: " + e.getMessage());
            return 1;
        } finally {
            stopped.countDown();
        }
        return exit.get();
    }

    /** {@code virt-operator render}: the objects the operator installs for a registry and tag, as YAML, offline. */
    @Command(name = "render", mixinStandardHelpOptions = true,
            description = "Print, as one YAML stream, every object virt-operator installs for REGISTRY and TAG (a KubeVirt "
                + "CR naming them, nothing else set), with the caBundle of a throwaway CA; nothing is contacted.")
    static final class Render implements Callable<Integer> {
        @Option(names = "--image-registry", paramLabel = "REGISTRY", required = true, description = "images' registry")
        String registry;

        @Option(names = "--image-tag", paramLabel = "TAG", required = true, description = "images' tag")
        String tag;

        @Override
        public Integer call() throws GeneralSecurityException {
            var target = InstallStrategy.Target.of(new KubeVirtSpec(), registry, tag);
            String ca = Pki.newCa("throwaway", Instant.now(), Duration.ofDays(1)).cert();
            StringBuilder out = new StringBuilder();
            for (var o : InstallStrategy.desired(Templates.fromClassPath(), target, ca)) {
                out.append(KubevirtJson.toYaml(o).replaceFirst("^---\\n", "")).append("---\n");
            }
            System.out.print("---\n" + out);
            return 0;
        }
    }
}
