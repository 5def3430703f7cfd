package io.qvirt.launcher.migrate;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * QEMU command lines as migration sees them. A migration stream loads only into the device tree it came
 * from, so the target's argv must equal the source's except where two QEMUs of one VM necessarily differ:
 * the VM's directory (sockets, console log, its own disk files), inherited fd numbers, the owner's private
 * monitor (present under {@code launcher run}, absent under {@code exec}), {@code -S}, {@code -incoming}, and
 * the user-mode network's {@code hostfwd} rules (host sockets, not guest state; a QEMU that was itself migrated
 * in has none on its command line, they were added after its start). Everything else (machine, CPU, memory,
 * firmware, every device and its properties) must match.
 */
public final class QemuCommandLine {
    private static final Pattern FD = Pattern.compile("(^|,)fd=[0-9]+");
    private static final String DIR = "${VMDIR}";

    /** A {@code hostfwd} rule of a user-mode {@code -netdev}, which binds a host port. */
    public record HostForwardRule(String netdevId, String rule) {
    }

    /** An argv without its host forwards, and the forwards taken out (to be added once the port is free). */
    public record WithoutForwards(List<String> argv, List<HostForwardRule> forwards) {
    }

    private QemuCommandLine() {
    }

    /**
     * A running process's argv, from {@code /proc/PID/cmdline}.
     *
     * @throws MigrationException if the process is gone or unreadable
     */
    public static List<String> ofProcess(long pid) {
        try {
            byte[] b = Files.readAllBytes(Path.of("/proc/" + pid + "/cmdline"));
            List<String> out = new ArrayList<>();
            int start = 0;
            for (int i = 0; i < b.length; i++) {
                if (b[i] == 0) {
                    out.add(new String(b, start, i - start, StandardCharsets.UTF_8));
                    start = i + 1;
                }
            }
            if (out.isEmpty()) {
                throw new MigrationException("QEMU pid " + pid + " has no command line (it has exited)");
            }
            return List.copyOf(out);
        } catch (IOException e) {
            throw new MigrationException("QEMU pid " + pid + " is not running (" + e.getMessage() + ")", e);
        }
    }

    /** The argv with the per-instance parts replaced or dropped (see the class comment). */
    public static List<String> normalize(List<String> argv, Path vmDir) {
        String dir = vmDir.toAbsolutePath().normalize().toString();
        String escapedDir = dir.replace(",", ",,");
        List<String> out = new ArrayList<>();
        argv = withoutHostForwards(argv).argv();
        for (int i = 0; i < argv.size(); i++) {
            String a = argv.get(i);
            String next = i + 1 < argv.size() ? argv.get(i + 1) : null;
            if (a.equals("-S")) {
                continue;
            }
            if (a.equals("-incoming") && next != null) {
                i++;
                continue;
            }
            if (next != null && ((a.equals("-chardev") && hasKey(next, "id", "qmp-owner"))
                    || (a.equals("-mon") && hasKey(next, "chardev", "qmp-owner")))) {
                i++;
                continue;
            }
            String v = a.replace(escapedDir, DIR).replace(dir, DIR);
            out.add(FD.matcher(v).replaceAll("$1fd=N"));
        }
        return out;
    }

    /**
     * Refuses a target whose argv would not take the source's migration stream.
     *
     * @throws ArgvMismatchException listing what differs, if anything does
     */
    public static void requireSameMachine(List<String> source, Path sourceDir, List<String> target, Path targetDir) {
        List<String> diffs = differences(normalize(source, sourceDir), normalize(target, targetDir));
        if (!diffs.isEmpty()) {
            throw new ArgvMismatchException("the target QEMU would not build the device tree the source runs, so the "
                    + "migration is refused before anything is sent: " + String.join("; ", diffs), diffs);
        }
    }

