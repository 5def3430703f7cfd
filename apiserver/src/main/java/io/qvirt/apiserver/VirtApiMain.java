package io.qvirt.apiserver;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.jdkhttp.JdkHttpClientFactory;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code virt-api}: the process. */
@Command(name = "virt-api", mixinStandardHelpOptions = true, versionProvider = VirtApiMain.Version.class,
        sortOptions = false, usageHelpWidth = 110,
        description = {
            "qvirt's virt-api: KubeVirt's aggregated API group subresources.kubevirt.io (v1, v1alpha3) and the kubevirt.io",
            "admission webhooks, over HTTPS. Stateless: run as many replicas as wanted.",
            "",
            "Subresources: virtualmachines/{start,stop,restart,migrate,expand-spec,portforward}, expand-vm-spec,",
            "virtualmachineinstances/{pause,unpause,reset,console,portforward}. pause/unpause/reset/console/portforward go",
            "to the handler on the VMI's node (its Node's InternalIP, --handler-port) over mutual TLS with",
            "--handler-cert/--handler-key; for portforward/PORT[/PROTOCOL] (a WebSocket, TCP only) the handler connects to",
            "the guest's port through the VM's pod-address forward (only the ports the VMI's interface lists).",
            "migrate creates a VirtualMachineInstanceMigration (the controller and the handlers move the VM).",
            "Not served: port-forward over UDP, VNC, guest-agent subresources, volume hotplug.",
            "Who may: the aggregator's client certificate (--requestheader-client-ca, else the kube-system/",
            "extension-apiserver-authentication ConfigMap) and its CN (--requestheader-allowed-names) are verified before",
            "X-Remote-User/X-Remote-Group are believed, then a SubjectAccessReview decides (401/403, nothing done).",
            "Webhooks (POST): /virtualmachines-validate, /virtualmachineinstances-validate-create,",
            "/virtualmachineinstances-validate-update, /virtualmachineinstances-mutate, /virtualmachines-mutate,",
            "/migration-validate-create, /migration-validate-update, /pod-eviction-validate (a drain's eviction of a",
            "launcher pod whose VMI live-migrates: refused with 429, the VMI marked with status.evacuationNodeName),",
            "/migration-policy-validate-create (a MigrationPolicy the controller could not apply is refused by field).",
            "Also /healthz and /metrics. Exit codes: 0 stopped, 1 runtime failure, 2 invalid usage."})
public final class VirtApiMain implements Callable<Integer> {
    @Option(names = "--listen", description = "HOST:PORT to serve HTTPS on (default ${DEFAULT-VALUE})", defaultValue = "0.0.0.0:8443")
    String listen;
    @Option(names = "--tls-cert", required = true, description = "serving certificate (PEM; reloaded when it changes)")
    Path tlsCert;
    @Option(names = "--tls-key", required = true, description = "its PKCS#8 key (PEM)")
    Path tlsKey;
    @Option(names = "--requestheader-client-ca", description = "the front-proxy CA (PEM); default: the ConfigMap")
    Path requestHeaderCa;
    @Option(names = "--requestheader-allowed-names", split = ",", description = "allowed front-proxy CNs (with a CA file; empty: any)")
    List<String> allowedNames = new ArrayList<>();
    @Option(names = "--handler-cert", required = true, description = "virt-api's client certificate for the node API")
    Path handlerCert;
    @Option(names = "--handler-key", required = true, description = "its PKCS#8 key")
    Path handlerKey;
    @Option(names = "--handler-ca", required = true, description = "the CA of the handlers' serving certificates")
    Path handlerCa;
    @Option(names = "--handler-port", defaultValue = "8186", description = "the node API's port (default ${DEFAULT-VALUE})")
    int handlerPort;
    @Option(names = "--kubeconfig", description = "kubeconfig; default: in-cluster or $KUBECONFIG")
    Path kubeconfig;
    @Option(names = "--max-body", defaultValue = "3145728", description = "request body cap in bytes (default ${DEFAULT-VALUE}; 413 beyond)")
    int maxBody;

    public static void main(String[] args) {
        System.exit(new CommandLine(new VirtApiMain())
                .setExitCodeExceptionMapper(e -> e instanceof CommandLine.ParameterException ? 2 : 1).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        InetSocketAddress addr = parse(listen);
        for (Path p : List.of(tlsCert, tlsKey, handlerCert, handlerKey, handlerCa)) {
            if (!Files.isReadable(p)) {
                System.err.println("virt-api: cannot read " + p);
                return 2;
            }
        }
        Config c = kubeconfig != null ? Config.fromKubeconfig(Files.readString(kubeconfig)) : Config.autoConfigure(null);
        c.setUserAgent("virt-api");
        KubernetesClient client = new KubernetesClientBuilder().withConfig(c).withHttpClientFactory(new JdkHttpClientFactory()).build();
        FrontProxyAuth auth = new FrontProxyAuth(requestHeaderCa != null ? FrontProxyAuth.fromFile(requestHeaderCa, allowedNames)
                : FrontProxyAuth.fromConfigMap(client), 30_000);
        HandlerClient handlers = new HandlerClient(handlerCert, handlerKey, handlerCa, handlerPort);
        KubeVirtConfig kubevirt = new KubeVirtConfig(client);
        ApiServer server = new ApiServer(new ApiServer.Config(addr, new ApiServerTls(tlsCert, tlsKey), auth,
                AccessReviewer.of(client), new VmSubresources(client, kubevirt::network), new VmiSubresources(client, handlers),
                KubeVirtConfig.admission(client, kubevirt), maxBody, () -> {
                    try {
                        client.namespaces().withName("default").get();
                        return true;
                    } catch (RuntimeException e) {
                        return false;
                    }
                }));
        CountDownLatch stop = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.close();
            client.close();
            stop.countDown();
        }, "virt-api-stop"));
        System.out.println("virt-api: running on " + server.address().getHostString() + ":" + server.address().getPort());
        System.out.flush();
        stop.await();
        return 0;
    }

    static InetSocketAddress parse(String hostPort) {
        int i = hostPort.lastIndexOf(':');
        if (i <= 0) {
            throw new CommandLine.ParameterException(new CommandLine(new VirtApiMain()), "--listen: HOST:PORT, got " + hostPort);
        }
        String host = hostPort.substring(0, i).replace("[", "").replace("]", "");
        return new InetSocketAddress(host, Integer.parseInt(hostPort.substring(i + 1)));
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"virt-api " + Discovery.version().path("gitVersion").asText()};
        }
    }
}
