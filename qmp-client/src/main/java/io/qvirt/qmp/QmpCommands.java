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
}
