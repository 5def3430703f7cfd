package io.qvirt.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * libvirt's side of the migration scenario. libvirt refuses to migrate a domain to a daemon with its own host
 * UUID ("Attempt to migrate guest to the same host"), so the target is a second libvirtd (and virtlogd) on this
 * machine as a second host would have it: its own mount namespace over libvirt's config, state, cache and log
 * directories, its own host_uuid, its sockets in a directory of its own (scripts/bench-libvirt.sh start-peer).
 * The two share the filesystem the guest's disk overlay is on, as two hosts share storage; libvirt cannot see
 * that it is shared, so the migration is run with {@code --unsafe}. The domain's serial console socket and log
 * are files in the domain's directory, so the target gets its own paths through {@code --xml} (the source's
 * migratable XML with that directory changed), made before the timed command.
 */
final class LibvirtPeer {
    private static final Pattern JOB = Pattern.compile("^([A-Za-z /]+):\\s+([0-9.]+)\\s*(\\S*)", Pattern.MULTILINE);

    private final Path root;
    private final String uri;
    private final Libvirt first;

    private LibvirtPeer(Path root, String uri, Libvirt first) {
        this.root = root;
        this.uri = uri;
        this.first = first;
    }

    /** Starts the second daemon (after {@code first}); null and {@code why[0]} set if it cannot be had. */
    static LibvirtPeer start(Path root, Libvirt first, String[] why) {
        try {
            String out = Procs.run(Duration.ofMinutes(3), Procs.cmd(root.resolve("scripts/bench-libvirt.sh").toString(),
                    "start-peer"));
            String last = out.strip().lines().reduce((a, b) -> b).orElse("");
            if (!last.equals("ok")) {
                why[0] = last.replaceFirst("^unavailable: ", "");
                return null;
            }
            Path sock = Path.of(System.getenv().getOrDefault("QVIRT_BENCH_LIBVIRT_PEER", "/run/qvirt-bench-libvirt-peer"),
                    "sock", "libvirt-sock");
            LibvirtPeer p = new LibvirtPeer(root, "qemu:///system?socket=" + sock, first);
            return p;
        } catch (Exception e) {
            why[0] = "second libvirt daemon: " + e.getMessage();
            return null;
        }
    }

    /** Excludes the peer's one-time capability probe of the QEMU wrapper from every figure. */
    void probeCapabilities(Path emulator) throws Exception {
        Procs.run(Duration.ofMinutes(3), Procs.cmd("virsh", "-q", "-c", uri, "domcapabilities", "--emulatorbin",
                emulator.toString(), "--arch", "x86_64", "--machine", "q35", "--virttype", "qemu"));
    }

    void stop() {
        try {
            Procs.run(Duration.ofMinutes(1), Procs.cmd(root.resolve("scripts/bench-libvirt.sh").toString(), "stop-peer"));
        } catch (Exception e) {
            System.err.println("bench: stopping the second libvirt daemon: " + e.getMessage());
        }
    }

    MigrationBench.Guest guest(Ctx ctx, String name, Path dir) throws Exception {
        return new LibvirtGuest(ctx, name, dir);
    }

    /** A domain like the lifecycle scenario's, with its serial console on a socket (typed into) and a log. */
    private final class LibvirtGuest extends MigrationBench.DirGuest {
        private final String name;
        private final Path xml;
        private boolean created;

        LibvirtGuest(Ctx ctx, String name, Path dir) throws Exception {
            super(dir);
            this.name = name;
            Path disk = ctx.overlay(dir.resolve("disk.qcow2"));
            Path base = first.domainXml(dir, name, ctx.memMib(), ctx.wrapper(), disk, src.resolve("unused.log"));
            String text = Files.readString(base).replaceAll("(?s)<serial type='file'>.*?</serial>",
                    "<serial type='unix'><source mode='bind' path='" + src.resolve("console.sock") + "'/><log file='"
                            + src.resolve("console.log") + "' append='on'/><target port='0'/></serial>");
            this.xml = dir.resolve(name + "-migration.xml");
            Files.writeString(xml, text);
        }

        @Override
        void start() throws Exception {
            created = true;
            Procs.run(Duration.ofMinutes(3), Libvirt.virsh("create", xml.toString()));
        }

        @Override
        Map<String, Double> migrate() throws Exception {
            // Untimed: the target's XML (same domain, its console in its own directory).
            String mx = Procs.run(Duration.ofSeconds(30), Libvirt.virsh("dumpxml", "--migratable", name));
            Path dxml = dst.resolve(name + ".xml");
            Files.writeString(dxml, mx.replace(src.toString(), dst.toString()));
            List<String> c = Libvirt.virsh("migrate", "--live", "--unsafe", "--xml", dxml.toString(), "--migrateuri",
                    "unix://" + dst.resolve("mig.sock"), name, uri);
            MigrationBench.runMigrate(c, Map.of(), dst.resolve("virsh-migrate.err"));
            // The target's record of the completed job: libvirt's figures from the source's query-migrate (total
            // time, RAM processed, iterations) and its own downtime (source paused -> target resumed).
            String info = Procs.run(Duration.ofSeconds(30), Procs.cmd("virsh", "-q", "-c", uri, "domjobinfo",
                    "--completed", name));
            Map<String, double[]> f = new java.util.HashMap<>();
            Matcher m = JOB.matcher(info);
            while (m.find()) {
                f.put(m.group(1).strip(), new double[] {Double.parseDouble(m.group(2)), unit(m.group(3))});
            }
            double[] t = f.getOrDefault("Time elapsed", new double[] {Double.NaN, 1});
            double[] d = f.getOrDefault("Total downtime", new double[] {Double.NaN, 1});
            double[] mem = f.getOrDefault("Memory processed", new double[] {Double.NaN, 1});
            double[] it = f.getOrDefault("Iteration", new double[] {Double.NaN, 1});
            if (Double.isNaN(t[0])) {
                throw new IllegalStateException("virsh domjobinfo --completed on the target printed no figures: " + info);
            }
            return MigrationBench.figures(t[0], d[0], mem[0] * mem[1], it[0]);
        }

        private static double unit(String u) {
            return switch (u) {
                case "KiB" -> 1024;
                case "MiB" -> 1048576;
                case "GiB" -> 1073741824;
                default -> 1;
            };
        }

        @Override
        public void close() {
            if (!created) {
                return;
            }
            for (String u : List.of(Libvirt.URI, uri)) {
                try {
                    Procs.run(Duration.ofSeconds(30), Procs.cmd("virsh", "-q", "-c", u, "destroy", name));
                } catch (Exception e) {
                    // Not on that daemon (before or after the migration).
                }
            }
        }
    }
}
