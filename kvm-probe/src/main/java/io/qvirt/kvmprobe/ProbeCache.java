package io.qvirt.kvmprobe;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * A probe's report kept for the rest of this boot of the host, so that a CLI that starts one VM (the launcher's
 * run, exec and render with {@code --accel auto}) does not run the smoke guests each time (~1 s here).
 *
 * <p>The report is reused only while its key is unchanged: this boot ({@code /proc/sys/kernel/random/boot_id}), the
 * kernel release, the probe's options, the device node (its existence, inode, device numbers, mode, owner and
 * change time: a reloaded KVM module makes a new node; chmod/chown change its ctime), whether this process may
 * open it for reading and writing, and the probe code itself (its jar's size and time). Reports that may be
 * transient are not kept: a device that could not be opened for an unknown reason, libc not callable, an internal
 * error, or a smoke guest that timed out or could not be set up (a busy host).
 *
 * <p>The file is JSON, written atomically (mode 0600). It is trusted only if this process's user owns it and
 * nobody else may write it. Where: {@code $QVIRT_KVM_PROBE_CACHE} ({@code off}: never kept); else for root
 * {@code /run/qvirt-kvm-probe.json} (a tmpfs: gone at reboot anyway); else
 * {@code $XDG_RUNTIME_DIR/qvirt-kvm-probe.json}; else not kept. Any failure to read or write it just means
 * probing.
 */
public final class ProbeCache {
    /** Environment variable naming the cache file, or {@code off}. */
    public static final String ENV = "QVIRT_KVM_PROBE_CACHE";

    private static final Set<String> STABLE_STATUS = Set.of("ok", "missing", "not-a-character-device",
            "permission-denied", "not-kvm", "api-version-mismatch");
    private static final Set<String> TRANSIENT_SMOKE = Set.of("timeout", "setup-error");

    private final Path file;
    private final Path procRoot;

    /**
     * @param file     the cache file, or null for no cache
     * @param procRoot where {@code sys/kernel/random/boot_id} and {@code sys/kernel/osrelease} are read
     *                 ({@code /proc}; a test's directory)
     */
    public ProbeCache(Path file, Path procRoot) {
        this.file = file;
        this.procRoot = procRoot;
    }

    /** The cache at its standard place (see the class comment), or one that never keeps anything. */
    public static ProbeCache standard() {
        return new ProbeCache(standardFile(System.getenv(ENV), System.getenv("XDG_RUNTIME_DIR"), uid()),
                Path.of("/proc"));
    }

    /** {@link #standard()}'s report for {@code options}: kept, or probed now (and kept when it may be). */
    public static ProbeReport probe(ProbeOptions options) {
        return standard().report(options, KvmProbe::probe);
    }

    static Path standardFile(String env, String xdgRuntimeDir, long uid) {
        if (env != null && !env.isBlank()) {
            return env.equals("off") ? null : Path.of(env);
        }
        if (uid == 0) {
            return Path.of("/run/qvirt-kvm-probe.json");
        }
        return xdgRuntimeDir == null || xdgRuntimeDir.isBlank() ? null : Path.of(xdgRuntimeDir, "qvirt-kvm-probe.json");
    }

    /** The cache file, or null when nothing is kept. */
    public Path file() {
        return file;
    }

    /**
     * The kept report for {@code options} if its key still holds, else {@code probe}'s, kept for next time
     * unless it may be transient. Never throws for a cache problem.
     */
    public ProbeReport report(ProbeOptions options, Function<ProbeOptions, ProbeReport> probe) {
        if (file == null) {
            return probe.apply(options);
        }
        String key = key(options);
        if (key == null) {
            return probe.apply(options);
        }
        ProbeReport kept = read(key);
        if (kept != null) {
            return kept;
        }
        ProbeReport fresh = probe.apply(options);
        if (keepable(fresh)) {
            write(key, fresh);
        }
        return fresh;
    }

    static boolean keepable(ProbeReport r) {
        return STABLE_STATUS.contains(r.deviceStatus())
                && r.smoke().stream().noneMatch(s -> TRANSIENT_SMOKE.contains(s.outcome()));
    }

    /** What the report depends on, as one string; null if the host's identity cannot be read (no caching). */
    String key(ProbeOptions o) {
        try {
            Map<String, Object> k = new TreeMap<>();
            k.put("schema", ProbeReport.SCHEMA_VERSION);
            k.put("bootId", Files.readString(procRoot.resolve("sys/kernel/random/boot_id")).strip());
            k.put("kernel", Files.readString(procRoot.resolve("sys/kernel/osrelease")).strip());
            k.put("options", o.device() + " smoke=" + o.runSmoke() + " timeout=" + o.smokeTimeout() + " sys="
                    + o.sysModule() + " cpuinfo=" + o.cpuinfo());
            Path dev = o.device();
            if (Files.exists(dev)) {
                Map<String, Object> a = Files.readAttributes(dev, "unix:dev,ino,rdev,mode,uid,gid,ctime");
                k.put("device", new TreeMap<>(a).toString());
                k.put("access", Files.isReadable(dev) + "/" + Files.isWritable(dev));
            } else {
                k.put("device", "absent");
            }
            k.put("code", codeStamp());
            return k.toString();
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    private ProbeReport read(String key) {
        try {
            if (!Files.isRegularFile(file) || !trusted(file)) {
                return null;
            }
            JsonNode j = Mapper.JSON.readTree(Files.readString(file));
            if (j == null || !key.equals(j.path("key").asText(null)) || !j.path("report").isObject()) {
                return null;
            }
            return ProbeReport.fromJson(j.get("report").toString());
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    private void write(String key, ProbeReport r) {
        Path tmp = null;
        try {
            ObjectNode doc = Mapper.JSON.createObjectNode();
            doc.put("key", key);
            doc.set("report", Mapper.JSON.readTree(r.toJson()));
            Path dir = file.toAbsolutePath().getParent();
            tmp = Files.createTempFile(dir, ".qvirt-kvm-probe", ".tmp"); // mode 0600
            Files.writeString(tmp, Mapper.JSON.writeValueAsString(doc));
            try {
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
            tmp = null;
        } catch (IOException | RuntimeException e) {
            // Not kept: the next run probes again.
        } finally {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException e) {
                    // a stray temp file in the cache's directory; harmless
                }
            }
        }
    }

    private static boolean trusted(Path f) throws IOException {
        Object owner = Files.getAttribute(f, "unix:uid");
        Set<PosixFilePermission> perms = Files.getPosixFilePermissions(f);
        return owner instanceof Integer u && u == uid()
                && !perms.contains(PosixFilePermission.GROUP_WRITE) && !perms.contains(PosixFilePermission.OTHERS_WRITE);
    }

    private static long uid() {
        try {
            return ((Number) Files.getAttribute(Path.of("/proc/self"), "unix:uid")).longValue();
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /** The probe's code: its jar's (or class directory's) size and modification time. */
    private static String codeStamp() throws IOException {
        try {
            Path p = Path.of(KvmProbe.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            return Files.size(p) + "@" + Files.getLastModifiedTime(p).toMillis();
        } catch (URISyntaxException | RuntimeException e) {
            return "unknown";
        }
    }

    /** Jackson only when a cache is used. */
    private static final class Mapper {
        static final ObjectMapper JSON = new ObjectMapper();
    }
}
