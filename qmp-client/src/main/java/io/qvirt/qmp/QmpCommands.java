package io.qvirt.qmp;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Typed wrappers for the commands qvirt's launcher uses. Failures are the same as
 * {@link QmpClient#execute(String, JsonNode)}; a reply of unexpected shape fails with
 * {@link QmpProtocolException}.
 */
public final class QmpCommands {
    private final QmpClient client;

    QmpCommands(QmpClient client) {
        this.client = client;
    }

    private static ObjectNode obj() {
        return JsonNodeFactory.instance.objectNode();
    }

    private static QmpProtocolException shape(String command, JsonNode got) {
        String s = String.valueOf(got);
        return new QmpProtocolException("unexpected reply to " + command + ": "
                + (s.length() > 200 ? s.substring(0, 200) + "..." : s));
    }

    private CompletableFuture<Void> simple(String command) {
        return client.execute(command).thenApply(v -> null);
    }

    public CompletableFuture<StatusInfo> queryStatus() {
        return client.execute("query-status").thenApply(r -> {
            if (!r.path("status").isTextual()) {
                throw shape("query-status", r);
            }
            return new StatusInfo(r.get("status").textValue(), r.path("running").asBoolean());
        });
    }

    /** Pauses guest CPUs (QEMU emits STOP). */
    public CompletableFuture<Void> stop() {
        return simple("stop");
    }

    /** Starts or resumes guest CPUs (QEMU emits RESUME). */
    public CompletableFuture<Void> cont() {
        return simple("cont");
    }

    /** Presses the ACPI power button; the guest decides whether to shut down (SHUTDOWN event). */
    public CompletableFuture<Void> systemPowerdown() {
        return simple("system_powerdown");
    }

    /** Resets the machine (RESET event). */
    public CompletableFuture<Void> systemReset() {
        return simple("system_reset");
    }

    /**
     * Makes QEMU exit. Succeeds when QEMU replies or, since it may exit before the reply is read, when
     * the connection drops after the command was sent.
     */
    public CompletableFuture<Void> quit() {
        return client.execute("quit").handle((v, err) -> {
            Throwable cause = err instanceof java.util.concurrent.CompletionException ? err.getCause() : err;
            if (cause == null || cause instanceof QmpDisconnectedException) {
                return (Void) null;
            }
            throw cause instanceof RuntimeException re ? re : new QmpException("quit failed", cause);
        });
    }

    public CompletableFuture<QemuVersion> queryVersion() {
        return client.execute("query-version").thenApply(r -> {
            JsonNode q = r.path("qemu");
            if (!q.path("major").isInt()) {
                throw shape("query-version", r);
            }
            return new QemuVersion(q.path("major").asInt(), q.path("minor").asInt(), q.path("micro").asInt(),
                    r.path("package").asText(""));
        });
    }

    public CompletableFuture<KvmInfo> queryKvm() {
        return client.execute("query-kvm").thenApply(r -> {
            if (!r.path("enabled").isBoolean()) {
                throw shape("query-kvm", r);
            }
            return new KvmInfo(r.path("enabled").asBoolean(), r.path("present").asBoolean());
        });
    }

    public CompletableFuture<List<CpuInfo>> queryCpusFast() {
        return client.execute("query-cpus-fast").thenApply(r -> {
            if (!r.isArray()) {
                throw shape("query-cpus-fast", r);
            }
            List<CpuInfo> out = new ArrayList<>();
            for (JsonNode c : r) {
                out.add(new CpuInfo(c.path("cpu-index").asInt(), c.path("qom-path").asText(""),
                        c.path("thread-id").asLong(), c.path("target").asText("")));
            }
            return List.copyOf(out);
        });
    }

    public CompletableFuture<List<BlockInfo>> queryBlock() {
        return client.execute("query-block").thenApply(r -> {
            if (!r.isArray()) {
                throw shape("query-block", r);
            }
            List<BlockInfo> out = new ArrayList<>();
            for (JsonNode b : r) {
                JsonNode ins = b.get("inserted");
                out.add(new BlockInfo(b.path("device").asText(""), b.path("qdev").asText(""),
                        b.path("removable").asBoolean(), b.path("locked").asBoolean(), ins, b));
            }
            return List.copyOf(out);
        });
    }

    /** Runs an HMP command line and returns its output text. */
    public CompletableFuture<String> humanMonitorCommand(String commandLine) {
        ObjectNode a = obj().put("command-line", commandLine);
        return client.execute("human-monitor-command", a).thenApply(r -> {
            if (!r.isTextual()) {
                throw shape("human-monitor-command", r);
            }
            return r.textValue();
        });
    }

    /**
     * {@code getfd}: passes {@code fd} to QEMU under {@code fdname} (e.g. for a tap netdev's
     * {@code fd=NAME}). The caller keeps its own descriptor.
     */
    public CompletableFuture<Void> getfd(String fdname, int fd) {
        return client.executeWithFd("getfd", obj().put("fdname", fdname), fd).thenApply(v -> null);
    }

    /** {@code closefd}: drops a descriptor passed with {@link #getfd}. */
    public CompletableFuture<Void> closefd(String fdname) {
        return client.execute("closefd", obj().put("fdname", fdname)).thenApply(v -> null);
    }

    /**
     * {@code add-fd}: adds {@code fd} to an fd set (a new one when {@code fdsetId} is null), for
     * {@code /dev/fdset/N} paths.
     *
     * @return QEMU's {@code {"fdset-id": N, "fd": M}}
     */
    public CompletableFuture<JsonNode> addFd(Integer fdsetId, String opaque, int fd) {
        ObjectNode a = obj();
        if (fdsetId != null) {
            a.put("fdset-id", fdsetId);
        }
        if (opaque != null) {
            a.put("opaque", opaque);
        }
        return client.executeWithFd("add-fd", a, fd);
    }

    /** {@code query-fdsets}: the fd sets QEMU holds. */
    public CompletableFuture<JsonNode> queryFdsets() {
        return client.execute("query-fdsets");
    }

    // Migration (QEMU's docs/devel/migration.rst; the QMP schema's migration.json).

    /** {@code query-migrate}: the current (or last) migration's state and figures. */
    public CompletableFuture<MigrationInfo> queryMigrate() {
        return client.execute("query-migrate").thenApply(r -> {
            if (!r.isObject()) {
                throw shape("query-migrate", r);
            }
            return MigrationInfo.from(r);
        });
    }

    /**
     * {@code migrate-set-capabilities}: each capability (e.g. {@code events}, {@code pause-before-switchover},
     * {@code multifd}, {@code postcopy-ram}) on or off. Must be set the same on both ends where QEMU says so
     * (multifd, postcopy-ram), before the migration starts.
     */
    public CompletableFuture<Void> migrateSetCapabilities(java.util.Map<String, Boolean> capabilities) {
        var list = JsonNodeFactory.instance.arrayNode();
        capabilities.forEach((k, v) -> list.addObject().put("capability", k).put("state", v));
        return client.execute("migrate-set-capabilities", obj().set("capabilities", list)).thenApply(v -> null);
    }

    /** {@code migrate-set-parameters}, e.g. {@code {"multifd-channels": 4}} or {@code {"downtime-limit": 300}}. */
    public CompletableFuture<Void> migrateSetParameters(ObjectNode parameters) {
        return client.execute("migrate-set-parameters", parameters).thenApply(v -> null);
    }

    /** {@code migrate}: starts sending this VM to {@code uri} (e.g. {@code unix:/path}); returns once started. */
    public CompletableFuture<Void> migrate(String uri) {
        return client.execute("migrate", obj().put("uri", uri)).thenApply(v -> null);
    }

    /** {@code migrate-incoming}: a QEMU started with {@code -incoming defer} starts listening on {@code uri}. */
    public CompletableFuture<Void> migrateIncoming(String uri) {
        return client.execute("migrate-incoming", obj().put("uri", uri)).thenApply(v -> null);
    }

    /** {@code migrate_cancel}: the outgoing migration is cancelled; a guest that was running resumes. */
    public CompletableFuture<Void> migrateCancel() {
        return simple("migrate_cancel");
    }

    /**
     * {@code migrate-continue}: lets a migration paused in {@code state} (with {@code pause-before-switchover},
     * {@code pre-switchover}) go on to the switchover.
     */
    public CompletableFuture<Void> migrateContinue(String state) {
        return client.execute("migrate-continue", obj().put("state", state)).thenApply(v -> null);
    }

    /** {@code migrate-start-postcopy}: switches a running precopy migration (postcopy-ram on) to postcopy. */
    public CompletableFuture<Void> migrateStartPostcopy() {
        return simple("migrate-start-postcopy");
    }

    // Block jobs and NBD, for copying disks that are not shared (QEMU's docs/interop/live-block-operations.rst).

    /** {@code nbd-server-start} on a Unix socket at {@code socket}. */
    public CompletableFuture<Void> nbdServerStart(java.nio.file.Path socket) {
        // nbd-server-start takes the legacy SocketAddress form, {"type": "unix", "data": {"path": ...}}.
        ObjectNode addr = obj().put("type", "unix");
        addr.putObject("data").put("path", socket.toString());
        return client.execute("nbd-server-start", obj().set("addr", addr)).thenApply(v -> null);
    }

    /** {@code nbd-server-stop}: stops the NBD server and drops its exports. */
    public CompletableFuture<Void> nbdServerStop() {
        return simple("nbd-server-stop");
    }

    /**
     * {@code block-export-add} of type nbd: exports {@code nodeName} under the name {@code nodeName}. QEMU
     * activates an inactive node (one of an incoming QEMU) for it, which is what disk copy for migration needs.
     */
    public CompletableFuture<Void> blockExportAddNbd(String id, String nodeName, boolean writable) {
        ObjectNode a = obj().put("type", "nbd").put("id", id).put("node-name", nodeName).put("writable", writable)
                .put("name", nodeName);
        return client.execute("block-export-add", a).thenApply(v -> null);
    }

    /** {@code blockdev-add}: a new block node described by {@code options} (QEMU's BlockdevOptions). */
    public CompletableFuture<Void> blockdevAdd(ObjectNode options) {
        return client.execute("blockdev-add", options).thenApply(v -> null);
    }

    /** {@code blockdev-del}: removes a node no device or job uses any more. */
    public CompletableFuture<Void> blockdevDel(String nodeName) {
        return client.execute("blockdev-del", obj().put("node-name", nodeName)).thenApply(v -> null);
    }

    /**
     * {@code blockdev-mirror}: job {@code jobId} copies node {@code device} to node {@code target}, then keeps
     * mirroring the guest's writes (the job becomes ready, BLOCK_JOB_READY) until completed or cancelled.
     *
     * @param sync {@code top} (only this node's own data, not its backing chain), {@code full} or {@code none}
     */
    public CompletableFuture<Void> blockdevMirror(String jobId, String device, String target, String sync) {
        ObjectNode a = obj().put("job-id", jobId).put("device", device).put("target", target).put("sync", sync)
                .put("auto-finalize", true).put("auto-dismiss", true);
        return client.execute("blockdev-mirror", a).thenApply(v -> null);
    }

    /**
     * {@code block-job-cancel}. A ready mirror cancelled without {@code force} ends with its target equal to
     * its source (BLOCK_JOB_COMPLETED); with {@code force}, or before ready, it is abandoned (BLOCK_JOB_CANCELLED).
     */
    public CompletableFuture<Void> blockJobCancel(String jobId, boolean force) {
        return client.execute("block-job-cancel", obj().put("device", jobId).put("force", force)).thenApply(v -> null);
    }

    /** {@code query-block-jobs}: the block jobs running now. */
    public CompletableFuture<List<BlockJobInfo>> queryBlockJobs() {
        return client.execute("query-block-jobs").thenApply(r -> {
            if (!r.isArray()) {
                throw shape("query-block-jobs", r);
            }
            List<BlockJobInfo> out = new ArrayList<>();
            for (JsonNode j : r) {
                out.add(new BlockJobInfo(j.path("device").asText(""), j.path("type").asText(""), j.path("len").asLong(),
                        j.path("offset").asLong(), j.path("ready").asBoolean(), j.path("status").asText(""), j));
            }
            return List.copyOf(out);
        });
    }
}
