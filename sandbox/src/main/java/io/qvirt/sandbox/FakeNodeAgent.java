package io.qvirt.sandbox;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerState;
import io.fabric8.kubernetes.api.model.ContainerStateRunningBuilder;
import io.fabric8.kubernetes.api.model.ContainerStateTerminatedBuilder;
import io.fabric8.kubernetes.api.model.ContainerStateWaitingBuilder;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.HostIP;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodCondition;
import io.fabric8.kubernetes.api.model.PodIP;
import io.fabric8.kubernetes.api.model.PodStatus;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.qvirt.handler.deviceplugin.v1beta1.ListAndWatchResponse;
import io.qvirt.handler.deviceplugin.v1beta1.RegisterRequest;
import io.qvirt.launcher.image.ImageStore;
import io.qvirt.launcher.image.PullPolicy;
import io.qvirt.launcher.process.Child;
import io.qvirt.launcher.process.ExitStatus;
import io.qvirt.launcher.process.Signals;
import io.qvirt.launcher.process.SpawnSpec;
import io.qvirt.launcher.process.Spawner;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A FAKE node agent: the kubelet of one sandbox node, played on this machine without a container runtime.
 * It watches the pods bound to its node and runs each container's command, args and env as a local process
 * (see {@link PodCommands}), gives the pod its own loopback address {@code 127.0.<node>.<n>} (n >= 2) as
 * {@code status.podIP}, reports pod phase, conditions and container states as the kubelet does, and on
 * deletion sends SIGTERM to every container process, then SIGKILL after the grace period, and reaps them.
 *
 * <p>What it plays instead of doing: init containers are not run (reported Terminated, exit 0: the launcher
 * pod's only one copies busybox into an emptyDir, which nothing on the host needs); a containerDisk
 * container (one that mounts {@code /var/run/qvirt/container-disks}) has its image pulled into the rig's
 * image cache and its {@code /disk} directory published as the link {@code <pod's container-disks
 * dir>/<volume>} (after its FIFO {@code <volume>.alive}), then a {@code cat} of that FIFO stands for it (exit 0 when
 * the launcher's QEMU, which holds the FIFO, is gone, or on SIGTERM, as its trap does);
 * securityContext, resources and namespaces are not applied (processes run as this user on the host's
 * network). It also serves the kubelet's device-plugin side ({@link FakeKubelet}) and, as a kubelet does,
 * copies the healthy device count of each registered plugin into the Node's capacity and allocatable.
 */
public final class FakeNodeAgent implements AutoCloseable {
    static final String DISKS_DIR = "/var/run/qvirt/container-disks";
    private static final Pattern DISK_LINK = Pattern.compile(Pattern.quote(DISKS_DIR) + "/([A-Za-z0-9._-]+)");

    /**
     * @param nodeName   the Node this agent is the kubelet of
     * @param nodeIndex  i of {@code 127.0.<i>.*} (1..254)
     * @param nodeDir    the node's directory: {@code run/} (runtime root), {@code device-plugins/}, {@code pods/},
     *                   {@code host/} (fake root for other hostPaths)
     * @param binDir     this checkout's {@code bin/}
     * @param maxGrace   the most time a pod's processes get between SIGTERM and SIGKILL on {@link #close()}
     */
    public record Options(String nodeName, int nodeIndex, Path nodeDir, Path binDir, Duration maxGrace) {
        public Path runtimeRoot() {
            return nodeDir.resolve("run");
        }

        public Path devicePluginDir() {
            return nodeDir.resolve("device-plugins");
        }

        public String hostIP() {
            return "127.0." + nodeIndex + ".1";
        }
    }

    private final Options opt;
    private final KubernetesClient client;
    private final ComponentLog log;
    private final Supplier<ImageStore> images;
    private final Map<String, String> baseEnv;
    private final ExecutorService work;
    private final ExecutorService writer;
    private final Map<String, PodRun> pods = new ConcurrentHashMap<>();
    private final boolean[] usedIps = new boolean[256];
    private final AtomicBoolean closed = new AtomicBoolean();
    private SharedIndexInformer<Pod> informer;
    private FakeKubelet kubelet;
    private Thread devicePlugins;
    private final Map<String, Integer> deviceCounts = new ConcurrentHashMap<>();

    /**
     * @param images  the image store for containerDisk images (made on first use)
     * @param baseEnv the environment every container process starts from (PATH, HOME, ...)
     */
    public FakeNodeAgent(Options opt, KubernetesClient client, Supplier<ImageStore> images, Map<String, String> baseEnv,
                         ComponentLog log) {
        this.opt = opt;
        this.client = client;
        this.images = images;
        this.baseEnv = Map.copyOf(baseEnv);
        this.log = log;
        this.work = Executors.newCachedThreadPool(named("fake-node-agent-" + opt.nodeName() + "-work"));
        this.writer = Executors.newSingleThreadExecutor(named("fake-node-agent-" + opt.nodeName() + "-status"));
    }

    private static java.util.concurrent.ThreadFactory named(String name) {
        return r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        };
    }

    public Options options() {
        return opt;
    }

    /** Serves kubelet.sock, then watches pods. */
    public void start() throws IOException {
        Files.createDirectories(opt.runtimeRoot());
        Files.createDirectories(opt.devicePluginDir());
        Files.createDirectories(opt.nodeDir().resolve("pods"));
        kubelet = new FakeKubelet(opt.devicePluginDir());
        devicePlugins = new Thread(this::devicePluginLoop, "fake-node-agent-" + opt.nodeName() + "-device-plugins");
        devicePlugins.setDaemon(true);
        devicePlugins.start();
        log.info("FAKE node agent (FAKE kubelet) of " + opt.nodeName() + ": node IP " + opt.hostIP() + ", runtime root "
                + opt.runtimeRoot() + ", FAKE kubelet.sock in " + opt.devicePluginDir());
        informer = client.pods().inAnyNamespace().inform(new ResourceEventHandler<>() {
            @Override
            public void onAdd(Pod pod) {
                onPod(pod);
            }

            @Override
            public void onUpdate(Pod oldPod, Pod pod) {
                onPod(pod);
            }

            @Override
            public void onDelete(Pod pod, boolean unknownFinalState) {
                if (opt.nodeName().equals(pod.getSpec().getNodeName())) {
                    terminate(pod.getMetadata().getUid(), "pod deleted", null);
                }
            }
        }, 30_000);
    }

    /** Device plugins that registered with the FAKE kubelet so far (resource names). */
    public Map<String, Integer> deviceCounts() {
        return Map.copyOf(deviceCounts);
    }

    public FakeKubelet kubelet() {
        return kubelet;
    }

    /** Registrations -> ListAndWatch -> the Node's capacity and allocatable, as the kubelet's device manager. */
    private void devicePluginLoop() {
        List<Thread> watchers = new ArrayList<>();
        while (!closed.get()) {
            RegisterRequest r;
            try {
                r = kubelet.registrations.poll(500, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                break;
            }
            if (r == null) {
                continue;
            }
            log.info("device plugin registered with the FAKE kubelet: " + r.getResourceName() + " at " + r.getEndpoint());
            FakeKubelet.Watch w = kubelet.watch(r.getEndpoint());
            Thread t = new Thread(() -> {
                while (!closed.get() && w.ended() == null) {
                    ListAndWatchResponse list;
                    try {
                        list = w.next(500);
                    } catch (InterruptedException e) {
                        return;
                    }
                    if (list != null) {
                        int healthy = (int) list.getDevicesList().stream().filter(d -> "Healthy".equals(d.getHealth())).count();
                        deviceCounts.put(r.getResourceName(), healthy);
                        setNodeResource(r.getResourceName(), healthy);
                    }
                }
            }, "fake-node-agent-" + opt.nodeName() + "-listandwatch");
            t.setDaemon(true);
            t.start();
            watchers.add(t);
        }
    }

    private void setNodeResource(String resource, int count) {
        String esc = resource.replace("~", "~0").replace("/", "~1");
        String patch = "[{\"op\":\"add\",\"path\":\"/status/capacity/" + esc + "\",\"value\":\"" + count + "\"},"
                + "{\"op\":\"add\",\"path\":\"/status/allocatable/" + esc + "\",\"value\":\"" + count + "\"}]";
        try {
            client.nodes().withName(opt.nodeName()).subresource("status").patch(PatchContext.of(PatchType.JSON), patch);
            log.info("Node " + opt.nodeName() + ": " + resource + " = " + count + " healthy (from ListAndWatch)");
        } catch (KubernetesClientException e) {
            log.warn("cannot set " + resource + " on Node " + opt.nodeName() + ": " + e.getMessage());
        }
    }

    // ---- pods ----

    private void onPod(Pod pod) {
        if (closed.get() || !opt.nodeName().equals(pod.getSpec().getNodeName())) {
            return;
        }
        String uid = pod.getMetadata().getUid();
        if (pod.getMetadata().getDeletionTimestamp() != null) {
            terminate(uid, "deletionTimestamp set", pod.getMetadata().getDeletionGracePeriodSeconds());
            return;
        }
        PodRun known = pods.get(uid);
        if (known != null) {
            known.pod = pod;
            return;
        }
        String phase = pod.getStatus() == null ? null : pod.getStatus().getPhase();
        if ("Succeeded".equals(phase) || "Failed".equals(phase)) {
            return;
        }
        PodRun run;
        synchronized (this) {
            if (pods.containsKey(uid)) {
                return;
            }
            int n = allocateIp();
            if (n < 0) {
                log.warn("pod " + key(pod) + ": no free pod address left on " + opt.nodeName());
                return;
            }
            run = new PodRun(pod, n);
            pods.put(uid, run);
        }
        work.submit(() -> startPod(run));
    }

    private synchronized int allocateIp() {
        for (int n = 2; n < 255; n++) {
            if (!usedIps[n]) {
                usedIps[n] = true;
                return n;
            }
        }
        return -1;
    }

    private synchronized void releaseIp(int n) {
        usedIps[n] = false;
    }

    static String key(Pod p) {
        return p.getMetadata().getNamespace() + "/" + p.getMetadata().getName();
    }

    /** One pod on this node. */
    final class PodRun {
        volatile Pod pod;
        final String uid;
        final int ipIndex;
        final String ip;
        final Path podDir;
        final Instant startTime = Instant.now();
        final List<ContainerRun> containers = new ArrayList<>();
        final List<ContainerRun> initContainers = new ArrayList<>();
        final Map<String, String[]> conditions = new HashMap<>(); // type -> {status, lastTransitionTime}
        final AtomicBoolean writeQueued = new AtomicBoolean();
        volatile boolean terminating;
        volatile boolean gone;

        PodRun(Pod pod, int ipIndex) {
            this.pod = pod;
            this.uid = pod.getMetadata().getUid();
            this.ipIndex = ipIndex;
            this.ip = "127.0." + opt.nodeIndex() + "." + ipIndex;
            String shortUid = uid == null ? "nouid" : uid.substring(0, Math.min(8, uid.length()));
            this.podDir = opt.nodeDir().resolve("pods").resolve(pod.getMetadata().getNamespace() + "_"
                    + pod.getMetadata().getName() + "_" + shortUid);
            for (Container c : orEmpty(pod.getSpec().getInitContainers())) {
                initContainers.add(new ContainerRun(c));
            }
            for (Container c : orEmpty(pod.getSpec().getContainers())) {
                containers.add(new ContainerRun(c));
            }
        }

        String name() {
            return key(pod);
        }

        PodCommands.Placement placement() {
            return new PodCommands.Placement(opt.nodeName(), opt.hostIP(), ip, opt.runtimeRoot(),
                    opt.nodeDir().resolve("host"), podDir, opt.binDir());
        }
    }

    /** One container of a pod: its state as the kubelet reports it. */
    static final class ContainerRun {
        final Container spec;
        volatile String waitingReason = "ContainerCreating";
        volatile String waitingMessage;
        volatile Child child;
        volatile Instant startedAt;
        volatile Instant finishedAt;
        volatile ExitStatus exit;
        volatile String terminatedReason;
        volatile String terminatedMessage;
        volatile String imageID = "";

        ContainerRun(Container spec) {
            this.spec = spec;
        }

        boolean running() {
            return startedAt != null && finishedAt == null;
        }

        boolean terminated() {
            return finishedAt != null;
        }
    }

    private static <T> List<T> orEmpty(List<T> l) {
        return l == null ? List.of() : l;
    }

    private void startPod(PodRun run) {
        Pod pod = run.pod;
        log.info("pod " + run.name() + " (uid " + run.uid + "): starting on " + opt.nodeName() + " with pod IP " + run.ip
                + ", directory " + run.podDir);
        PodCommands.Placement at = run.placement();
        // A claim's volume is its FAKE PV's directory; the kubelet waits (ContainerCreating) until it is bound.
        Map<String, Path> claimDirs = new HashMap<>();
        for (io.fabric8.kubernetes.api.model.Volume v : orEmpty(pod.getSpec().getVolumes())) {
            if (v.getPersistentVolumeClaim() == null) {
                continue;
            }
            String claim = v.getPersistentVolumeClaim().getClaimName();
            Path dir = null;
            boolean told = false;
            while (!run.terminating && !closed.get() && (dir = claimDir(pod, claim)) == null) {
                if (!told) {
                    told = true;
                    for (ContainerRun cr : run.containers) {
                        waiting(run, cr, "ContainerCreating", "FAKE node agent: waiting for claim " + claim
                                + " to be bound to a PV");
                    }
                }
                sleep(500);
            }
            if (dir == null) {
                return;
            }
            claimDirs.put(claim, dir);
        }
        Map<String, Path> volumes = PodCommands.volumePaths(pod, at, claimDirs::get);
        try {
            Files.createDirectories(run.podDir);
            for (Path p : volumes.values()) {
                Files.createDirectories(p);
            }
        } catch (IOException e) {
            log.warn("pod " + run.name() + ": cannot make its directories", e);
        }
        Instant now = Instant.now();
        for (ContainerRun ic : run.initContainers) {
            // Not run: the only one qvirt's pods have copies busybox into an emptyDir, which no host process needs.
            ic.startedAt = now;
            // Everything a finished container reports, before finishedAt (what a status snapshot reads first).
            ic.exit = new ExitStatus(0, 0);
            ic.terminatedReason = "Completed";
            ic.terminatedMessage = "FAKE node agent: init containers are not run on the sandbox (no container runtime)";
            ic.finishedAt = now;
        }
        requestWrite(run);
        for (ContainerRun cr : run.containers) {
            Map<String, Path> mounts;
            try {
                mounts = PodCommands.mounts(cr.spec, volumes);
            } catch (PodCommands.Unrunnable e) {
                waiting(run, cr, e.reason, e.getMessage());
                continue;
            }
            if (cr.spec.getVolumeDevices() != null && !cr.spec.getVolumeDevices().isEmpty()) {
                waiting(run, cr, "CreateContainerConfigError", "FAKE node agent: volumeDevices (block-mode claims) need "
                        + "a block device, which the sandbox does not make: use a Filesystem claim");
                continue;
            }
            try {
                linkMountParents(run, cr, mounts);
            } catch (IOException e) {
                waiting(run, cr, "CreateContainerError", "FAKE node agent: " + e);
                continue;
            }
            if (isDiskContainer(cr.spec)) {
                work.submit(() -> runDiskContainer(run, cr, mounts));
            } else {
                runProcess(run, cr, mounts, at);
            }
        }
    }

    /**
     * A directory the container's command names (say the launcher's {@code --pvc-dir}) that holds mounts without being
     * one: in a container it is in the image's root; here a directory of links under the pod's {@code rootfs/}, one
     * per mount under it, added to {@code mounts} so the command's path maps to it.
     */
    private static void linkMountParents(PodRun run, ContainerRun cr, Map<String, Path> mounts) throws IOException {
        List<String> named = new ArrayList<>(orEmpty(cr.spec.getCommand()));
        named.addAll(orEmpty(cr.spec.getArgs()));
        for (Map.Entry<String, Map<String, Path>> p : PodCommands.mountParents(mounts).entrySet()) {
            if (!named.contains(p.getKey())) {
                continue;
            }
            Path host = run.podDir.resolve("rootfs").resolve(cr.spec.getName()).resolve(p.getKey().substring(1));
            Files.createDirectories(host);
            for (Map.Entry<String, Path> link : p.getValue().entrySet()) {
                Path l = host.resolve(link.getKey());
                Files.deleteIfExists(l);
                Files.createSymbolicLink(l, link.getValue());
            }
            mounts.put(p.getKey(), host);
        }
    }

    /** The host directory of the claim's FAKE PV ({@code hostPath}), or null while it is not bound. */
    private Path claimDir(Pod pod, String claim) {
        try {
            var pvc = client.persistentVolumeClaims().inNamespace(pod.getMetadata().getNamespace()).withName(claim).get();
            if (pvc == null || pvc.getStatus() == null || !"Bound".equals(pvc.getStatus().getPhase())
                    || pvc.getSpec().getVolumeName() == null) {
                return null;
            }
            var pv = client.persistentVolumes().withName(pvc.getSpec().getVolumeName()).get();
            return pv == null || pv.getSpec().getHostPath() == null ? null : Path.of(pv.getSpec().getHostPath().getPath());
        } catch (KubernetesClientException e) {
            log.warn("pod " + key(pod) + ": claim " + claim + " not readable: " + e.getMessage());
            return null;
        }
    }

    static boolean isDiskContainer(Container c) {
        for (VolumeMount m : orEmpty(c.getVolumeMounts())) {
            if (DISKS_DIR.equals(m.getMountPath()) && !Boolean.TRUE.equals(m.getReadOnly())) {
                return true;
            }
        }
        return false;
    }

    private void waiting(PodRun run, ContainerRun cr, String reason, String message) {
        cr.waitingReason = reason;
        cr.waitingMessage = message;
        log.warn("pod " + run.name() + " container " + cr.spec.getName() + ": " + reason + ": " + message);
        requestWrite(run);
    }

    private Map<String, String> processEnv(Map<String, String> containerEnv) {
        Map<String, String> env = new LinkedHashMap<>(baseEnv);
        env.putAll(containerEnv);
        env.put("QVIRT_RUNTIME_ROOT", opt.runtimeRoot().toString());
        return env;
    }

    private void runProcess(PodRun run, ContainerRun cr, Map<String, Path> mounts, PodCommands.Placement at) {
        List<String> argv;
        Map<String, String> env;
        try {
            env = PodCommands.env(cr.spec, run.pod, at, mounts);
            argv = PodCommands.argv(cr.spec, env, mounts, opt.binDir(), baseEnv.get("PATH"));
        } catch (PodCommands.Unrunnable e) {
            waiting(run, cr, e.reason, e.getMessage());
            return;
        }
        spawn(run, cr, argv, processEnv(env));
    }

    private void spawn(PodRun run, ContainerRun cr, List<String> argv, Map<String, String> env) {
        Path logFile = run.podDir.resolve(cr.spec.getName() + ".log");
        synchronized (run) {
            if (run.terminating) {
                return;
            }
            Child c;
            try {
                c = Spawner.spawn(new SpawnSpec(Path.of(argv.get(0)), argv, env, List.of(), null, logFile, logFile, true,
                        "pod-" + run.pod.getMetadata().getName() + "-" + cr.spec.getName()));
            } catch (RuntimeException e) {
                waiting(run, cr, "CreateContainerError", "FAKE node agent cannot start " + argv.get(0) + ": " + e.getMessage());
                return;
            }
            cr.child = c;
            cr.startedAt = Instant.now();
            cr.waitingReason = null;
            log.info("pod " + run.name() + " container " + cr.spec.getName() + ": pid " + c.pid() + ": "
                    + abbreviate(String.join(" ", argv)) + " (log " + logFile + ")");
            c.exit().whenComplete((st, err) -> {
                ExitStatus ended = st != null ? st : new ExitStatus(-1, 0);
                cr.exit = ended;
                cr.terminatedReason = exitCode(ended) == 0 ? "Completed" : "Error";
                cr.finishedAt = Instant.now(); // last: a status snapshot that sees it finished finds the rest
                log.info("pod " + run.name() + " container " + cr.spec.getName() + " (pid " + c.pid() + ") ended: "
                        + cr.exit.describe());
                requestWrite(run);
            });
        }
        requestWrite(run);
    }

    static int exitCode(ExitStatus st) {
        return st.bySignal() ? 128 + st.signal() : st.code();
    }

    private static String abbreviate(String s) {
        return s.length() > 300 ? s.substring(0, 300) + "..." : s;
    }

    /** Pull, publish /disk as the volume's link, then a long-lived process that ends 0 on SIGTERM. */
    private void runDiskContainer(PodRun run, ContainerRun cr, Map<String, Path> mounts) {
        String image = cr.spec.getImage();
        String script = String.join(" ", orEmpty(cr.spec.getCommand())) + " " + String.join(" ", orEmpty(cr.spec.getArgs()));
        Matcher m = DISK_LINK.matcher(script);
        // The script names the volume's FIFO (<volume>.alive) as well as its link.
        String volume = m.find() ? m.group(1).replaceFirst("\\.alive$", "") : cr.spec.getName().replaceFirst("^volume", "");
        Path link = Path.of(PodCommands.mapPath(DISKS_DIR + "/" + volume, mounts));
        Path fifo = link.resolveSibling(volume + ".alive");
        PullPolicy policy;
        try {
            policy = cr.spec.getImagePullPolicy() == null ? PullPolicy.IF_NOT_PRESENT
                    : PullPolicy.parse(cr.spec.getImagePullPolicy(), "imagePullPolicy");
        } catch (IllegalArgumentException e) {
            waiting(run, cr, "InvalidImageName", e.getMessage());
            return;
        }
        long backoff = 10_000;
        Path diskDir = null;
        while (!run.terminating && !closed.get()) {
            try {
                long t0 = System.nanoTime();
                ImageStore store = images.get();
                ImageStore.Image img = store.resolve(image, policy);
                diskDir = store.disk(img, null).path().getParent();
                cr.imageID = repository(image) + "@" + img.manifest().digest();
                log.info("pod " + run.name() + " container " + cr.spec.getName() + ": image " + image + " "
                        + (img.fromCache() ? "from the rig's cache" : "pulled") + " in "
                        + (System.nanoTime() - t0) / 1_000_000 + " ms: " + diskDir);
                break;
            } catch (RuntimeException e) {
                waiting(run, cr, backoff == 10_000 ? "ErrImagePull" : "ImagePullBackOff", String.valueOf(e.getMessage()));
                long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(backoff);
                while (System.nanoTime() < until && !run.terminating && !closed.get()) {
                    sleep(100);
                }
                backoff = Math.min(300_000, backoff * 2);
            }
        }
        if (diskDir == null) {
            return;
        }
        try {
            Files.createDirectories(link.getParent());
            Files.deleteIfExists(link);
            Files.deleteIfExists(fifo);
            // As the real script: the FIFO before the link, which the launcher waits for and then opens the FIFO.
            Process mk = new ProcessBuilder("/usr/bin/mkfifo", fifo.toString()).redirectErrorStream(true).start();
            String out = new String(mk.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            if (mk.waitFor() != 0) {
                throw new IOException("mkfifo " + fifo + ": " + out.strip());
            }
            Files.createSymbolicLink(link, diskDir);
        } catch (IOException e) {
            waiting(run, cr, "CreateContainerError", "cannot publish " + link + ": " + e);
            return;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        }
        // A real disk container reads its FIFO until the last writer (the launcher, then QEMU) is gone and exits 0;
        // its shell traps TERM and exits 0, and the reader dies with it (pdeathsig here).
        List<String> argv = List.of("/bin/sh", "-c", "trap 'exit 0' TERM; /usr/bin/setpriv --pdeathsig KILL -- "
                + "/bin/cat '" + fifo.toString().replace("'", "'\\''") + "' >/dev/null & wait");
        spawn(run, cr, argv, processEnv(Map.of()));
    }

    /** The image name without its tag or digest ({@code 127.0.0.1:5000/qvirt/guest}). */
    static String repository(String image) {
        String s = image;
        int at = s.indexOf('@');
        if (at >= 0) {
            s = s.substring(0, at);
        }
        int colon = s.indexOf(':', s.lastIndexOf('/') + 1);
        return colon >= 0 ? s.substring(0, colon) : s;
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Stops a pod's processes: SIGTERM, SIGKILL after the grace period, reaped; then its directory goes and its
     * address is free again. Returns at once; the work runs on the agent's pool.
     */
    public CompletableFuture<Void> terminate(String uid, String why, Long graceOverride) {
        PodRun run = pods.get(uid);
        if (run == null) {
            return CompletableFuture.completedFuture(null);
        }
        synchronized (run) {
            if (run.terminating) {
                return CompletableFuture.completedFuture(null);
            }
            run.terminating = true;
        }
        return CompletableFuture.runAsync(() -> stopPod(run, why, graceOverride), work);
    }

    private void stopPod(PodRun run, String why, Long graceOverride) {
        long grace = graceOverride != null ? graceOverride
                : run.pod.getSpec().getTerminationGracePeriodSeconds() != null
                ? run.pod.getSpec().getTerminationGracePeriodSeconds() : 30;
        if (closed.get()) {
            grace = Math.min(grace, opt.maxGrace().toSeconds());
        }
        List<ContainerRun> alive = run.containers.stream().filter(c -> c.child != null && c.child.isAlive()).toList();
        log.info("pod " + run.name() + ": " + why + ": SIGTERM to " + alive.size() + " container process(es), SIGKILL after "
                + grace + " s");
        for (ContainerRun c : alive) {
            c.child.signal(Signals.SIGTERM);
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(grace);
        for (ContainerRun c : alive) {
            try {
                c.child.exit().get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (Exception e) {
                log.warn("pod " + run.name() + " container " + c.spec.getName() + " (pid " + c.child.pid()
                        + ") still running after the grace period: SIGKILL");
                c.child.signal(Signals.SIGKILL);
            }
        }
        for (ContainerRun c : alive) {
            try {
                c.child.exit().get(10, TimeUnit.SECONDS);
            } catch (Exception e) {
                log.warn("pod " + run.name() + " container " + c.spec.getName() + " (pid " + c.child.pid()
                        + ") not reaped 10 s after SIGKILL");
            }
        }
        run.gone = true;
        deleteTree(run.podDir);
        pods.remove(run.uid);
        releaseIp(run.ipIndex);
        log.info("pod " + run.name() + ": stopped and cleaned up (" + run.podDir + " removed, " + run.ip + " free)");
        if (run.pod.getMetadata().getDeletionTimestamp() != null && !closed.get()) {
            try {
                client.pods().inNamespace(run.pod.getMetadata().getNamespace()).withName(run.pod.getMetadata().getName())
                        .withGracePeriod(0).delete();
            } catch (KubernetesClientException e) {
                log.warn("pod " + run.name() + ": final delete failed: " + e.getMessage());
            }
        }
    }

    static void deleteTree(Path dir) {
        if (!Files.exists(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            // Best effort: a file the launcher still writes may come back; the next `up` clears the node dir.
        }
    }

    // ---- status ----

    private void requestWrite(PodRun run) {
        if (run.writeQueued.compareAndSet(false, true)) {
            writer.submit(() -> {
                run.writeQueued.set(false);
                writeStatus(run);
            });
        }
    }

    private void writeStatus(PodRun run) {
        if (run.gone) {
            return;
        }
        // Up to 3 tries, 200 ms apart: a write lost to a transient error would leave the pod's status stale.
        for (int attempt = 1; attempt <= 3 && !run.gone && !closed.get(); attempt++) {
            PodStatus st = status(run);
            String patch = "[{\"op\":\"add\",\"path\":\"/status\",\"value\":" + Serialization.asJson(st) + "}]";
            try {
                client.pods().inNamespace(run.pod.getMetadata().getNamespace()).withName(run.pod.getMetadata().getName())
                        .subresource("status").patch(PatchContext.of(PatchType.JSON), patch);
                return;
            } catch (KubernetesClientException e) {
                if (e.getCode() == 404) {
                    return; // deleted: nothing to report to
                }
                log.warn("pod " + run.name() + ": status write failed (try " + attempt + " of 3): " + e.getMessage());
                sleep(200);
            }
        }
    }

    /** The pod's status as the kubelet would report it now. */
    PodStatus status(PodRun run) {
        PodStatus st = new PodStatus();
        st.setHostIP(opt.hostIP());
        st.setHostIPs(List.of(new HostIP(opt.hostIP())));
        st.setPodIP(run.ip);
        st.setPodIPs(List.of(new PodIP(run.ip)));
        st.setStartTime(ts(run.startTime));
        st.setQosClass(qosClass(run.pod));
        List<ContainerStatus> init = new ArrayList<>();
        for (ContainerRun c : run.initContainers) {
            init.add(containerStatus(c));
        }
        List<ContainerStatus> cs = new ArrayList<>();
        for (ContainerRun c : run.containers) {
            cs.add(containerStatus(c));
        }
        st.setInitContainerStatuses(init);
        st.setContainerStatuses(cs);
        // The phase from the same snapshot as the container statuses (a container may start meanwhile: a kubelet
        // never reports a Running pod whose container has no ID).
        boolean allEnded = !cs.isEmpty() && cs.stream().allMatch(c -> c.getState().getTerminated() != null);
        boolean allStarted = cs.stream().allMatch(c -> c.getState().getWaiting() == null);
        boolean anyRunning = cs.stream().anyMatch(c -> c.getState().getRunning() != null);
        boolean allRunning = !cs.isEmpty() && cs.stream().allMatch(c -> c.getState().getRunning() != null);
        String phase;
        if (allEnded) {
            phase = cs.stream().allMatch(c -> c.getState().getTerminated().getExitCode() == 0) ? "Succeeded" : "Failed";
        } else if (allStarted && anyRunning) {
            phase = "Running";
        } else {
            phase = "Pending";
        }
        st.setPhase(phase);
        List<PodCondition> conds = new ArrayList<>();
        synchronized (run.conditions) {
            conds.add(condition(run, "PodScheduled", true, null));
            conds.add(condition(run, "Initialized", true, null));
            String notReady = allEnded ? "PodCompleted" : "ContainersNotReady";
            conds.add(condition(run, "ContainersReady", allRunning, allRunning ? null : notReady));
            conds.add(condition(run, "Ready", allRunning, allRunning ? null : notReady));
        }
        st.setConditions(conds);
        return st;
    }

    private static PodCondition condition(PodRun run, String type, boolean ok, String reason) {
        String status = ok ? "True" : "False";
        String[] prev = run.conditions.get(type);
        if (prev == null || !prev[0].equals(status)) {
            prev = new String[] {status, ts(Instant.now())};
            run.conditions.put(type, prev);
        }
        PodCondition c = new PodCondition();
        c.setType(type);
        c.setStatus(status);
        c.setLastTransitionTime(prev[1]);
        c.setReason(reason);
        return c;
    }

    private ContainerStatus containerStatus(ContainerRun c) {
        ContainerState state = new ContainerState();
        // One snapshot, read in the reverse of the order the starter and reaper write (child, then startedAt; exit,
        // then finishedAt): a container seen started has its child, one seen finished its exit.
        Instant finished = c.finishedAt;
        Instant started = c.startedAt;
        Child child = c.child;
        String containerID = child == null ? null : "fake://" + opt.nodeName() + "/" + child.pid();
        boolean running = started != null && finished == null;
        if (finished != null) {
            ExitStatus e = c.exit;
            state.setTerminated(new ContainerStateTerminatedBuilder().withExitCode(exitCode(e))
                    .withSignal(e.bySignal() ? e.signal() : null).withReason(c.terminatedReason)
                    .withMessage(c.terminatedMessage).withStartedAt(ts(c.startedAt)).withFinishedAt(ts(c.finishedAt))
                    .withContainerID(containerID).build());
        } else if (running) {
            state.setRunning(new ContainerStateRunningBuilder().withStartedAt(ts(started)).build());
        } else {
            state.setWaiting(new ContainerStateWaitingBuilder().withReason(c.waitingReason).withMessage(c.waitingMessage).build());
        }
        return new ContainerStatusBuilder().withName(c.spec.getName()).withImage(c.spec.getImage())
                .withImageID(c.imageID).withContainerID(containerID).withReady(running)
                .withStarted(running).withRestartCount(0).withState(state).build();
    }

    /** Kubernetes' QoS class: Guaranteed (every container's cpu and memory limits = requests), BestEffort, else Burstable. */
    static String qosClass(Pod pod) {
        boolean any = false;
        boolean guaranteed = true;
        for (Container c : orEmpty(pod.getSpec().getContainers())) {
            Map<String, Quantity> req = c.getResources() == null || c.getResources().getRequests() == null ? Map.of()
                    : c.getResources().getRequests();
            Map<String, Quantity> lim = c.getResources() == null || c.getResources().getLimits() == null ? Map.of()
                    : c.getResources().getLimits();
            any |= !req.isEmpty() || !lim.isEmpty();
            for (String r : List.of("cpu", "memory")) {
                Quantity l = lim.get(r);
                Quantity q = req.getOrDefault(r, l);
                if (l == null || q == null || l.getNumericalAmount().compareTo(q.getNumericalAmount()) != 0) {
                    guaranteed = false;
                }
            }
        }
        return !any ? "BestEffort" : guaranteed ? "Guaranteed" : "Burstable";
    }

    private static String ts(Instant t) {
        return t == null ? null : t.truncatedTo(ChronoUnit.SECONDS).toString();
    }

    // ---- for status and tests ----

    /** A pod as this agent runs it. */
    public record PodInfo(String namespace, String name, String uid, String node, String podIP, String phase,
                          Map<String, Long> pids) {
    }

    public List<PodInfo> pods() {
        List<PodInfo> out = new ArrayList<>();
        for (PodRun r : pods.values()) {
            Map<String, Long> pids = new LinkedHashMap<>();
            for (ContainerRun c : r.containers) {
                Child ch = c.child;
                pids.put(c.spec.getName(), ch != null && ch.isAlive() ? ch.pid() : -1L);
            }
            out.add(new PodInfo(r.pod.getMetadata().getNamespace(), r.pod.getMetadata().getName(), r.uid, opt.nodeName(),
                    r.ip, status(r).getPhase(), pids));
        }
        return out;
    }

    /** Stops every pod (SIGTERM, SIGKILL after at most {@code maxGrace}), the watch and the FAKE kubelet. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        if (informer != null) {
            informer.close();
        }
        List<CompletableFuture<Void>> stops = new ArrayList<>();
        for (PodRun r : List.copyOf(pods.values())) {
            synchronized (r) {
                r.terminating = false; // let terminate() take it even if a delete was already under way
            }
            stops.add(terminate(r.uid, "node agent stopping", null));
        }
        try {
            CompletableFuture.allOf(stops.toArray(CompletableFuture[]::new))
                    .get(opt.maxGrace().toSeconds() + 20, TimeUnit.SECONDS);
        } catch (Exception e) {
            log.warn("pods not all stopped in time: " + e);
        }
        writer.shutdownNow();
        work.shutdownNow();
        if (devicePlugins != null) {
            devicePlugins.interrupt();
        }
        if (kubelet != null) {
            kubelet.close();
        }
        log.info("FAKE node agent of " + opt.nodeName() + " stopped");
    }
}
