package io.qvirt.launcher.cli;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.qvirt.launcher.control.VmControl;
import io.qvirt.launcher.migrate.LocalMigration;
import io.qvirt.launcher.migrate.Migration;
import io.qvirt.launcher.migrate.MigrationOptions;
import io.qvirt.launcher.plan.HostForward;
import io.qvirt.launcher.runtime.RuntimeDir;
import io.qvirt.qmp.BlockJobInfo;
import io.qvirt.qmp.MigrationInfo;
import io.qvirt.qmp.QmpClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import sun.misc.Signal;

@Command(name = "migrate", mixinStandardHelpOptions = true,
        description = {"Live-migrates a running VM to a second QEMU on this machine: into another",
            "runtime root (--to-runtime-root DIR) and/or another directory name (--to NAME2).",
            "The target QEMU gets the source's command line and -incoming (refused before",
            "anything is made if it would differ). RAM, device state and the VM's own disk",
            "files (containerDisk overlay, emptyDisk: QEMU's block mirror over NBD) move over",
            "Unix sockets; hostDisks are shared, not copied. Progress: a line per pass over",
            "RAM and every 2 s. On success the source QEMU quits (a `launcher run` owning it",
            "exits 0 saying where the VM went) and the target runs detached, as after",
            "`launcher exec`: drive it with launcher commands on its runtime root. Forwarded",
            "ports are bound by the target once the source has quit.",
            "Ctrl-C or SIGTERM (or migrate_cancel by another client): cancelled, the source",
            "runs on, the target is removed. Needs the source's qmp.sock (QEMU serves one",
            "client at a time). If migrate itself is killed (SIGKILL), `launcher migrate NAME",
            "--cancel` restores the source; a target left waiting is removed with",
            "`launcher kill NAME --runtime-root DIR`."})
final class MigrateCommand extends BaseCommand {
    @Mixin
    VmRef vm;

    @Option(names = "--to-runtime-root", paramLabel = "DIR", description = "the runtime root the VM moves to "
            + "(default: the source's)")
    Path toRoot;

    @Option(names = "--to", paramLabel = "NAME2", description = "the target's directory name (default: the VM's name); "
            + "the guest keeps its name, hostname and cloud-init identity")
    String toName;

    @Option(names = "--multifd", paramLabel = "N", description = "send RAM over N parallel connections (QEMU multifd; "
            + "default 0: one stream)")
    int multifd;

    @Option(names = "--postcopy", description = "switch to postcopy after the first pass over RAM: bounded time even "
            + "for a guest that dirties memory fast, but a failure after the switch loses the VM")
    boolean postcopy;

    @Option(names = "--bandwidth", paramLabel = "MiB/s", description = "cap RAM throughput at MiB/s (default: no cap)")
    long bandwidthMib;

    @Option(names = "--timeout", paramLabel = "SECONDS", description = "what --on-timeout says happens if not done "
            + "within SECONDS (default 600)")
    long timeoutSeconds = 600;

    @Option(names = "--on-timeout", paramLabel = "cancel|postcopy|pause", description = "at --timeout: cancel "
            + "(default; the source runs on), switch to postcopy, or pause the guest until it has moved and cancel "
            + "only at twice the time (KubeVirt's allowWorkloadDisruption with and without allowPostCopy)")
    String onTimeout = "cancel";

    @Option(names = "--auto-converge", description = "let QEMU throttle the guest's vCPUs while it dirties memory "
            + "faster than it is sent (KubeVirt's allowAutoConverge)")
    boolean autoConverge;

    @Option(names = "--overcommit", paramLabel = "PERCENT", description = "as for run: the target's guest memory may "
            + "exceed MemAvailable by PERCENT percent of it (default 0)")
    int overcommit;

    @Option(names = "--json", description = "on success print one JSON object on stdout instead of the lines above: "
            + "QEMU's figures (totalMs, downtimeMs, ramTransferredBytes, ...), the pids, the target's directory and "
            + "the source's final query-migrate reply")
    boolean json;

