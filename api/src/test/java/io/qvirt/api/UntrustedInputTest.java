package io.qvirt.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qvirt.api.model.Disk;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every hostile or broken input of issue 22 fed for real through {@link ManifestLoader} and the validators:
 * each is answered within the time bound, with a refusal that names the document, the field and what is
 * allowed, and no library wording.
 */
class UntrustedInputTest {
    static final String VMI_HEAD = """
            apiVersion: kubevirt.io/v1
            kind: VirtualMachineInstance
            metadata: {name: x}
            spec:
              domain:
                resources: {requests: {memory: 64Mi}}
                devices: {}
            """;
    /** Bound for an answer in these tests (CPU time of the reading thread): the read bound plus slack. */
    static final long ANSWER_MS = ManifestLoader.TIME_LIMIT.toMillis() + 1500;

    @TempDir
    Path tmp;

    /**
     * This thread's CPU time in ms: the bounds below are on the work done (a quadratic pass shows), and CPU time does
     * not grow when other processes keep this one waiting for a core, as wall-clock time did on a loaded machine.
     */
    static long cpuMs() {
        return java.lang.management.ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime() / 1_000_000;
    }

    /** The refusal of {@code text}, checked for library wording and answered within the bound. */
    static ManifestException refused(String text) {
        long t0 = cpuMs();
        ManifestException e = assertThrows(ManifestException.class, () -> ManifestLoader.loadString(text, "in.yaml"));
        long ms = cpuMs() - t0;
        assertTrue(ms < ANSWER_MS, "answered in " + ms + " ms of CPU: " + e.getMessage());
        ManifestFuzzTest.checkRefusal(e);
        return e;
    }

    static <T> T timed(Callable<T> c) throws Exception {
        long t0 = cpuMs();
        T t = c.call();
        long ms = cpuMs() - t0;
        assertTrue(ms < ANSWER_MS, "answered in " + ms + " ms of CPU");
        return t;
    }

    static List<FieldError> errors(String text) throws Exception {
        List<LoadedManifest> docs = ManifestLoader.loadString(text, "in.yaml");
        assertEquals(1, docs.size());
        List<FieldError> errs = docs.get(0).validate(FeatureGates.kubevirtDefaults().with(FeatureGates.HOST_DISK));
        errs.forEach(fe -> assertFalse(ManifestFuzzTest.leaks(fe.toString()), fe.toString()));
        return errs;
    }

    static String messages(List<FieldError> errors) {
        return String.join("\n", errors.stream().map(FieldError::toString).toList());
    }

    // ---- size, before parsing ----

    @Test
    void overThreeMebibytesIsRefusedBeforeParsing() throws Exception {
        // the issue's 4 MB file: a valid VMI and a long comment
        String big = VMI_HEAD + "#" + "x".repeat(4_000_000) + "\n";
        ManifestException e = refused(big);
        assertEquals("in.yaml: larger than 3145728 bytes (3 MiB, the API server's request limit); refused before "
                + "reading", e.getMessage());
        // one byte over, as a file, and a 50 MB file, which is never read past the limit
        Path f = tmp.resolve("big.yaml");
        Files.writeString(f, VMI_HEAD + "#" + "x".repeat(ManifestLoader.MAX_BYTES - VMI_HEAD.length() - 1) + "\n");
        assertEquals(ManifestLoader.MAX_BYTES + 1, Files.size(f));
        assertTrue(timedRefusal(f).getMessage().contains("larger than 3145728 bytes"));
        Path huge = tmp.resolve("huge.yaml");
        try (OutputStream out = Files.newOutputStream(huge)) {
            byte[] mb = "apiVersion: kubevirt.io/v1\n".repeat(40_000).getBytes(StandardCharsets.UTF_8);
            for (int i = 0; i < 50; i++) {
                out.write(mb);
            }
        }
        assertTrue(Files.size(huge) > 50_000_000);
        assertTrue(timedRefusal(huge).getMessage().contains("refused before reading"));
        // multi-byte characters count as bytes
        String wide = VMI_HEAD + "#" + "\u00e9".repeat(ManifestLoader.MAX_BYTES / 2) + "\n";
        assertTrue(wide.length() < ManifestLoader.MAX_BYTES);
        assertTrue(refused(wide).getMessage().contains("larger than 3145728 bytes"));
    }

