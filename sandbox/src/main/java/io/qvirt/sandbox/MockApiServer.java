package io.qvirt.sandbox;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinitionBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.jdkhttp.JdkHttpClientFactory;
import io.qvirt.testdata.OffLoopWatchCloseDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.logging.SimpleFormatter;

/**
 * The rig's API server: fabric8's mock API server in CRUD mode (an in-memory store with watches; NOT a
 * kube-apiserver: no authentication, no admission, no garbage collection, no field selectors, no pod
 * binding subresource). qvirt's CRDs and the KubeVirt CRD are created first, so the status subresource
 * behaves for them. It serves plain HTTP on 127.0.0.1; its request log goes at WARNING only to its log file.
 */
public final class MockApiServer implements AutoCloseable {
    static final String[] CRDS = {"virtualmachines.kubevirt.io-v1.yml", "virtualmachineinstances.kubevirt.io-v1.yml",
            "virtualmachineinstancemigrations.kubevirt.io-v1.yml", "migrationpolicies.migrations.kubevirt.io-v1.yml",
            "virtualmachineinstancetypes.instancetype.kubevirt.io-v1.yml",
            "virtualmachineclusterinstancetypes.instancetype.kubevirt.io-v1.yml",
            "virtualmachinepreferences.instancetype.kubevirt.io-v1.yml",
            "virtualmachineclusterpreferences.instancetype.kubevirt.io-v1.yml"};
    public static final String KUBEVIRT_NAMESPACE = "kubevirt";

    /** Held strongly: the mock logs every request at INFO. */
    private static final Logger MOCK_LOG = Logger.getLogger("io.fabric8.mockwebserver");
    private static final Logger MOCK_LOG2 = Logger.getLogger("io.fabric8.kubernetes.client.server.mock");

    private final KubernetesMockServer server;
    private final KubernetesClient admin;
    private Handler logHandler;
    private ComponentLog fileLog;