    @Option(names = "--cancel", description = "instead: undo what a migrate that was killed left on the VM (cancel "
            + "its migration, so a guest held stopped runs again; drop its disk mirrors)")
    boolean cancel;

    @Override
    int doCall() throws Exception {
        if (cancel) {
            if (toRoot != null || toName != null) {
                throw new IllegalArgumentException("--cancel: takes no target (--to, --to-runtime-root)");
            }
            try (QmpClient qmp = vm.connect(root(), Duration.ofSeconds(5)); VmControl ctl = new VmControl(qmp)) {
                List<String> steps = Migration.abandon(ctl);
                steps.forEach(st -> out().println("VM " + vm.display() + ": " + st));
                out().println("VM " + vm.display() + ": " + (steps.isEmpty() ? "no migration was left; " : "")
                        + ctl.state().describe());
            }
            return ExitCodes.OK;
        }
        if (toRoot == null && toName == null) {
            throw new IllegalArgumentException("missing target: --to-runtime-root DIR and/or --to NAME2");
        }
        if (timeoutSeconds <= 0) {
            throw new IllegalArgumentException("--timeout: must be > 0 seconds");
        }
        if (multifd < 0 || multifd > 255) {
            throw new IllegalArgumentException("--multifd: must be 0 (off) or 1-255, got " + multifd);
        }
        if (bandwidthMib < 0 || bandwidthMib > (1L << 20)) {
            throw new IllegalArgumentException("--bandwidth: must be 1-1048576 MiB/s, got " + bandwidthMib);
        }
        if (overcommit < 0) {
            throw new IllegalArgumentException("--overcommit: must be >= 0 percent");
        }
        Path targetRoot = toRoot != null ? toRoot.toAbsolutePath() : root();
        String targetName = toName != null ? toName : vm.name;
        vm.paths(root());
        try {
            RuntimeDir.paths(targetRoot, vm.namespace, targetName);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--to: " + e.getMessage());
        }
        MigrationOptions.OnTimeout atTimeout = switch (onTimeout) {
            case "cancel" -> MigrationOptions.OnTimeout.CANCEL;
            case "postcopy" -> MigrationOptions.OnTimeout.POSTCOPY;
            case "pause" -> MigrationOptions.OnTimeout.PAUSE;
            default -> throw new IllegalArgumentException("--on-timeout: '"
                    + onTimeout.replaceAll("\\p{Cntrl}", "?") + "' is not allowed: cancel, postcopy or pause");
        };
        if (multifd > 0 && (postcopy || atTimeout == MigrationOptions.OnTimeout.POSTCOPY)) {
            // postcopy's page requests do not go over multifd channels in the QEMU versions qvirt runs on
            throw new IllegalArgumentException("--multifd: not allowed with --postcopy or --on-timeout postcopy "
                    + "(QEMU cannot run postcopy over multifd)");
        }
        MigrationOptions opts = new MigrationOptions(multifd, postcopy, bandwidthMib << 20,
                Duration.ofSeconds(timeoutSeconds), Duration.ofSeconds(2), autoConverge, atTimeout);
        boolean[] paused = {false};
        LocalMigration lm = new LocalMigration(new Migration.Listener() {
            @Override
            public void modeChanged(String mode) {
                paused[0] |= mode.equals("Paused");
                log().info("migrate: mode " + mode);
            }

            @Override
            public void progress(MigrationInfo i) {
                log().info("migrate: " + describe(i));
            }

            @Override
            public void diskProgress(List<BlockJobInfo> jobs) {
                for (BlockJobInfo j : jobs) {
                    log().info("migrate: disk " + j.device().replaceFirst("^mig-", "") + " " + mb(j.offset()) + " of "
                            + mb(j.len()) + " MB copied" + (j.ready() ? ", in sync (mirroring writes)" : ""));
                }
            }

            @Override
            public void note(String line) {
                log().info("migrate: " + line);
            }
        });
        for (String sig : new String[] {"INT", "TERM", "HUP"}) {
            Signal.handle(new Signal(sig), x -> {
                if (!lm.cancel("SIG" + sig)) {
                    log().warn("migrate: in postcopy the migration cannot be cancelled (the target already runs the VM)");
                }
            });
        }
        log().info("migrate: VM " + vm.display() + " from " + vm.paths(root()).dir() + " to "
                + targetRoot.resolve(vm.namespace).resolve(targetName));
        LocalMigration.Outcome o = lm.migrate(new LocalMigration.Request(vm.paths(root()), targetRoot, targetName, opts,
                overcommit));
        var r = o.result();
        if (json) {
            out().println(json(o));
            return ExitCodes.OK;
        }
        out().println("VM " + vm.display() + " migrated to " + o.target().dir() + ": QEMU pid " + o.targetPid()
                + " (was " + o.sourcePid() + "), total " + r.totalMs() + " ms, downtime " + r.downtimeMs() + " ms"
                + (r.startMs() > 0 ? " + " + r.startMs() + " ms to start the target" : "") + ", "
                + r.passes() + " passes" + (r.diskCopyMs() > 0 ? ", disks copied in " + r.diskCopyMs() + " ms" : "")
                + (r.postcopy() ? ", postcopy" : "") + (paused[0] ? ", the guest paused from the timeout on" : ""));
        for (HostForward f : o.forwards()) {
            out().println("  forward " + f);
        }
        out().println("  drive it with: launcher status " + o.target().dir().getFileName()
                + (vm.namespace.equals("default") ? "" : " -n " + vm.namespace) + " --runtime-root "
                + o.target().dir().getParent().getParent());
        return ExitCodes.OK;
    }

