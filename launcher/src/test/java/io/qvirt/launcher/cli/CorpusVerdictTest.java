package io.qvirt.launcher.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.qvirt.testdata.KubevirtCorpus;
import io.qvirt.testdata.TestGuest;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every manifest of the KubeVirt compatibility corpus ({@code ../shared/kubevirt-corpus/}, both {@code INDEX.tsv}
 * files) through {@code launcher validate} as a user runs it (the picocli command line, in process, with the
 * launcher's default settings), against the verdict its INDEX gives:
 * <ul>
 * <li>no output ever holds a Java exception's or a library's text, and the exit code is 0 or 2;</li>
 * <li>{@code run}: accepted (exit 0);</li>
 * <li>{@code refuse} / {@code invalid}: refused (exit 2) naming a field path that {@code why} names (the same
 * path, or one of them extending the other: {@code ...filesystems} names {@code ...filesystems[0].virtiofs}).
 * Paths in {@code why} after "If fixed" / "Once fixed" (what the file would be once corrected) do not count.</li>
 * </ul>
 * KubeVirt's own examples ({@code kubevirt-examples/INDEX.tsv}) have no verdict column: {@code yes} in
 * {@code bootable_limited_launcher} is {@code run}; {@code no} is {@code refuse}, at the paths in
 * {@link #EXAMPLE_REFUSALS} (taken from the row's reason), unless qvirt has gained the feature since
 * ({@link #EXAMPLE_RUNS_NOW}: then {@code run}). The three hook sidecar examples are {@code yes} there
 * with a caveat (the hook cannot be honoured); they are {@code refuse} here, as KubeVirt refuses them without its
 * Sidecar gate.
 *
 * <p>Where qvirt falls short, the file is in {@link #RUN_NOT_YET} (a {@code run} file qvirt refuses: the feature
 * it lacks) or {@link #REFUSAL_NOT_YET} (a {@code refuse}/{@code invalid} file qvirt accepts, or refuses without
 * naming the path): the test checks each still falls short, so fixing one fails here until it leaves the list
 * (progress). It prints a summary, writes the kubevirt-examples table to
 * {@code target/kubevirt-examples-table.md}, and checks README's copy of it (between
 * {@code <!-- kubevirt-examples-table -->} markers) is the same.
 */
class CorpusVerdictTest {
    /** What only a library or the JVM would write. */
    static final Pattern LEAK = KubevirtCorpus.LEAK;
    private static final Pattern PATH = Pattern.compile("\\b(?:spec|metadata)(?:\\.[A-Za-z0-9_]+|\\[[0-9]+\\])+");

    /** KubeVirt's examples that qvirt must refuse, and at which paths (any one of them). */
    static final Map<String, List<String>> EXAMPLE_REFUSALS = Map.ofEntries(
            Map.entry("vm-alpine-datavolume.yaml", List.of("spec.template.spec.volumes[0].dataVolume")),
            Map.entry("vm-cirros-clarge-virtio.yaml", List.of("spec.instancetype", "spec.template.spec.domain.memory.guest")),
            Map.entry("vm-cirros-clarge-windows.yaml", List.of("spec.instancetype", "spec.template.spec.domain.memory.guest")),
            Map.entry("vm-cirros-clarge.yaml", List.of("spec.instancetype", "spec.template.spec.domain.memory.guest")),
            Map.entry("vm-cirros-cluster-csmall.yaml", List.of("spec.instancetype", "spec.template.spec.domain.memory.guest")),
            Map.entry("vm-cirros-csmall.yaml", List.of("spec.instancetype", "spec.template.spec.domain.memory.guest")),
            Map.entry("vm-windows-clarge-windows.yaml", List.of("spec.template.spec.volumes[0].persistentVolumeClaim",
                    "spec.instancetype", "spec.template.spec.domain.memory.guest")),
            Map.entry("vmi-dra-pgpu.yaml", List.of("spec.domain.devices.gpus")),
            Map.entry("vmi-fedora-isolated.yaml", List.of("spec.domain.cpu.dedicatedCpuPlacement")),
            Map.entry("vmi-gpu.yaml", List.of("spec.domain.devices.gpus")),
            Map.entry("vmi-multus-multiple-net.yaml", List.of("spec.networks[1]")),
            Map.entry("vmi-multus-ptp.yaml", List.of("spec.networks[0]")),
            Map.entry("vmi-sriov.yaml", List.of("spec.networks[1]", "spec.domain.devices.interfaces[1].sriov")),
            Map.entry("vmi-usb.yaml", List.of("spec.domain.devices.hostDevices")),
            Map.entry("vmi-windows.yaml", List.of("spec.volumes[0].persistentVolumeClaim", "spec.domain.devices.tpm")),
            // INDEX: "yes", with the caveat that the hook cannot be honoured. KubeVirt itself refuses the annotation
            // unless its Alpha Sidecar gate is on, and qvirt (no libvirt) refuses it even then.
            Map.entry("vm-cirros-with-sidecar-hook-configmap.yaml", List.of("spec.template.metadata.annotations")),
            Map.entry("vmi-with-sidecar-hook-configmap.yaml", List.of("metadata.annotations")),
            Map.entry("vmi-with-sidecar-hook.yaml", List.of("metadata.annotations")));

    /**
     * KubeVirt's examples whose INDEX row says {@code no} (written when qvirt lacked the feature) that qvirt runs
     * now, and since what: they are {@code run}.
     */
    static final Map<String, String> EXAMPLE_RUNS_NOW = Map.of(
            "vmi-alpine-efi.yaml", "EFI (OVMF) firmware",
            "vmi-secureboot.yaml", "EFI Secure Boot with SMM",
            "vm-alpine-multipvc.yaml", "persistentVolumeClaim volumes (--pvc-dir, the claims made by the test)",
            "vmi-pvc.yaml", "persistentVolumeClaim volumes (--pvc-dir, the claim made by the test)");

    /** {@code run} files qvirt refuses today: the feature it does not have yet. */
    static final Map<String, String> RUN_NOT_YET = Map.of();

    /** {@code refuse}/{@code invalid} files qvirt accepts, or refuses without naming the path: what is missing. */
    static final Map<String, String> REFUSAL_NOT_YET = Map.of();

    @TempDir
    Path tmp;

    record Row(String collection, String file, String verdict, String why, List<String> paths) {
        String key() {
            return collection + "/" + file;
        }
    }

    record Result(Row row, int code, String output, List<String> errorPaths) {
        boolean accepted() {
            return code == 0;
        }

        boolean namesAnExpectedPath() {
            for (String want : row.paths()) {
                for (String got : errorPaths) {
                    if (sameOrExtends(got, want) || sameOrExtends(want, got)) {
                        return true;
                    }
                }
            }
            return false;
        }
    }

    static boolean sameOrExtends(String longer, String prefix) {
        return longer.equals(prefix) || longer.startsWith(prefix + ".") || longer.startsWith(prefix + "[");
    }

    static Path corpus() {
        return KubevirtCorpus.dir();
    }

    static List<Row> rows(Path corpus) throws IOException {
        List<Row> rows = new ArrayList<>();
        for (KubevirtCorpus.Entry e : KubevirtCorpus.entries("kubevirt-examples")) {
            String[] c = e.columns();
            boolean run = ("yes".equals(c[7]) || EXAMPLE_RUNS_NOW.containsKey(c[0])) && !EXAMPLE_REFUSALS.containsKey(c[0]);
            List<String> paths = run ? List.of() : EXAMPLE_REFUSALS.get(c[0]);
            assertTrue(run || paths != null, "kubevirt-examples/" + c[0] + ": a refusal with no expected path in "
                    + "EXAMPLE_REFUSALS (its reason: " + c[8] + ")");
            rows.add(new Row("kubevirt-examples", c[0], run ? "run" : "refuse", c[8], paths));
        }
        for (KubevirtCorpus.Entry e : KubevirtCorpus.entries("others")) {
            String[] c = e.columns();
            rows.add(new Row("others", c[0], c[4], c[5], whyPaths(c[5])));
        }
        return rows;
    }

    /** The field paths {@code why} names for the file as it is (not what it would be once fixed). */
    static List<String> whyPaths(String why) {
        String asIs = why.split("If fixed|Once fixed")[0];
        Set<String> paths = new LinkedHashSet<>();
        Matcher m = PATH.matcher(asIs);
        while (m.find()) {
            paths.add(m.group());
        }
        return List.copyOf(paths);
    }

    /**
     * The claims a file's volumes name, made as the launcher pod would mount them ({@code DIR/<volume>/disk.img}, a
     * small sparse image): the INDEX's "Needs PVC ..." made by the test. A file the loader refuses gets none.
     */
    private Path claims(Path file) throws IOException {
        Path dir = Files.createTempDirectory(tmp, "claims");
        try {
            for (io.qvirt.api.LoadedManifest d : io.qvirt.api.ManifestLoader.load(file)) {
                var spec = d.vm() != null && d.vm().getSpec() != null && d.vm().getSpec().getTemplate() != null
                        ? d.vm().getSpec().getTemplate().getSpec() : d.vmi() != null ? d.vmi().getSpec() : null;
                if (spec == null || spec.getVolumes() == null) {
                    continue;
                }
                for (io.qvirt.api.model.Volume v : spec.getVolumes()) {
                    if (v.getName() != null && (v.getPersistentVolumeClaim() != null || v.getEphemeral() != null)) {
                        Path img = Files.createDirectories(dir.resolve(v.getName())).resolve("disk.img");
                        try (var f = new java.io.RandomAccessFile(img.toFile(), "rw")) {
                            f.setLength(64L << 20);
                        }
                    }
                }
            }
        } catch (io.qvirt.api.ManifestException | RuntimeException e) {
            // Not loadable: validate says why; it needs no claim for that.
        }
        return dir;
    }

    private Result validate(Row row, Path file) throws IOException {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = LauncherCommand.create(new PrintWriter(out, true), new PrintWriter(err, true))
                .execute("validate", file.toString(), "--runtime-root", tmp.resolve("run").toString(),
                        "--instancetypes", TestGuest.projectRoot().resolve("manifests/instancetypes").toString(),
                        "--instancetypes", KubevirtCorpus.needs().toString(), "--pvc-dir", claims(file).toString());
        String output = out + err.toString();
        Set<String> paths = new LinkedHashSet<>();
        for (String line : err.toString().split("\n")) {
            // ValidationException lists one error a line: "  path: message"
            if (line.startsWith("  ") && line.indexOf(": ") > 2) {
                paths.add(line.substring(2, line.indexOf(": ")));
            }
        }
        if (paths.isEmpty()) {
            // ManifestException: the path inside "error: FILE:LINE:COL: document 1: path: message"
            Matcher m = PATH.matcher(err.toString());
            while (m.find()) {
                paths.add(m.group());
            }
        }
        return new Result(row, code, output, List.copyOf(paths));
    }

    @Test
    void everyCorpusFileGetsItsVerdict() throws Exception {
        Path corpus = corpus();
        assumeTrue(Files.isDirectory(corpus), "no corpus at " + corpus);
        List<Row> rows = rows(corpus);
        assertTrue(rows.size() >= 70, "rows: " + rows.size());
        List<String> failures = new ArrayList<>();
        Map<String, int[]> tally = new TreeMap<>(); // verdict -> {files, met, short of it (listed)}
        Map<String, Result> examples = new LinkedHashMap<>();
        for (Row row : rows) {
            Path file = corpus.resolve(row.collection()).resolve(row.file());
            Result r = validate(row, file);
            int[] t = tally.computeIfAbsent(row.verdict(), v -> new int[3]);
            t[0]++;
            String shown = r.output().replace(file.toString(), "FILE");
            if (r.code() != 0 && r.code() != 2) {
                failures.add(row.key() + ": exit " + r.code() + " (0 or 2 only)\n" + shown);
            }
            if (LEAK.matcher(shown.replaceAll("'[^'\n]*'|\"[^\"\n]*\"", "''")).find()) {
                failures.add(row.key() + ": Java or library text in the output\n" + shown);
            }
            boolean met = "run".equals(row.verdict()) ? r.accepted() : !r.accepted() && r.namesAnExpectedPath();
            String shortfall = "run".equals(row.verdict()) ? RUN_NOT_YET.get(row.key()) : REFUSAL_NOT_YET.get(row.key());
            if (met) {
                t[1]++;
                if (shortfall != null) {
                    failures.add(row.key() + ": now gets its verdict '" + row.verdict() + "': progress! Take it out of "
                            + ("run".equals(row.verdict()) ? "RUN_NOT_YET" : "REFUSAL_NOT_YET") + " (" + shortfall + ")");
                }
            } else if (shortfall != null) {
                t[2]++;
            } else {
                failures.add(row.key() + ": expected '" + row.verdict() + "'" + (row.paths().isEmpty() ? ""
                        : " naming one of " + row.paths()) + ", got exit " + r.code() + "\n" + shown);
            }
            if (row.collection().equals("kubevirt-examples")) {
                examples.put(row.file(), r);
            }
        }
        for (String listed : concat(RUN_NOT_YET.keySet(), REFUSAL_NOT_YET.keySet())) {
            assertTrue(rows.stream().anyMatch(r -> r.key().equals(listed)), "listed but not in an INDEX: " + listed);
        }
        StringBuilder summary = new StringBuilder("corpus verdicts through `launcher validate` (" + rows.size() + " files):");
        tally.forEach((v, t) -> summary.append("\n  ").append(v).append(": ").append(t[1]).append(" of ").append(t[0])
                .append(" get it; ").append(t[2]).append(" listed as not yet"));
        System.out.println(summary);
        String table = examplesTable(examples);
        Path out = Path.of("target", "kubevirt-examples-table.md");
        Files.createDirectories(out.getParent());
        Files.writeString(out, table, StandardCharsets.UTF_8);
        assertTrue(failures.isEmpty(), failures.size() + " files without their verdict:\n" + String.join("\n\n", failures));
        assertEquals(table, readmeTable(), "README's table of KubeVirt's examples differs from what the test found: "
                + "copy " + out.toAbsolutePath() + " between the kubevirt-examples-table markers in README.md");
    }

    private static Set<String> concat(Set<String> a, Set<String> b) {
        Set<String> s = new LinkedHashSet<>(a);
        s.addAll(b);
        return s;
    }

    /** The table README shows: each example, what {@code launcher validate} does with it, and why. */
    static String examplesTable(Map<String, Result> examples) {
        StringBuilder sb = new StringBuilder("| KubeVirt example | on qvirt (`launcher validate`) |\n|---|---|\n");
        examples.forEach((file, r) -> {
            String key = "kubevirt-examples/" + file;
            String verdict;
            if (r.accepted()) {
                verdict = REFUSAL_NOT_YET.containsKey(key) ? "accepted, but should be refused: "
                        + REFUSAL_NOT_YET.get(key) : "runs";
            } else {
                verdict = "refused: " + String.join(", ", r.errorPaths().stream().map(p -> "`" + p + "`").toList());
            }
            sb.append("| `").append(file).append("` | ").append(verdict).append(" |\n");
        });
        return sb.toString();
    }

    static final String MARK = "<!-- kubevirt-examples-table -->";

    static String readmeTable() throws IOException {
        String readme = Files.readString(TestGuest.projectRoot().resolve("README.md"), StandardCharsets.UTF_8);
        int a = readme.indexOf(MARK);
        int b = readme.indexOf(MARK, a + 1);
        if (a < 0 || b < 0) {
            return "(README.md has no table between two " + MARK + " lines)";
        }
        return readme.substring(a + MARK.length(), b).strip() + "\n";
    }
}