    /**
     * Starts the mock on a free 127.0.0.1 port and creates the CRDs.
     *
     * @param log the mock's log file (WARNING and above), or null for none
     */
    public MockApiServer(Path log) throws IOException {
        MOCK_LOG.setLevel(Level.WARNING);
        MOCK_LOG2.setLevel(Level.WARNING);
        if (log != null) {
            Files.createDirectories(log.getParent());
            ComponentLog file = new ComponentLog(log, "mock-api-server");
            fileLog = file;
            logHandler = new Handler() {
                @Override
                public void publish(LogRecord r) {
                    if (isLoggable(r)) {
                        file.warn(r.getLoggerName() + ": " + new SimpleFormatter().formatMessage(r)
                                + (r.getThrown() == null ? "" : " (" + r.getThrown() + ")"));
                    }
                }

                @Override
                public void flush() {
                }

                @Override
                public void close() {
                    file.close();
                }
            };
            logHandler.setLevel(Level.WARNING);
            MOCK_LOG.addHandler(logHandler);
            MOCK_LOG2.addHandler(logHandler);
        }
        server = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(),
                new OffLoopWatchCloseDispatcher(), false);
        server.init(InetAddress.getLoopbackAddress(), 0);
        if (fileLog != null) {
            fileLog.info("fabric8 mock API server, CRUD mode (NOT a kube-apiserver), on 127.0.0.1:" + server.getPort()
                    + "; its request log is kept at WARNING and above");
        }
        admin = client("qvirt-sandbox-setup");
        for (String crd : CRDS) {
            try (InputStream in = MockApiServer.class.getResourceAsStream("/META-INF/fabric8/" + crd)) {
                if (in == null) {
                    throw new IllegalStateException(crd + " is not on the classpath (qvirt-api jar)");
                }
                admin.apiextensions().v1().customResourceDefinitions()
                        .resource(Serialization.unmarshal(in, CustomResourceDefinition.class)).create();
            }
        }
        admin.apiextensions().v1().customResourceDefinitions().resource(kubevirtCrd()).create();
    }

    /** KubeVirt's own CRD ({@code kubevirts.kubevirt.io}, namespaced, status subresource), schema left open. */
    static CustomResourceDefinition kubevirtCrd() {
        return new CustomResourceDefinitionBuilder()
                .withNewMetadata().withName("kubevirts.kubevirt.io").endMetadata()
                .withNewSpec().withGroup("kubevirt.io").withScope("Namespaced")
                .withNewNames().withKind("KubeVirt").withPlural("kubevirts").withSingular("kubevirt")
                .withListKind("KubeVirtList").endNames()
                .addNewVersion().withName("v1").withServed(true).withStorage(true)
                .withNewSchema().withNewOpenAPIV3Schema().withType("object")
                .withXKubernetesPreserveUnknownFields(true).endOpenAPIV3Schema().endSchema()
                .withNewSubresources().withNewStatus().endStatus().endSubresources()
                .endVersion().endSpec().build();
    }

    /** The namespaces {@code kubevirt} and {@code default}, and {@code kubevirt/kubevirt} with useEmulation. */
    public void seedCluster(boolean useEmulation) {
        for (String ns : List.of(KUBEVIRT_NAMESPACE, "default")) {
            admin.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(ns).endMetadata().build())
                    .create();
        }
        GenericKubernetesResource kv = new GenericKubernetesResourceBuilder()
                .withApiVersion("kubevirt.io/v1").withKind("KubeVirt")
                .withNewMetadata().withName("kubevirt").withNamespace(KUBEVIRT_NAMESPACE).endMetadata()
                .build();
        kv.setAdditionalProperty("spec", Map.of("configuration",
                Map.of("developerConfiguration", Map.of("useEmulation", useEmulation))));
        admin.genericKubernetesResources("kubevirt.io/v1", "KubeVirt").inNamespace(KUBEVIRT_NAMESPACE)
                .resource(kv).create();
    }

    /**
     * A Node as a kubelet registers it: {@code InternalIP} and {@code Hostname} addresses, capacity and
     * allocatable (cpu, memory, pods), condition Ready.
     */
    public Node createNode(String name, String ip, int cpus, long memoryBytes, int maxPods) {
        String now = Instant.now().toString();
        Map<String, Quantity> res = Map.of("cpu", new Quantity(Integer.toString(cpus)),
                "memory", new Quantity(Long.toString(memoryBytes / 1024) + "Ki"),
                "pods", new Quantity(Integer.toString(maxPods)));
        Node node = new NodeBuilder()
                .withNewMetadata().withName(name)
                    .addToLabels("kubernetes.io/hostname", name)
                    .addToLabels("kubernetes.io/os", "linux")
                    .addToLabels("kubernetes.io/arch", "amd64")
                    .addToLabels("qvirt.io/sandbox", "true")
                    .addToAnnotations("qvirt.io/fake-node", "a FAKE node of qvirt-sandbox: its kubelet is the FAKE node agent")
                .endMetadata()
                .withNewSpec().endSpec()
                .withNewStatus()
                    .addNewAddress().withType("InternalIP").withAddress(ip).endAddress()
                    .addNewAddress().withType("Hostname").withAddress(name).endAddress()
                    .withCapacity(res).withAllocatable(res)
                    .addNewCondition().withType("Ready").withStatus("True").withReason("KubeletReady")
                        .withMessage("FAKE node agent is posting ready status").withLastHeartbeatTime(now)
                        .withLastTransitionTime(now).endCondition()
                    .withNewNodeInfo().withArchitecture("amd64").withOperatingSystem("linux")
                        .withKubeletVersion("fake-node-agent").withContainerRuntimeVersion("fake://qvirt-sandbox")
                        .withKernelVersion(System.getProperty("os.version")).endNodeInfo()
                .endStatus()
                .build();
        Node created = admin.nodes().resource(node).create();
        if (created.getStatus() == null || created.getStatus().getAddresses() == null
                || created.getStatus().getAddresses().isEmpty()) {
            created.setStatus(node.getStatus());
            created = admin.nodes().resource(created).updateStatus();
        }
        return created;
    }

    /** A new client of the mock itself (not through the front door), with its own User-Agent. */
    public KubernetesClient client(String agent) {
        return server.createClient(b -> b.withHttpClientFactory(new JdkHttpClientFactory())
                .editOrNewConfig().withUserAgent(agent).withNamespace("default").endConfig());
    }

    public int port() {
        return server.getPort();
    }

    @Override
    public void close() {
        admin.close();
        try {
            server.destroy();
        } catch (IllegalStateException e) {
            // The mock waits for its connections to end; a client's idle connection may outlive it.
            Logger.getLogger(MockApiServer.class.getName()).warning("mock API server: " + e.getMessage());
        }
        if (logHandler != null) {
            MOCK_LOG.removeHandler(logHandler);
            MOCK_LOG2.removeHandler(logHandler);
            logHandler.close();
        }
    }
}