    /** What differs between two normalized argvs, option by option; empty if they are equal. */
    static List<String> differences(List<String> source, List<String> target) {
        if (source.equals(target)) {
            return List.of();
        }
        List<String> s = units(source);
        List<String> t = units(target);
        List<String> diffs = new ArrayList<>();
        if (!s.isEmpty() && !t.isEmpty() && !s.get(0).equals(t.get(0))) {
            diffs.add("source runs " + quote(s.get(0)) + ", target would run " + quote(t.get(0)));
        }
        Map<String, Integer> counts = new LinkedHashMap<>();
        s.stream().skip(1).forEach(u -> counts.merge(u, 1, Integer::sum));
        List<String> onlyTarget = new ArrayList<>();
        t.stream().skip(1).forEach(u -> {
            Integer c = counts.get(u);
            if (c == null || c == 0) {
                onlyTarget.add(u);
            } else {
                counts.put(u, c - 1);
            }
        });
        List<String> onlySource = new ArrayList<>();
        counts.forEach((u, c) -> {
            for (int i = 0; i < c; i++) {
                onlySource.add(u);
            }
        });
        onlySource.forEach(u -> diffs.add("source has " + quote(u) + ", target has not"));
        onlyTarget.forEach(u -> diffs.add("target has " + quote(u) + ", source has not"));
        if (diffs.isEmpty()) {
            diffs.add("the same options in a different order (device order is part of the machine)");
        }
        return diffs;
    }

    /** Each option with its value ({@code -m 128M}); the first unit is the binary. */
    private static List<String> units(List<String> argv) {
        List<String> out = new ArrayList<>();
        if (argv.isEmpty()) {
            return out;
        }
        out.add(argv.get(0));
        for (int i = 1; i < argv.size(); i++) {
            String a = argv.get(i);
            if (a.startsWith("-") && i + 1 < argv.size() && !argv.get(i + 1).startsWith("-")) {
                out.add(a + " " + argv.get(++i));
            } else {
                out.add(a);
            }
        }
        return out;
    }

    /**
     * Takes the {@code hostfwd} rules out of every user-mode {@code -netdev}: while the source QEMU holds the
     * host ports, a second QEMU cannot bind them, and QEMU fails at start-up if a forward cannot bind.
     */
    public static WithoutForwards withoutHostForwards(List<String> argv) {
        List<String> out = new ArrayList<>(argv.size());
        List<HostForwardRule> forwards = new ArrayList<>();
        for (int i = 0; i < argv.size(); i++) {
            String a = argv.get(i);
            if (a.equals("-netdev") && i + 1 < argv.size() && argv.get(i + 1).startsWith("user,")) {
                List<String> kept = new ArrayList<>();
                String id = null;
                List<String> rules = new ArrayList<>();
                for (String part : splitOpts(argv.get(i + 1))) {
                    if (part.startsWith("hostfwd=")) {
                        rules.add(part.substring("hostfwd=".length()));
                    } else {
                        if (part.startsWith("id=")) {
                            id = part.substring(3);
                        }
                        kept.add(part);
                    }
                }
                for (String r : rules) {
                    forwards.add(new HostForwardRule(id, r));
                }
                out.add(a);
                out.add(String.join(",", kept));
                i++;
            } else {
                out.add(a);
            }
        }
        return new WithoutForwards(List.copyOf(out), List.copyOf(forwards));
    }

    /** Splits QEMU's key=value,key=value on single commas (a doubled comma is part of a value). */
    static List<String> splitOpts(String s) {
        List<String> parts = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == ',') {
                if (i + 1 < s.length() && s.charAt(i + 1) == ',') {
                    cur.append(",,");
                    i++;
                    continue;
                }
                parts.add(cur.toString());
                cur.setLength(0);
            } else {
                cur.append(c);
            }
        }
        parts.add(cur.toString());
        return parts;
    }

    /** The value of {@code key} in a QEMU option string, or null. */
    static String valueOf(String opts, String key) {
        for (String p : splitOpts(opts)) {
            if (p.startsWith(key + "=")) {
                return p.substring(key.length() + 1).replace(",,", ",");
            }
        }
        return null;
    }

    private static boolean hasKey(String opts, String key, String value) {
        return value.equals(valueOf(opts, key));
    }

    private static String quote(String s) {
        return "\"" + s + "\"";
    }
}
