package io.qvirt.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.qvirt.api.ManifestLoader;
import io.qvirt.api.VirtualMachine;
import io.qvirt.api.VirtualMachineInstance;
import io.qvirt.testdata.GuestMarkers;
import io.qvirt.testdata.TestGuest;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The images of {@code images/build.sh} (built without a Docker engine: umoci) run as a container runtime
 * would run them: each OCI image is unpacked with {@code umoci unpack}, and its entrypoint, user and
 * environment are taken from the image's own config and run in the unpacked root ({@code chroot}, in a
 * private mount namespace with {@code /proc}, {@code /dev} and the pod's volumes, the root read-only as the
 * pod's {@code readOnlyRootFilesystem} asks; no container runtime is installed here).
 *
 * <p>Then the launcher pod that {@link LauncherPods} builds for the seed-shaped VM ({@code testdata/testvm.yaml}:
 * containerDisk, the seed's cloud-init, masquerade) is played container by container, with the commands,
 * uid and mounts the pod spec gives: the init container copies busybox out of the launcher image, the
 * containerDisk container (the test guest's real containerDisk image) publishes its {@code /disk}, and the
 * compute container ({@code launcher exec}) becomes real QEMU (TCG) and waits for {@code cont}, which the
 * host's {@code bin/launcher unpause} sends through {@code qmp.sock} as the handler would. No API server is
 * involved: the pod spec is only read.
 *
 * <p>What this does not cover: a kubelet (image pulls, cgroups, the pod network, seccomp).
 */
class ImagesIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path ROOT = TestGuest.projectRoot();
    private static final String TAG = "it";
    private static Path work;
    private static final List<Process> started = new ArrayList<>();

    @BeforeAll
    static void build() throws Exception {
        work = Files.createTempDirectory("qvirt-images-it");
        Result r = run(List.of(ROOT.resolve("images/build.sh").toString(), "--out", work.resolve("oci").toString(),
                "--tag", TAG, "virt-launcher", "virt-controller", "virt-handler"), Map.of(), Duration.ofMinutes(5));
        assertEquals(0, r.code, "images/build.sh (needs launcher, handler and controller packaged): " + r.err);
        for (String image : List.of("virt-launcher", "virt-controller", "virt-handler")) {
            assertTrue(r.out.contains(image + ":" + TAG), r.out);
        }
    }

    @AfterAll
    static void cleanUp() throws Exception {
        for (Process p : started) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
        }
        if (work != null) {
            run(List.of("rm", "-rf", work.toString()), Map.of(), Duration.ofMinutes(1));
        }
    }

    @Test
    void eachImageRunsItsEntrypointAsTheQemuUser() throws Exception {
        for (String[] image : new String[][] {{"virt-launcher", "Usage: launcher", "107:107"},
                                              {"virt-controller", "Usage: virt-controller", "107:107"},
                                              {"virt-handler", "Usage: virt-handler", "0:0"}}) {
            Bundle b = unpack(image[0]);
            assertEquals(image[2], b.uid + ":" + b.gid, image[0] + ": the image's user");
            List<String> args = new ArrayList<>(b.entrypoint);
            args.add("--help");
            Result r = b.runAs(b.uid, args, Map.of(), Duration.ofSeconds(60), Map.of());
            assertEquals(0, r.code, image[0] + " " + args + ": " + r.err);
            assertTrue(r.out.contains(image[1]), image[0] + " --help printed: " + r.out);
        }
    }

    @Test
    void theHandlerImageProbesKvmAndServesItsDevicePluginSocket() throws Exception {
        // No kubelet here: the handler must get as far as probing /dev/kvm (jnr-ffi) and serving its gRPC
        // socket (Netty's epoll natives) inside its image, then say that no kubelet socket is there.
        Bundle b = unpack("virt-handler");
        Path dp = dir("device-plugins");
        List<String> args = new ArrayList<>(b.entrypoint);
        args.addAll(List.of("--no-labels", "--no-vmis", "--device-plugin-dir", "/var/lib/kubelet/device-plugins"));
        // The DaemonSet's root is writable; here only /tmp is (Netty and jnr-ffi unpack their natives there).
        Result r = b.runAs(b.uid, args, Map.of(), Duration.ofSeconds(60),
                Map.of(dp, "/var/lib/kubelet/device-plugins", dir("handler-tmp"), "/tmp"));
        assertEquals(1, r.code, r.out + r.err);
        assertTrue(r.err.contains("no kubelet socket at /var/lib/kubelet/device-plugins/kubelet.sock"), r.err);
    }

    @Test
    void theLauncherPodBootsTheSeedShapedVmFromItsImages() throws Exception {
        VirtualMachine vm = ManifestLoader.loadOne(TestGuest.testVmYaml()).vm();
        VirtualMachineInstance vmi = new VirtualMachineInstance();
        vmi.setMetadata(new ObjectMetaBuilder().withName("testvm").withNamespace("default")
                .withUid(UUID.randomUUID().toString()).build());
        vmi.setSpec(vm.getSpec().getTemplate().getSpec());
        Pod pod = LauncherPods.build(vmi, new ClusterConfig(true, "127.0.0.1:5000/qvirt", TAG, List.of()));
        Container init = pod.getSpec().getInitContainers().get(0);
        Container compute = pod.getSpec().getContainers().get(0);
        Container disk = pod.getSpec().getContainers().get(1);
        assertEquals("compute", compute.getName());
        long uid = pod.getSpec().getSecurityContext().getRunAsUser();

        Bundle launcher = unpack("virt-launcher");
        Bundle guestDisk = unpackLayout(TestGuest.get().ociLayout(), "guest", "containerdisk");
        assertEquals(107, uid, "the pod runs as KubeVirt's qemu user");

        // The pod's emptyDirs and the hostPath runtime root, owned by the pod's fsGroup as the kubelet makes them.
        Path qvirtBin = dir("qvirt-bin");
        Path disks = dir("container-disks");
        Path runtime = dir("runtime");
        Path tmp = dir("tmp");

        // 1. init container, in the launcher image.
        Result ri = launcher.runAs(uid, init.getCommand(), env(init), Duration.ofSeconds(30),
                Map.of(qvirtBin, mountPath(init, "qvirt-bin")));
        assertEquals(0, ri.code, "init container " + init.getCommand() + ": " + ri.err);
        assertTrue(Files.isExecutable(qvirtBin.resolve("busybox")), "busybox copied out of the launcher image");

        // 2. the containerDisk container, in the guest's containerDisk image (FROM scratch: only /disk).
        Process dp = guestDisk.startAs(uid, disk.getCommand(), env(disk), Map.of(
                qvirtBin, mountPath(disk, "qvirt-bin"), disks, mountPath(disk, "container-disks")),
                work.resolve("disk.out"));
        Path link = disks.resolve("containerdisk");
        MockApi.await(Duration.ofSeconds(20), "the disk container publishes its /disk", () -> Files.isSymbolicLink(link));
        assertTrue(Files.readSymbolicLink(link).toString().matches("/proc/\\d+/root/disk"), link.toString());

        // 3. compute: launcher exec becomes QEMU; $(POD_IP) as the kubelet expands it.
        List<String> cmd = new ArrayList<>();
        for (String a : compute.getCommand()) {
            cmd.add(a.replace("$(POD_IP)", "127.0.0.1"));
        }
        assertTrue(cmd.contains("--container-disk-dir"), cmd.toString());
        Map<String, Path> mounts = new LinkedHashMap<>();
        mounts.put(mountPath(compute, "runtime"), runtime);
        mounts.put(mountPath(compute, "tmp"), tmp);
        mounts.put(mountPath(compute, "container-disks"), disks);
        Map<Path, String> binds = new LinkedHashMap<>();
        mounts.forEach((inside, host) -> binds.put(host, inside));
        Process qemu = launcher.startAs(uid, cmd, env(compute), binds, work.resolve("compute.out"));
        Path vmDir = runtime.resolve("default/testvm");
        MockApi.await(Duration.ofSeconds(90), "launcher.json from launcher exec in the image",
                () -> Files.exists(vmDir.resolve("launcher.json")) || !qemu.isAlive());
        assertTrue(qemu.isAlive(), "launcher exec exited: " + Files.readString(work.resolve("compute.out")));
        JsonNode state = JSON.readTree(vmDir.resolve("launcher.json").toFile());
        assertEquals("tcg", state.path("accelerator").asText(), state.toString());

        // The handler's part, played by the host's launcher CLI on the pod's qmp.sock.
        Map<String, String> host = Map.of("QVIRT_RUNTIME_ROOT", runtime.toString());
        Result up = run(List.of(ROOT.resolve("bin/launcher").toString(), "unpause", "testvm"), host, Duration.ofSeconds(60));
        assertEquals(0, up.code, "unpause: " + up.out + up.err);
        // QMP from inside the launcher image too (Netty's epoll natives load there): `launcher status` as a
        // second manager beside the host's, on the same qmp.sock.
        Result st = launcher.runAs(uid, List.of("launcher", "status", "testvm"), env(compute), Duration.ofSeconds(60),
                Map.of(runtime, mountPath(compute, "runtime"), dir("status-tmp"), "/tmp"));
        assertEquals(0, st.code, "launcher status in the image: " + st.out + st.err);
        assertTrue(st.out.contains("VM default/testvm: Running"), st.out);
        Path log = vmDir.resolve("console.log");
        String console = awaitConsole(log, GuestMarkers.PROMPT_PATTERN, Duration.ofSeconds(120));
        Matcher ci = GuestMarkers.CLOUDINIT.matcher(console);
        assertTrue(ci.find(), console);
        assertEquals("testvm.default", ci.group(1));
        assertEquals(sha256(SEED_USER_DATA), ci.group(2), "the seed's exact user-data bytes");
        Matcher net = GuestMarkers.NET.matcher(console);
        assertTrue(net.find() && net.group(1).startsWith("10.0.2.2"), console);
        assertTrue(Files.exists(vmDir.resolve("disks/containerdisk.qcow2")), "the VM's own overlay on the published disk");

        Result down = run(List.of(ROOT.resolve("bin/launcher").toString(), "shutdown", "testvm"), host,
                Duration.ofSeconds(90));
        assertEquals(0, down.code, "shutdown: " + down.out + down.err);
        assertTrue(qemu.waitFor(60, TimeUnit.SECONDS), "QEMU (the compute container's process) exited");
        System.err.println("ImagesIT: launcher shutdown printed: " + down.out + down.err);
        // The disk container reads its <volume>.alive FIFO, which the launcher opened and QEMU held: with QEMU gone
        // it ends by itself with 0, as KubeVirt's container-disk does, so the pod can end (its SIGTERM exit is
        // DiskContainerScriptTest's).
        List<ProcessHandle> diskProcs = dp.descendants().toList();
        assertTrue(dp.waitFor(20, TimeUnit.SECONDS), "the disk container ends with QEMU: "
                + Files.readString(work.resolve("disk.out")));
        assertEquals(0, dp.exitValue(), "the disk container's exit status");
        diskProcs.forEach(ProcessHandle::destroyForcibly);
    }

    // ---- helpers ----

    /** The seed's {@code userDataBase64: SGkuXG4=}: "Hi.\n" with a literal backslash, 5 bytes. */
    private static final byte[] SEED_USER_DATA = java.util.Base64.getDecoder().decode("SGkuXG4=");

    private record Result(int code, String out, String err) {}

    /** An unpacked image: its root and what its config says to run, as whom, with which environment. */
    private record Bundle(Path rootfs, List<String> entrypoint, long uid, long gid, Map<String, String> env) {
        Result runAs(long user, List<String> args, Map<String, String> extraEnv, Duration timeout, Map<Path, String> binds)
                throws Exception {
            return ImagesIT.run(command(user, args, extraEnv, binds), Map.of(), timeout);
        }

        Process startAs(long user, List<String> args, Map<String, String> extraEnv, Map<Path, String> binds, Path out)
                throws IOException {
            Process p = new ProcessBuilder(command(user, args, extraEnv, binds)).redirectErrorStream(true)
                    .redirectOutput(out.toFile()).start();
            started.add(p);
            return p;
        }

        /**
         * {@code unshare --mount --fork}: the mounts below vanish with the last process; then the image's
         * environment (config, then the container's own) with nothing of the test's, and {@code chroot} as
         * {@code user}. Arguments go through as argv, never through a shell string.
         */
        private List<String> command(long user, List<String> args, Map<String, String> extraEnv, Map<Path, String> binds) {
            StringBuilder script = new StringBuilder("set -e; r=\"$1\"; shift; mount --bind \"$r\" \"$r\"; "
                    + "mount -t proc proc \"$r/proc\"; mount --bind /dev \"$r/dev\"; ");
            List<String> argv = new ArrayList<>(List.of("unshare", "--mount", "--fork", "--", "sh", "-c", "", "sh",
                    rootfs.toString()));
            for (Map.Entry<Path, String> b : binds.entrySet()) {
                // sources and targets as positional parameters, shifted off before the command
                script.append("mkdir -p \"$r$2\"; mount --bind \"$1\" \"$r$2\"; shift 2; ");
                argv.add(b.getKey().toString());
                argv.add(b.getValue());
            }
            // readOnlyRootFilesystem, as the pod's security context asks: only the volumes are writable.
            script.append("mount -o remount,bind,ro \"$r\"; ");
            Map<String, String> e = new LinkedHashMap<>(env);
            e.putAll(extraEnv);
            script.append("exec env -i");
            for (Map.Entry<String, String> v : e.entrySet()) {
                script.append(" '").append(v.getKey()).append('=').append(v.getValue().replace("'", "'\\''")).append('\'');
            }
            script.append(" chroot --userspec=").append(user).append(':').append(user).append(" \"$r\" \"$@\"");
            argv.set(6, script.toString());
            argv.addAll(args);
            return argv;
        }
    }

    private static Bundle unpack(String image) throws Exception {
        return unpackLayout(work.resolve("oci").resolve(image), TAG, image);
    }

    private static Bundle unpackLayout(Path layout, String ref, String name) throws Exception {
        Path bundle = Files.createTempDirectory(work, "bundle-" + name + "-");
        Files.delete(bundle); // umoci makes it
        Result r = run(List.of("umoci", "unpack", "--image", layout + ":" + ref, bundle.toString()), Map.of(),
                Duration.ofMinutes(2));
        assertEquals(0, r.code, "umoci unpack " + layout + ":" + ref + ": " + r.err);
        Files.createDirectories(bundle.resolve("rootfs/proc"));
        Files.createDirectories(bundle.resolve("rootfs/dev"));
        JsonNode process = JSON.readTree(bundle.resolve("config.json").toFile()).path("process");
        List<String> entry = new ArrayList<>();
        process.path("args").forEach(a -> entry.add(a.asText()));
        Map<String, String> env = new LinkedHashMap<>();
        process.path("env").forEach(v -> {
            String s = v.asText();
            env.put(s.substring(0, s.indexOf('=')), s.substring(s.indexOf('=') + 1));
        });
        return new Bundle(bundle.resolve("rootfs"), entry, process.path("user").path("uid").asLong(),
                process.path("user").path("gid").asLong(), env);
    }

    private static Path dir(String name) throws Exception {
        Path d = Files.createDirectories(work.resolve("pod").resolve(name));
        assertEquals(0, run(List.of("chown", "107:107", d.toString()), Map.of(), Duration.ofSeconds(10)).code);
        return d;
    }

    private static String mountPath(Container c, String volume) {
        return c.getVolumeMounts().stream().filter(m -> m.getName().equals(volume)).findFirst()
                .orElseThrow(() -> new AssertionError(c.getName() + " mounts no volume " + volume)).getMountPath();
    }

    /** The container's literal env; values from the downward API as the kubelet would fill them here. */
    private static Map<String, String> env(Container c) {
        Map<String, String> env = new LinkedHashMap<>();
        if (c.getEnv() != null) {
            c.getEnv().forEach(v -> env.put(v.getName(), v.getValue() != null ? v.getValue()
                    : switch (v.getValueFrom().getFieldRef().getFieldPath()) {
                        case "status.podIP" -> "127.0.0.1";
                        case "metadata.name" -> "virt-launcher-testvm";
                        case "metadata.namespace" -> "default";
                        default -> throw new AssertionError("unexpected fieldRef " + v.getValueFrom());
                    }));
        }
        return env;
    }

    private static Result run(List<String> cmd, Map<String, String> env, Duration timeout) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().putAll(env);
        Path out = Files.createTempFile("qvirt-it", ".out");
        Path err = Files.createTempFile("qvirt-it", ".err");
        Process p = pb.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
            throw new AssertionError(cmd + " did not end within " + timeout + ": " + Files.readString(err));
        }
        Result r = new Result(p.exitValue(), Files.readString(out), Files.readString(err));
        Files.delete(out);
        Files.delete(err);
        return r;
    }

    private static String awaitConsole(Path log, Pattern p, Duration timeout) throws Exception {
        long end = System.nanoTime() + timeout.toNanos();
        String text = "";
        while (System.nanoTime() < end) {
            text = Files.exists(log) ? new String(Files.readAllBytes(log), StandardCharsets.UTF_8) : "";
            if (p.matcher(text).find()) {
                return text;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("no " + p + " in " + log + " within " + timeout + ":\n" + text);
    }

    private static String sha256(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }
}