    private static ManifestException timedRefusal(Path f) {
        long t0 = cpuMs();
        ManifestException e = assertThrows(ManifestException.class, () -> ManifestLoader.load(f));
        long ms = cpuMs() - t0;
        assertTrue(ms < ANSWER_MS, "answered in " + ms + " ms of CPU: " + e.getMessage());
        ManifestFuzzTest.checkRefusal(e);
        return e;
    }

    @Test
    void justUnderTheCapIsAnsweredWithinTheBound() throws Exception {
        // 3 MiB of block scalar: the most text the loader will read, all of it parsed
        StringBuilder sb = new StringBuilder(VMI_HEAD).append("  x: |\n");
        String line = "    " + "b".repeat(70) + "\n";
        while (sb.length() + line.length() < ManifestLoader.MAX_BYTES) {
            sb.append(line);
        }
        String text = sb.toString();
        try {
            List<LoadedManifest> docs = timed(() -> ManifestLoader.loadString(text, "in.yaml"));
            assertEquals("x", docs.get(0).name());
        } catch (ManifestException e) {
            // on a slow machine the read bound may answer first: still a clean, quick refusal
            ManifestFuzzTest.checkRefusal(e);
            assertTrue(e.getMessage().contains("reading took longer than"), e.getMessage());
        }
    }

    @Test
    void notUtf8IsRefusedWithItsLine() throws Exception {
        Path f = tmp.resolve("latin1.yaml");
        Files.write(f, (VMI_HEAD + "  hostname: caf\u00e9\n").getBytes(StandardCharsets.ISO_8859_1));
        ManifestException e = timedRefusal(f);
        assertEquals(f + ":8: not UTF-8 text: the byte at offset " + (VMI_HEAD.length() + 15) + " is not valid UTF-8",
                e.getMessage());
    }

    @Test
    void unreadableFilesAreNamed() throws Exception {
        assertEquals(tmp + ": cannot read: " + "Is a directory",
                assertThrows(ManifestException.class, () -> ManifestLoader.load(tmp)).getMessage());
        ManifestException e = assertThrows(ManifestException.class,
                () -> ManifestLoader.load(tmp.resolve("none.yaml")));
        assertEquals(tmp.resolve("none.yaml") + ": cannot read: no such file", e.getMessage());
    }