    /**
     * What {@code --json} prints for a completed migration: one object, QEMU's own figures (the source's last
     * {@code query-migrate}, also whole under {@code queryMigrate}) and where the VM went.
     */
    static String json(LocalMigration.Outcome o) {
        var r = o.result();
        ObjectNode n = JsonNodeFactory.instance.objectNode();
        n.put("target", o.target().dir().toString());
        n.put("targetPid", o.targetPid());
        n.put("sourcePid", o.sourcePid());
        n.put("totalMs", r.totalMs());
        n.put("downtimeMs", r.downtimeMs());
        n.put("startMs", r.startMs());
        n.put("setupMs", r.last().setupTimeMs());
        n.put("diskCopyMs", r.diskCopyMs());
        n.put("passes", r.passes());
        n.put("postcopy", r.postcopy());
        n.put("ramTransferredBytes", r.last().ramTransferred());
        n.put("ramTotalBytes", r.last().ramTotal());
        var fw = n.putArray("forwards");
        o.forwards().forEach(f -> fw.add(f.toString()));
        n.set("queryMigrate", r.last().raw());
        return n.toString();
    }

    static String describe(MigrationInfo i) {
        StringBuilder b = new StringBuilder(i.status());
        if (i.dirtySyncCount() > 0) {
            b.append(", pass ").append(i.dirtySyncCount());
        }
        if (i.ramRemaining() >= 0) {
            b.append(", ").append(mb(i.ramRemaining())).append(" MB of ").append(mb(i.ramTotal())).append(" MB left");
        }
        if (i.mbps() >= 0) {
            b.append(", ").append(String.format(Locale.ROOT, "%.0f", i.mbps())).append(" Mbit/s");
        }
        if (i.expectedDowntimeMs() >= 0 && i.status().equals("active")) {
            b.append(", expected downtime ").append(i.expectedDowntimeMs()).append(" ms");
        }
        if (i.downtimeMs() >= 0) {
            b.append(", downtime ").append(i.downtimeMs()).append(" ms");
        }
        return b.toString();
    }

    private static String mb(long bytes) {
        return String.format(Locale.ROOT, "%.1f", bytes / 1048576.0);
    }
}
