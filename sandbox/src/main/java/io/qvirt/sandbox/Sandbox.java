package io.qvirt.sandbox;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.jdkhttp.JdkHttpClientFactory;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.qvirt.launcher.image.DockerConfig;
import io.qvirt.launcher.image.ImageStore;
import io.qvirt.launcher.image.RegistryClient;
import io.qvirt.launcher.image.RegistryOptions;
import io.qvirt.testdata.TestPki;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * The rig's daemon: everything {@code qvirt-sandbox up} starts, in one JVM (mock API server, front door,
 * FAKE scheduler, FAKE node agents) and as its child processes (virt-controller, one virt-handler per node,
 * and the pods' processes). Files in its directory: see {@link Layout}.
 */
public final class Sandbox implements AutoCloseable {
    /** The files of a sandbox directory. */
    public record Layout(Path dir) {
        public Path pidFile() {
            return dir.resolve("sandbox.pid");
        }

        public Path lockFile() {
            return dir.resolve("sandbox.lock");
        }

        public Path readyFile() {
            return dir.resolve("ready");
        }

        public Path statusFile() {
            return dir.resolve("status.json");
        }

        public Path kubeconfig() {
            return dir.resolve("kubeconfig");
        }

        public Path logs() {
            return dir.resolve("logs");
        }

        public Path pki() {
            return dir.resolve("pki");
        }

        public Path nodes() {
            return dir.resolve("nodes");
        }

        public Path node(String name) {
            return nodes().resolve(name);
        }

        public Path images() {
            return dir.resolve("images");
        }

        /** The FAKE provisioner's claim directories, one per bound claim ({@link FakeProvisioner}). */
        public Path claims() {
            return dir.resolve("claims");
        }

        /** The front-proxy CA and the aggregator's client certificate (the front door presents it to virt-api). */
        public Path frontProxyPki() {
            return pki().resolve("front-proxy");
        }

        /** The FAKE authorization policy's extra refusals ({@link FakePolicy}). */
        public Path fakePolicy() {
            return dir.resolve("fake-policy");
        }

        public static String nodeName(int i) {
            return "sandbox-node-" + i;
        }
    }

    private final Layout layout;
    private final int nodeCount;
    private final Path root;
    private final Duration readyTimeout;
    private final ComponentLog log;
    private final List<KubernetesClient> clients = new ArrayList<>();
    private FakeScheduler scheduler;
    private FakeProvisioner provisioner;
    private final List<Supervised> processes = new ArrayList<>();
    private final List<FakeNodeAgent> agents = new ArrayList<>();
    private final CountDownLatch stop = new CountDownLatch(1);
    private FileChannel lockChannel;
    private FileLock lock;
    private MockApiServer mock;
    private SandboxFrontDoor frontDoor;
    private KubernetesClient client;
    private volatile ImageStore imageStore;
    private Thread statusWriter;

    public Sandbox(Path dir, int nodes, Path root, Duration readyTimeout) {
        this.layout = new Layout(dir.toAbsolutePath());
        this.nodeCount = nodes;
        this.root = root;
        this.readyTimeout = readyTimeout;
        try {
            Files.createDirectories(layout.logs());
        } catch (IOException e) {
            throw new IllegalStateException("cannot make " + layout.logs() + ": " + e, e);
        }
        this.log = new ComponentLog(layout.logs().resolve("sandbox.log"), "sandbox");
    }

    public Layout layout() {
        return layout;
    }

    /**
     * Takes the directory's lock (false: another daemon holds it), clears what a previous sandbox left in
     * {@code nodes/}, and writes the pid file.
     */
    public boolean lock() throws IOException {
        lockChannel = FileChannel.open(layout.lockFile(), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        lock = lockChannel.tryLock();
        if (lock == null) {
            lockChannel.close();
            return false;
        }
        Files.deleteIfExists(layout.readyFile());
        Files.deleteIfExists(layout.statusFile());
        FakeNodeAgent.deleteTree(layout.nodes());
        writeAtomically(layout.pidFile(), ProcessHandle.current().pid() + "\n");
        return true;
    }

    /** Starts everything and waits until it is ready; then writes {@code ready}. */
    public void start() throws Exception {
        log.info("starting a sandbox in " + layout.dir() + " with " + nodeCount + " node(s); qvirt checkout " + root);
        mock = new MockApiServer(layout.logs().resolve("mock-api-server.log"));
        mock.seedCluster(true);
        long memory = memTotal();
        int cpus = Runtime.getRuntime().availableProcessors();
        for (int i = 1; i <= nodeCount; i++) {
            mock.createNode(Layout.nodeName(i), "127.0." + i + ".1", cpus, memory, 110);
        }
        log.info("fabric8 mock API server (CRUD mode, NOT a kube-apiserver) on 127.0.0.1:" + mock.port()
                + ": CRDs, namespace kubevirt, KubeVirt kubevirt/kubevirt (useEmulation: true), " + nodeCount + " Node(s)");

        frontDoor = new SandboxFrontDoor(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                new InetSocketAddress(InetAddress.getLoopbackAddress(), mock.port()),
                new ComponentLog(layout.logs().resolve("front-door.log"), "front-door"));
        writeAtomically(layout.kubeconfig(), kubeconfig(frontDoor.address().getPort()));
        client = new KubernetesClientBuilder().withConfig(config(layout.kubeconfig(), "qvirt-sandbox"))
                .withHttpClientFactory(new JdkHttpClientFactory()).build();

        TestPki pki = TestPki.open(layout.pki(), "qvirt-sandbox-ca");
        for (int i = 1; i <= nodeCount; i++) {
            String node = Layout.nodeName(i);
            pki.server("handler-" + node, List.of("127.0." + i + ".1"), List.of(node));
        }
        pki.client("client", "virt-api");
        pki.server("virt-api", List.of("127.0.0.1"), List.of("virt-api.kubevirt.svc"));
        TestPki frontProxy = TestPki.open(layout.frontProxyPki(), "qvirt-sandbox-front-proxy-ca");
        frontProxy.client("front-proxy-client", "front-proxy-client");
        log.info("PKI in " + layout.pki() + ": CA, a server certificate per handler and for virt-api, client (CN virt-api);"
                + " front-proxy CA and its client certificate (CN front-proxy-client) in " + layout.frontProxyPki());

        provisioner = new FakeProvisioner(newClient("fake-provisioner"), layout.claims(),
                new ComponentLog(layout.logs().resolve("fake-provisioner.log"), "FAKE provisioner"));
        scheduler = new FakeScheduler(newClient("fake-scheduler"),
                new ComponentLog(layout.logs().resolve("fake-scheduler.log"), "FAKE scheduler"));
        Map<String, String> env = childEnv();
        for (int i = 1; i <= nodeCount; i++) {
            String node = Layout.nodeName(i);
            FakeNodeAgent agent = new FakeNodeAgent(new FakeNodeAgent.Options(node, i, layout.node(node),
                    root.resolve("bin"), Duration.ofSeconds(10)), newClient("fake-node-agent-" + node),
                    this::images, env, new ComponentLog(layout.logs().resolve("fake-node-agent-" + node + ".log"),
                    "FAKE node agent " + node));
            agent.start();
            agents.add(agent);
        }

        Path controllerLog = layout.logs().resolve("virt-controller.log");
        Supervised controller = new Supervised("virt-controller", List.of(root.resolve("bin/virt-controller").toString(),
                "--kubeconfig", layout.kubeconfig().toString(), "--metrics-port", Integer.toString(freePort())),
                env, controllerLog, log);
        controller.start();
        processes.add(controller);

        // virt-api, the real program: the front door aggregates subresources.kubevirt.io to it and calls its webhooks.
        int virtApiPort = freePort();
        Path virtApiLog = layout.logs().resolve("virt-api.log");
        Supervised virtApi = new Supervised("virt-api", List.of(root.resolve("bin/virt-api").toString(),
                "--listen", "127.0.0.1:" + virtApiPort, "--kubeconfig", layout.kubeconfig().toString(),
                "--tls-cert", pki.cert("virt-api").toString(), "--tls-key", pki.key("virt-api").toString(),
                "--requestheader-client-ca", frontProxy.caCert().toString(),
                "--requestheader-allowed-names", "front-proxy-client",
                "--handler-cert", pki.cert("client").toString(), "--handler-key", pki.key("client").toString(),
                "--handler-ca", pki.caCert().toString()), env, virtApiLog, log);
        virtApi.start();
        processes.add(virtApi);
        frontDoor.aggregate(new InetSocketAddress("127.0.0.1", virtApiPort),
                frontProxy.cert("front-proxy-client"), frontProxy.key("front-proxy-client"), pki.caCert(), layout.fakePolicy());

        for (int i = 1; i <= nodeCount; i++) {
            String node = Layout.nodeName(i);
            String address = "127.0." + i + ".1";
            List<String> argv = new ArrayList<>(List.of(root.resolve("bin/virt-handler").toString(),
                    "--node-name", node, "--kubeconfig", layout.kubeconfig().toString(), "--use-emulation",
                    "--device-plugin-dir", layout.node(node).resolve("device-plugins").toString(),
                    "--runtime-root", layout.node(node).resolve("run").toString(),
                    "--node-api-listen", address + ":8186",
                    "--tls-cert", pki.cert("handler-" + node).toString(),
                    "--tls-key", pki.key("handler-" + node).toString(),
                    "--tls-ca", pki.caCert().toString(),
                    "--metrics-listen", address + ":8443"));
            Map<String, String> henv = new HashMap<>(env);
            henv.put("NODE_NAME", node);
            Supervised h = new Supervised("virt-handler-" + node, argv, henv,
                    layout.logs().resolve("virt-handler-" + node + ".log"), log);
            h.start();
            processes.add(h);
        }

        statusWriter = new Thread(this::statusLoop, "sandbox-status");
        statusWriter.setDaemon(true);
        statusWriter.start();

        awaitReady(controllerLog, virtApiLog);
        writeStatus();
        writeAtomically(layout.readyFile(), ProcessHandle.current().pid() + "\n");
        log.info("ready: export KUBECONFIG=" + layout.kubeconfig());
    }

    private void awaitReady(Path controllerLog, Path virtApiLog) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + readyTimeout.toNanos();
        waitFor(deadline, "virt-controller running (its log says so)", () -> contains(controllerLog, "virt-controller: running"));
        waitFor(deadline, "virt-api serving (its log says so)", () -> contains(virtApiLog, "virt-api: running"));
        for (int i = 1; i <= nodeCount; i++) {
            String node = Layout.nodeName(i);
            waitFor(deadline, "virt-handler of " + node + " labelled its Node kubevirt.io/schedulable=true", () -> {
                Node n = client.nodes().withName(node).get();
                return n != null && n.getMetadata().getLabels() != null
                        && "true".equals(n.getMetadata().getLabels().get("kubevirt.io/schedulable"));
            });
            FakeNodeAgent agent = agents.get(i - 1);
            waitFor(deadline, "virt-handler of " + node + " registered its device plugin with the FAKE kubelet",
                    () -> !agent.deviceCounts().isEmpty());
        }
    }

    private void waitFor(long deadline, String what, BooleanSupplier cond) throws IOException, InterruptedException {
        while (true) {
            boolean ok;
            try {
                ok = cond.getAsBoolean();
            } catch (RuntimeException e) {
                ok = false;
            }
            if (ok) {
                log.info("ready: " + what);
                return;
            }
            for (Supervised s : processes) {
                if (!s.alive() && s.restarts() > 2) {
                    throw new IOException(s.name() + " keeps exiting; see " + s.log());
                }
            }
            if (System.nanoTime() > deadline) {
                throw new IOException("not ready within " + readyTimeout.toSeconds() + " s: " + what + "; logs in " + layout.logs());
            }
            Thread.sleep(100);
        }
    }

    private static boolean contains(Path file, String s) {
        try {
            return Files.exists(file) && Files.readString(file, StandardCharsets.ISO_8859_1).contains(s);
        } catch (IOException e) {
            return false;
        }
    }

    /** The rig's image store (containerDisk images), made on first use: DIR/images; loopback registries over plain HTTP. */
    private ImageStore images() {
        ImageStore s = imageStore;
        if (s == null) {
            synchronized (this) {
                if (imageStore == null) {
                    RegistryOptions o = new RegistryOptions(Map.of(), Set.of("127.0.0.1", "localhost"), DockerConfig.EMPTY,
                            Duration.ofSeconds(5), Duration.ofSeconds(30), Duration.ofSeconds(30));
                    imageStore = new ImageStore(layout.images(), new RegistryClient(o), null);
                }
                s = imageStore;
            }
        }
        return s;
    }

    /** A client through the front door, with its own User-Agent. */
    KubernetesClient newClient(String agent) throws IOException {
        KubernetesClient c = new KubernetesClientBuilder().withConfig(config(layout.kubeconfig(), agent))
                .withHttpClientFactory(new JdkHttpClientFactory()).build();
        clients.add(c);
        return c;
    }

    static Config config(Path kubeconfig, String agent) throws IOException {
        Config c = Config.fromKubeconfig(Files.readString(kubeconfig));
        c.setUserAgent(agent);
        return c;
    }

    static String kubeconfig(int port) {
        return "# qvirt-sandbox: the API server behind this address is fabric8's mock API server (CRUD mode),\n"
                + "# NOT a kube-apiserver, reached through the rig's front door.\n"
                + "apiVersion: v1\nkind: Config\n"
                + "clusters:\n- name: qvirt-sandbox\n  cluster:\n    server: http://127.0.0.1:" + port + "\n"
                + "# Users: FAKE authentication by the front door (tokens, no Kubernetes authentication); qvirt-sandbox is the\n"
                + "# admin, qvirt-sandbox-user may use kubevirt.io subresources in namespace default only (FAKE policy).\n"
                + "users:\n- name: qvirt-sandbox\n  user:\n    token: " + FakePolicy.ADMIN_TOKEN + "\n"
                + "- name: qvirt-sandbox-user\n  user:\n    token: " + FakePolicy.USER_TOKEN + "\n"
                + "contexts:\n- name: qvirt-sandbox\n  context:\n    cluster: qvirt-sandbox\n    user: qvirt-sandbox\n"
                + "    namespace: default\n"
                + "- name: qvirt-sandbox-user\n  context:\n    cluster: qvirt-sandbox\n    user: qvirt-sandbox-user\n"
                + "    namespace: default\n"
                + "current-context: qvirt-sandbox\n";
    }

    private static Map<String, String> childEnv() {
        Map<String, String> env = new HashMap<>(System.getenv());
        env.remove("KUBECONFIG");
        env.putIfAbsent("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
        return env;
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static long memTotal() {
        try {
            for (String l : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (l.startsWith("MemTotal:")) {
                    return Long.parseLong(l.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (IOException | NumberFormatException e) {
            // fall through
        }
        return 8L << 30;
    }

    // ---- status.json ----

    private void statusLoop() {
        while (stop.getCount() > 0) {
            try {
                writeStatus();
            } catch (IOException | RuntimeException e) {
                log.warn("cannot write " + layout.statusFile() + ": " + e);
            }
            try {
                if (stop.await(1, TimeUnit.SECONDS)) {
                    return;
                }
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    synchronized void writeStatus() throws IOException {
        if (stop.getCount() == 0) {
            return;
        }
        long self = ProcessHandle.current().pid();
        List<Map<String, Object>> comps = new ArrayList<>();
        comps.add(component("mock-api-server", self, 0, layout.logs().resolve("mock-api-server.log"),
                "fabric8 mock (CRUD), NOT a kube-apiserver, 127.0.0.1:" + mock.port()));
        comps.add(component("front-door", self, 0, layout.logs().resolve("front-door.log"),
                "127.0.0.1:" + frontDoor.address().getPort() + " -> the mock; aggregation and admission to virt-api; FAKE SubjectAccessReviews"));
        comps.add(component("fake-scheduler", self, 0, layout.logs().resolve("fake-scheduler.log"), "FAKE"));
        for (FakeNodeAgent a : agents) {
            comps.add(component("fake-node-agent-" + a.options().nodeName(), self, 0,
                    layout.logs().resolve("fake-node-agent-" + a.options().nodeName() + ".log"), "FAKE kubelet"));
        }
        for (Supervised s : processes) {
            comps.add(component(s.name(), s.pid(), s.restarts(), s.log(), "real process"));
        }
        List<Map<String, Object>> pods = new ArrayList<>();
        for (FakeNodeAgent a : agents) {
            for (FakeNodeAgent.PodInfo p : a.pods()) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("namespace", p.namespace());
                m.put("name", p.name());
                m.put("node", p.node());
                m.put("phase", p.phase());
                m.put("podIP", p.podIP());
                m.put("pids", p.pids());
                pods.add(m);
            }
        }
        Map<String, Object> st = new LinkedHashMap<>();
        st.put("pid", self);
        st.put("dir", layout.dir().toString());
        st.put("kubeconfig", layout.kubeconfig().toString());
        st.put("frontDoor", "127.0.0.1:" + frontDoor.address().getPort());
        st.put("components", comps);
        st.put("pods", pods);
        writeAtomically(layout.statusFile(), Serialization.asJson(st));
    }

    private static Map<String, Object> component(String name, long pid, int restarts, Path log, String note) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", name);
        m.put("pid", pid);
        m.put("restarts", restarts);
        m.put("log", log.toString());
        m.put("note", note);
        return m;
    }

    static void writeAtomically(Path file, String content) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.writeString(tmp, content);
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /** Blocks until {@link #close()} (the daemon's shutdown hook) runs. */
    public void awaitStop() throws InterruptedException {
        stop.await();
    }

    /** The supervised processes (tests). */
    public List<Supervised> processes() {
        return List.copyOf(processes);
    }

    /**
     * Stops everything, pods first (SIGTERM, SIGKILL after at most 10 s), then the handlers and the controller
     * (SIGTERM, SIGKILL after 10 s), then the in-process pieces; removes the pid and ready files.
     */
    @Override
    public synchronized void close() {
        stop.countDown();
        log.info("stopping");
        try {
            Files.deleteIfExists(layout.readyFile());
        } catch (IOException e) {
            // ignore
        }
        List<Thread> stoppers = new ArrayList<>();
        for (FakeNodeAgent a : agents) {
            Thread t = new Thread(a::close, "stop-" + a.options().nodeName());
            t.start();
            stoppers.add(t);
        }
        join(stoppers, 40);
        stoppers.clear();
        for (Supervised s : processes) {
            Thread t = new Thread(() -> s.stop(Duration.ofSeconds(10)), "stop-" + s.name());
            t.start();
            stoppers.add(t);
        }
        join(stoppers, 20);
        List<AutoCloseable> rest = new ArrayList<>();
        rest.add(scheduler);
        rest.add(provisioner);
        rest.addAll(clients);
        rest.add(client);
        rest.add(frontDoor);
        rest.add(mock);
        for (AutoCloseable c : rest) {
            if (c == null) {
                continue;
            }
            try {
                c.close();
            } catch (Exception e) {
                log.warn("closing " + c.getClass().getSimpleName() + ": " + e);
            }
        }
        try {
            Files.deleteIfExists(layout.statusFile());
            Files.deleteIfExists(layout.pidFile());
            if (lock != null) {
                lock.release();
                lockChannel.close();
            }
        } catch (IOException e) {
            log.warn("cleaning up: " + e);
        }
        log.info("stopped");
        log.close();
    }

    private static void join(List<Thread> threads, int seconds) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        for (Thread t : threads) {
            try {
                t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