    // ---- structure limits while parsing ----

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "flow lists   | [ | ]",
        "flow maps    | '{a: ' | }",
    })
    void deepNestingIsRefused(String name, String open, String close) {
        // 40,000 levels: as deep as one line under the line limit can hold.
        String text = VMI_HEAD + "  x: " + open.repeat(40_000) + "1" + close.repeat(40_000) + "\n";
        assertTrue(refused(text).getMessage().endsWith("nested deeper than 100 levels"));
        String json = "{\"apiVersion\":\"kubevirt.io/v1\",\"kind\":\"VirtualMachineInstance\",\"spec\":"
                + "[".repeat(50_000) + "]".repeat(50_000) + "}";
        assertTrue(refused(json).getMessage().endsWith("nested deeper than 100 levels"));
    }

    @Test
    void deepBlockNestingIsRefusedWithThePath() {
        StringBuilder sb = new StringBuilder(VMI_HEAD).append("  x:\n");
        for (int i = 0; i < 150; i++) {
            sb.append("  ".repeat(i + 2)).append("a:\n");
        }
        sb.append("  ".repeat(152)).append("b: 1\n");
        ManifestException e = refused(sb.toString());
        assertTrue(e.getMessage().matches("in\\.yaml:\\d+:\\d+: document 1: spec\\.x\\.a\\.a\\..*\\.a: nested deeper "
                + "than 100 levels"), e.getMessage());
        // a real manifest's depth is fine
        assertTrue(ManifestLoader.MAX_DEPTH >= 50);
    }

    @Test
    void longLinesAreRefusedBeforeParsing() {
        String text = VMI_HEAD + "  hostname: '" + "a".repeat(ManifestLoader.MAX_LINE_LENGTH) + "'\n";
        assertEquals("in.yaml:8: line 8 is 262158 characters long; the limit is 262144 (use a block scalar, '|', for "
                + "long text)", refused(text).getMessage());
    }

    @Test
    void billionLaughsIsRefused() {
        StringBuilder sb = new StringBuilder(VMI_HEAD).append("  x:\n    a: &a [x, x, x, x, x, x, x, x, x]\n");
        for (char c = 'b'; c <= 'k'; c++) {
            char p = (char) (c - 1);
            sb.append("    ").append(c).append(": &").append(c).append(" [*").append(p).append(", *").append(p)
                    .append(", *").append(p).append(", *").append(p).append(", *").append(p).append(", *").append(p)
                    .append(", *").append(p).append(", *").append(p).append(", *").append(p).append("]\n");
        }
        String m = refused(sb.toString()).getMessage();
        assertTrue(m.contains("document 1: spec.x.") && (m.endsWith("more than 50 aliases to mappings or lists")
                || m.endsWith("aliases expand to more than 10000 values")), m);
    }

    @Test
    void aliasesAreExpandedAsKubectlDoes() throws Exception {
        LoadedManifest m = ManifestLoader.loadString("""
                apiVersion: kubevirt.io/v1
                kind: VirtualMachineInstance
                metadata: {name: x, labels: &labels {app: web}}
                spec:
                  domain:
                    resources: {requests: {memory: &mem 64Mi}}
                    memory: {guest: *mem}
                    devices:
                      disks:
                      - &disk {name: root, disk: {bus: virtio}}
                      - <<: *disk
                        name: data
                  volumes:
                  - {name: root, containerDisk: {image: &img quay.io/containerdisks/fedora:41}}
                  - {name: data, containerDisk: {image: *img}}
                """, "in.yaml").get(0);
        VirtualMachineInstance vmi = m.vmi();
        assertEquals("64Mi", Quantities.text(vmi.getSpec().getDomain().getMemory().getGuest()));
        List<Disk> disks = vmi.getSpec().getDomain().getDevices().getDisks();
        assertEquals("data", disks.get(1).getName());
        assertEquals("virtio", disks.get(1).getDisk().getBus());
        assertEquals("quay.io/containerdisks/fedora:41", vmi.getSpec().getVolumes().get(1).getContainerDisk().getImage());
        assertEquals(List.of(), m.validate());

        assertEquals("in.yaml:7:14: document 1: spec.domain.devices: alias *nope has no anchor &nope before it in "
                + "this document", refused(VMI_HEAD.replace("devices: {}", "devices: *nope")).getMessage());
    }

    @Test
    void tooManyDocumentsOrValuesAreRefused() {
        assertEquals("in.yaml:10002:1: more than 10000 documents; split the file", refused("---\n".repeat(10_001))
                .getMessage());
        StringBuilder sb = new StringBuilder(VMI_HEAD).append("  x:\n");
        for (int i = 0; i < 60_000; i++) {
            sb.append("    k").append(i).append(": ").append(i).append('\n');
        }
        // The count is what is checked here, not the read's time bound: lifted, so a loaded machine cannot answer first.
        java.time.Duration bound = ManifestLoader.timeLimit;
        ManifestLoader.timeLimit = java.time.Duration.ofMinutes(1);
        try {
            ManifestException e = assertThrows(ManifestException.class, () -> ManifestLoader.loadString(sb.toString(), "in.yaml"));
            assertTrue(e.getMessage().endsWith("more than 50000 values in this input"), e.getMessage());
        } finally {
            ManifestLoader.timeLimit = bound;
        }
    }

    @Test
    void longNumbersAreRefused() {
        String m = refused(VMI_HEAD + "  x: " + "9".repeat(1000) + "\n").getMessage();
        assertTrue(m.endsWith("a number longer than 100 digits"), m);
        m = refused("{\"apiVersion\": \"kubevirt.io/v1\", \"x\": " + "9".repeat(100_000) + "}").getMessage();
        assertTrue(m.endsWith("a number longer than 100 digits"), m);
    }

    @Test
    void duplicateKeysAndNullItemsAreRefusedWithTheirPath() {
        assertEquals("in.yaml:8:3: document 1: spec.domain: duplicate key 'domain'",
                refused(VMI_HEAD + "  domain: {}\n").getMessage());
        assertEquals("in.yaml:9:4: document 1: spec.volumes[0]: null is not allowed as a list item",
                refused(VMI_HEAD + "  volumes:\n  -\n").getMessage());
    }

    // ---- binder failures: field path, what is there, what is allowed ----

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "'  hostname: [a]'                        | spec.hostname: expected a string, found a list",
        "'  volumes: {name: a}'                   | spec.volumes: expected a list, found a mapping",
        "'  volumes: [a]'                         | spec.volumes[0]: expected a mapping, found a string \"a\"",
        "'  terminationGracePeriodSeconds: soon'  | spec.terminationGracePeriodSeconds: expected an integer, found a string \"soon\"",
        "'  terminationGracePeriodSeconds: 99999999999999999999' | spec.terminationGracePeriodSeconds: expected an integer, found the number 99999999999999999999 (out of range)",
        "'  domain: {cpu: {cores: 1.5}, devices: {}}' | spec.domain.cpu.cores: expected an integer, found the number 1.5",
        "'  domain: {devices: {autoattachPodInterface: maybe}}' | spec.domain.devices.autoattachPodInterface: expected true or false, found a string \"maybe\"",
        "'  domain: {devices: {}, machine: q35}'  | spec.domain.machine: expected a mapping, found a string \"q35\"",
        "'  domain: {devices: {disks: [{name: a, disk: \"\"}]}}' | spec.domain.devices.disks[0].disk: expected a mapping, found an empty string",
        "'  domain: {devices: {}, resources: {requests: {memory: [1]}}}' | spec.domain.resources.requests.memory: expected a quantity such as 128Mi, 1Gi or 500m, found a list",
    })
    void wrongTypesNameTheFieldAndWhatIsAllowed(String line, String expected) {
        String text = VMI_HEAD.replace("spec:\n  domain:\n    resources: {requests: {memory: 64Mi}}\n    devices: {}\n",
                "spec:\n") + line + "\n";
        String m = refused(text).getMessage();
        assertTrue(m.matches("in\\.yaml:\\d+:\\d+: document 1: .*"), m);
        assertEquals(expected, m.substring(m.indexOf("document 1: ") + "document 1: ".length()));
    }

    @Test
    void anAliasWhereAMappingIsExpected() {
        // the issue's "although at least one Creator exists": an alias to a scalar where a mapping goes
        String m = refused(VMI_HEAD.replace("metadata: {name: x}", "metadata: {name: &n x}")
                .replace("devices: {}", "devices: *n")).getMessage();
        assertEquals("in.yaml:7:14: document 1: spec.domain.devices: expected a mapping, found a string \"x\"", m);
    }

    // ---- issue 20's two crashes ----

    @Test
    void yamlNullIsAbsentAsInKubeVirt() throws Exception {
        LoadedManifest m = ManifestLoader.loadString("""
                apiVersion: kubevirt.io/v1
                kind: VirtualMachineInstance
                metadata:
                  name: x
                  annotations:
                spec:
                  domain:
                    machine:
                    devices:
                      disks:
                      - name: root
                        disk:
                    resources: {requests: {memory: 64Mi}}
                  volumes:
                  - name: root
                    containerDisk: {image: quay.io/containerdisks/fedora:41, path: ~}
                """, "in.yaml").get(0);
        assertEquals(List.of(), m.validate());
        VirtualMachineInstance vmi = VmiDefaults.apply(m.vmi());
        assertEquals("q35", vmi.getSpec().getDomain().getMachine().getType());
        assertEquals(VmiDefaults.AMD64_DISK_BUS, vmi.getSpec().getDomain().getDevices().getDisks().get(0).getDisk()
                .getBus());
        assertNull(vmi.getSpec().getVolumes().get(0).getContainerDisk().getPath());
        // a quoted empty string is a string, not null: the field names itself
        assertTrue(refused(VMI_HEAD.replace("devices: {}", "devices: ''")).getMessage()
                .endsWith("spec.domain.devices: expected a mapping, found an empty string"));
    }

    @Test
    void generateNameIsNamedAsTheApiServerDoes() throws Exception {
        String text = """
                apiVersion: kubevirt.io/v1
                kind: VirtualMachine
                metadata:
                  generateName: vm-fedora-
                spec:
                  runStrategy: Halted
                  template:
                    spec:
                      domain:
                        devices: {}
                        memory: {guest: 1Gi}
                """;
        LoadedManifest m = ManifestLoader.loadString(text, "in.yaml").get(0);
        assertTrue(m.name().matches("vm-fedora-[bcdfghjklmnpqrstvwxz2456789]{5}"), m.name());
        assertEquals("vm-fedora-", m.resource().getMetadata().getGenerateName());
        assertEquals(List.of(), m.validate());
        assertEquals(m.name(), m.vmi().getMetadata().getName());
        assertEquals(m.name(), VmiDefaults.apply(m.vmi()).getMetadata().getName());
        // the prefix is cut as the API server cuts it (63 characters in all)
        String longName = ManifestLoader.loadString(text.replace("vm-fedora-", "a".repeat(70)), "in.yaml").get(0).name();
        assertEquals(63, longName.length());
        // neither name nor generateName: refused by field
        List<FieldError> errs = ManifestLoader.loadString(text.replace("  generateName: vm-fedora-\n", "  labels: {}\n"),
                "in.yaml").get(0).validate();
        assertEquals("metadata.name: name or generateName is required", errs.get(0).toString());
    }

    // ---- paths from the spec ----

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "/disk/../../../../etc/shadow | must be an absolute path to a file without relative components",
        "/disk/../x                   | must be an absolute path to a file without relative components",
        "disk/x.img                   | must be an absolute path to a file without relative components",
        "./disk.img                   | must be an absolute path to a file without relative components",
        "/disk//x.img                 | must be an absolute path to a file without relative components",
        "/disk/./x.img                | must be an absolute path to a file without relative components",
        "/                            | must not point to root",
        "/disk/a<NUL>b                | must not contain control characters (NUL, newline, ...)",
        "/disk/a<LF>b                 | must not contain control characters (NUL, newline, ...)",
    })
    void specPathsMustBeAbsoluteAndNormalized(String written, String message) throws Exception {
        String path = written.replace("<NUL>", "\u0000").replace("<LF>", "\n");
        String quoted = KubevirtJson.toJson(path);
        String cd = errorsAt(VMI_HEAD + "  volumes:\n  - name: a\n    containerDisk: {image: quay.io/x/y, path: "
                + quoted + "}\n", "spec.volumes[0].containerDisk");
        assertEquals("spec.volumes[0].containerDisk " + message, cd);
        String hd = errorsAt(VMI_HEAD + "  volumes:\n  - name: a\n    hostDisk: {type: Disk, path: " + quoted + "}\n",
                "spec.volumes[0].hostDisk.path");
        assertEquals("spec.volumes[0].hostDisk.path " + message, hd);
        String kb = VMI_HEAD.replace("    devices: {}\n", "    devices: {}\n    firmware:\n      kernelBoot:\n"
                + "        container: {image: quay.io/x/k, kernelPath: " + quoted + ", initrdPath: " + quoted + "}\n");
        String base = "spec.domain.firmware.kernelBoot.container.";
        assertEquals(base + "kernelPath " + message, errorsAt(kb, base + "kernelPath"));
        assertEquals(base + "initrdPath " + message, errorsAt(kb, base + "initrdPath"));
    }

    private static String errorsAt(String text, String path) throws Exception {
        List<FieldError> errs = errors(text);
        return errs.stream().filter(fe -> fe.path().equals(path)).findFirst()
                .orElseThrow(() -> new AssertionError("no error at " + path + ": " + messages(errs))).message();
    }

    @Test
    void cleanAbsolutePathsPass() throws Exception {
        List<FieldError> errs = errors(VMI_HEAD + """
                  volumes:
                  - name: a
                    containerDisk: {image: quay.io/x/y, path: /disk/fedora.qcow2}
                  - name: b
                    hostDisk: {type: Disk, path: /var/lib/images/}
                """);
        assertEquals(List.of(), errs);
    }

    // ---- quantities that would hang or overflow ----

    @Test
    void hugeQuantitiesAreRefusedQuickly() throws Exception {
        List<FieldError> errs = timed(() -> errors(VMI_HEAD.replace("memory: 64Mi", "memory: '1e999999999'")
                + "  volumes:\n  - name: a\n    emptyDisk: {capacity: '9e999'}\n  - name: b\n"
                + "    emptyDisk: {capacity: '99999999999999999999Ei'}\n"));
        String all = messages(errs);
        assertTrue(all.contains("spec.domain.resources.requests.memory: spec.domain.resources.requests.memory "
                + "'1e999999999': quantities must match"), all);
        assertTrue(all.contains("spec.volumes[0].emptyDisk.capacity: spec.volumes[0].emptyDisk.capacity '9e999': out "
                + "of range"), all);
        assertTrue(all.contains("spec.volumes[1].emptyDisk.capacity: spec.volumes[1].emptyDisk.capacity "
                + "'99999999999999999999Ei': out of range"), all);
        // tiny values round up, never divide forever
        assertEquals(1, Quantities.bytes("1e-1000"));
        assertEquals(Long.MAX_VALUE, Quantities.bytes("9e999"));
        assertFalse(Quantities.isValid("1e1001"));
        assertThrows(IllegalArgumentException.class, () -> Quantities.bytes("1e999999999"));
    }

    @Test
    void manyDuplicateDisksAreValidatedInLinearTime() throws Exception {
        StringBuilder sb = new StringBuilder(VMI_HEAD.replace("    devices: {}\n", "    devices:\n      disks:\n"));
        for (int i = 0; i < 15_000; i++) {
            sb.append("      - {name: same}\n");
        }
        String text = sb.toString();
        List<FieldError> errs = timed(() -> errors(text));
        assertEquals(14_999, errs.stream().filter(fe -> fe.message().endsWith("must not have the same Name.")).count());
        assertEquals("spec.domain.devices.disks[2] and spec.domain.devices.disks[0] must not have the same Name.",
                errs.stream().filter(fe -> fe.path().equals("spec.domain.devices.disks[2].name")
                        && fe.message().endsWith("Name.")).findFirst().orElseThrow().message());
    }

    @Test
    void anObjectAlreadyParsedIsBoundWithTheSameMessages() throws Exception {
        var node = KubevirtJson.json().readTree("{\"apiVersion\":\"kubevirt.io/v1\",\"kind\":\"VirtualMachineInstance\","
                + "\"metadata\":{\"name\":\"x\"},\"spec\":{\"domain\":{\"devices\":{},\"machine\":\"q35\"}}}");
        ManifestException e = assertThrows(ManifestException.class, () -> ManifestLoader.fromTree(node, "request"));
        assertEquals("request: document 1: spec.domain.machine: expected a mapping, found a string \"q35\"", e.getMessage());
        ((com.fasterxml.jackson.databind.node.ObjectNode) node.get("spec").get("domain")).remove("machine");
        assertEquals("x", ManifestLoader.fromTree(node, "request").name());
    }

    /** YAML text after VMI_HEAD, and the refusal after "in.yaml:": line:column, the document, the field, qvirt's words. */
    static Stream<Arguments> yamlSyntax() {
        return Stream.of(
                Arguments.of("  x: [\n", "9:1: YAML syntax error: document 1: spec.x: expected a value, found the end of "
                        + "the input"),
                Arguments.of("  x: [a, b\n", "9:1: YAML syntax error: document 1: spec.x[1]: in a '[...]' list: expected "
                        + "',' or ']', found the end of the input"),
                Arguments.of("  x: {a: 1\n", "9:1: YAML syntax error: document 1: spec.x.a: in a '{...}' mapping: "
                        + "expected ',' or '}', found the end of the input"),
                Arguments.of("  x: a: b\n", "8:7: YAML syntax error: document 1: spec.x: a ':' (key: value) is not "
                        + "allowed here: check the indentation of this line against the line above, and quote a value "
                        + "that holds ': '"),
                Arguments.of("  x:\n    a: 1\n   b: 2\n", "10:4: YAML syntax error: document 1: spec.x: found a new "
                        + "'key: value' block where this block ends: check the indentation of this line against the lines "
                        + "above (keys of one mapping, and items of one list, start at the same column)"),
                Arguments.of("  x:\n\t- a\n", "9:1: YAML syntax error: document 1: spec.x: a tab character: YAML "
                        + "indents with spaces only"),
                Arguments.of("  x: \"abc\n", "9:1: YAML syntax error: document 1: spec.x: the input ends inside a quoted "
                        + "string: its closing quote is missing"),
                Arguments.of("  x: @a\n", "8:6: YAML syntax error: document 1: spec.x: the character '@' cannot start a "
                        + "value or a key: quote the value (\"...\") if it is text"),
                Arguments.of("  x: !!binary a\n", "8:16: YAML syntax error: document 1: spec.x: a '!!binary' value "
                        + "that is not valid base64: leave the tag out for text"),
                Arguments.of("  x: |x\n    a\n", "8:7: YAML syntax error: document 1: spec.x: after '|' or '>' only '+' "
                        + "or '-', an indentation digit 1-9, a comment or the end of the line may follow, found 'x'"),
                Arguments.of("  x:\n    ? {a: 1}\n    : b\n", "9:8: YAML syntax error: document 1: spec.x: a key must be plain "
                        + "text, not a mapping or a list"));
    }

    @ParameterizedTest
    @MethodSource("yamlSyntax")
    void yamlSyntaxErrorsAreInQvirtsWordsWithTheField(String tail, String expected) {
        ManifestException e = refused(VMI_HEAD + tail);
        assertEquals("in.yaml:" + expected, e.getMessage());
        assertNotNull(e.getCause());
    }

    /** JSON text and its refusal after "in.yaml:". */
    static Stream<Arguments> jsonSyntax() {
        String value = "expected a value (a string in double quotes, a number, true, false, null, '{' or '['), found ";
        return Stream.of(
                Arguments.of("{\"apiVersion\": }", "1:16: JSON syntax error: document 1: apiVersion: " + value + "'}'"),
                Arguments.of("{\"a\": tru}", "1:7: JSON syntax error: document 1: a: " + value + "'tru'"),
                Arguments.of("{\"a\": [1, 2}", "1:12: JSON syntax error: document 1: a[1]: found '}' where ']' must "
                        + "close the list first"),
                Arguments.of("{\"a\": 1}}", "1:9: JSON syntax error: found '}' with no open '{' to close"),
                Arguments.of("{\"a\": 1 \"b\": 2}", "1:9: JSON syntax error: document 1: a: in a mapping: expected ',' "
                        + "or '}' after a value, found '\"'"),
                Arguments.of("{\"a\" 1}", "1:6: JSON syntax error: document 1: a: expected ':' after a key, found '1'"),
                Arguments.of("{a: 1}", "1:2: JSON syntax error: document 1: expected a key in double quotes (\"name\") "
                        + "or '}', found 'a'"),
                Arguments.of("{\"a\": \"x", "1:9: JSON syntax error: document 1: a: the input ends inside a string: "
                        + "its closing '\"' is missing"),
                Arguments.of("{\"a\": {\"b\": 1", "1:14: JSON syntax error: document 1: a.b: the input ends inside a "
                        + "mapping: '}' is missing"),
                Arguments.of("{\"a\": 01}", "1:8: JSON syntax error: document 1: a: a number must not start with 0 "
                        + "(write 7, not 07; quote it if it is text)"),
                Arguments.of("{\"a\": \"\\q\"}", "1:9: JSON syntax error: document 1: a: an escape JSON does not know "
                        + "in a string: allowed are \\\", \\\\, \\/, \\b, \\f, \\n, \\r, \\t and \\uXXXX"),
                Arguments.of("{\"a\": 1 // c\n}", "1:9: JSON syntax error: document 1: a: JSON has no comments: "
                        + "found '/'"),
                Arguments.of("{\"a\": \"x\ny\"}", "1:9: JSON syntax error: document 1: a: a control character (code "
                        + "10) inside a string: write it as an escape (\\n, \\t, \\uXXXX)"));
    }

    @ParameterizedTest
    @MethodSource("jsonSyntax")
    void jsonSyntaxErrorsAreInQvirtsWordsWithTheField(String text, String expected) {
        ManifestException e = refused(text);
        assertEquals("in.yaml:" + expected, e.getMessage());
        assertNotNull(e.getCause());
    }
}
