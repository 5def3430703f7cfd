package io.qvirt.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Feeds the loader and the validators mutations of real manifests (every file of
 * {@code ../shared/kubevirt-corpus/}, the api fixtures and the testdata VMs): bytes flipped, lines dropped,
 * duplicated and re-indented, fields dropped, duplicated, retyped, grafted and nested deeper, aliases
 * added. Every input must end in an accepted manifest (with or without validation errors) or a
 * {@link ManifestException}; no other exception, no library wording in any message, no input slower than
 * {@link #PER_INPUT_BOUND_MS}. Seed and size are fixed ({@code -Dqvirt.fuzz.seed}, {@code -Dqvirt.fuzz.inputs}
 * for a longer run: see the api README).
 */
class ManifestFuzzTest {
    static final long SEED = Long.getLong("qvirt.fuzz.seed", 22L);
    static final int INPUTS = Integer.getInteger("qvirt.fuzz.inputs", 100_000);
    /** Per-input bound: far above the slowest real input, far below a hang. */
    static final long PER_INPUT_BOUND_MS = 3_000;
    /**
     * What only a library or the JVM would write; user text echoed in messages never holds these here (a
     * backtick alone is no sign: a flipped bit makes one in a field name, which messages echo).
     */
    static final Pattern LEAK = Pattern.compile("com\\.fasterxml|org\\.yaml|io\\.fabric8|io\\.qvirt|java\\.lang|"
            + "java\\.util|Cannot coerce|Cannot construct|Cannot deserialize|Creator|CoercionConfig|\\[Source|"
            + "StreamReadConstraints|Exception|reference chain|"
            // the parsers' own syntax wording: their token, event and class names
            + "Unexpected character|Unexpected end-of-input|Unexpected close marker|Unrecognized token|was expecting|"
            + "CTRL-CHAR|<block|<stream|<scalar>|<document|<flow|while parsing|while scanning|node content|"
            + "cannot start any token|simple key|Base64Variant|BaseNVariant|StreamReadFeature|Event\\(|"
            + "not valid here$");
    private static final JsonNodeFactory F = JsonNodeFactory.instance;
    private static final String[] SPECIAL = {":", "-", "- ", "[", "]", "{", "}", "&a ", "*a", "!!binary ", "!x ",
        "|", ">", "\"", "'", "#", "\n", "\t", " ", "\u0000", "\uFFFF", "\u00e9", "\ud83d\ude00", "---\n", "...\n",
        "? ", "<<: ", "%YAML 1.1\n", "\\", ",", "0x", "1e999", "~", "null", "\r"};

    record Seed(String name, String text, JsonNode tree) {
    }

    record Outcome(boolean loaded, int docs, int fieldErrors) {
    }

    static List<Seed> seeds() throws IOException {
        List<Path> files = new ArrayList<>();
        Path root = TestFiles.root();
        addYaml(files, root.resolve("testdata/fixtures"));
        addYaml(files, root.resolve("testdata"));
        Path corpus = root.resolveSibling("shared").resolve("kubevirt-corpus");
        if (!Files.isDirectory(corpus)) {
            corpus = root.resolve("../shared/kubevirt-corpus").normalize();
        }
        if (Files.isDirectory(corpus)) {
            addYaml(files, corpus.resolve("kubevirt-examples"));
            addYaml(files, corpus.resolve("others"));
        } else {
            System.out.println("fuzz: no corpus at " + corpus + "; fixtures and testdata only");
        }
        List<Seed> seeds = new ArrayList<>();
        for (Path f : files) {
            String text = Files.readString(f, StandardCharsets.UTF_8);
            JsonNode tree = null;
            try {
                tree = KubevirtJson.yaml().readTree(text);
            } catch (IOException | RuntimeException e) {
                // a seed that is not valid YAML (bad-syntax.yaml) is mutated as text only
            }
            seeds.add(new Seed(root.relativize(f.toAbsolutePath().normalize()).toString()
                    .replace("../", ""), text, tree));
        }
        return seeds;
    }

    private static void addYaml(List<Path> files, Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return;
        }
        try (Stream<Path> s = Files.list(dir)) {
            s.filter(p -> p.toString().endsWith(".yaml") || p.toString().endsWith(".yml")
                    || p.toString().endsWith(".json")).sorted().forEach(files::add);
        }
    }

    /** Loads, validates (both gate sets), builds the VMI and defaults it: what every qvirt CLI does. */
    static Outcome run(String text) {
        List<LoadedManifest> docs;
        try {
            docs = ManifestLoader.loadString(text, "fuzz.yaml");
        } catch (ManifestException e) {
            checkRefusal(e);
            return new Outcome(false, 0, 0);
        }
        int errors = 0;
        for (LoadedManifest d : docs) {
            // the launcher's gates: hostDisk on, so its paths are checked too
            List<FieldError> errs = d.validate(FeatureGates.kubevirtDefaults().with(FeatureGates.HOST_DISK));
            errors += errs.size();
            for (FieldError fe : errs) {
                if (leaks(fe.toString())) {
                    throw new AssertionError("validation message leaks a library: " + fe);
                }
            }
            assertTrue(d.name() != null && !d.name().isEmpty() || errs.stream()
                    .anyMatch(fe -> fe.path().equals("metadata.name")), "a nameless document validated clean");
            VirtualMachineInstance vmi = d.vmi();
            if (vmi != null) {
                VmiDefaults.apply(vmi);
                KubevirtJson.toJson(vmi);
            }
        }
        return new Outcome(true, docs.size(), errors);
    }

    /** Library wording in a message, outside the user's own values it quotes ('...' or "..."). */
    static boolean leaks(String message) {
        return LEAK.matcher(message.replaceAll("'[^'\n]*'|\"[^\"\n]*\"", "''")).find();
    }

    static void checkRefusal(ManifestException e) {
        String m = e.getMessage();
        if (m == null || leaks(m)) {
            throw new AssertionError("refusal leaks a library: " + m, e);
        }
        for (Throwable t = e.getCause(); t != null; t = t.getCause()) {
            if (t instanceof NullPointerException || t instanceof ClassCastException
                    || t instanceof IndexOutOfBoundsException || t instanceof IllegalStateException
                    || t instanceof ArithmeticException || t instanceof UnsupportedOperationException
                    || t instanceof StackOverflowError || t instanceof OutOfMemoryError) {
                throw new AssertionError("a refusal hides a bug: " + m, e);
            }
        }
    }

    @Test
    void seedsThemselvesLoadOrAreRefusedCleanly() throws Exception {
        List<Seed> seeds = seeds();
        assertTrue(seeds.size() >= 20, "seeds: " + seeds.size());
        for (Seed s : seeds) {
            run(s.text());
        }
    }

    @Test
    void mutationsOfEverySeedAreAcceptedOrRefusedCleanly() throws Exception {
        List<Seed> seeds = seeds();
        Random random = new Random(SEED);
        ExecutorService worker = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "fuzz-worker");
            t.setDaemon(true);
            return t;
        });
        int loaded = 0;
        int refused = 0;
        int withFieldErrors = 0;
        int clean = 0;
        long slowestNanos = 0;
        long mutateNanos = 0;
        String slowest = "";
        long start = System.nanoTime();
        try {
            for (int i = 0; i < INPUTS; i++) {
                Seed seed = seeds.get(i % seeds.size());
                StringBuilder how = new StringBuilder();
                long m0 = System.nanoTime();
                String input = mutate(seed, random, how);
                long t0 = System.nanoTime();
                mutateNanos += t0 - m0;
                Future<Outcome> f = worker.submit(() -> run(input));
                Outcome o;
                try {
                    o = f.get(PER_INPUT_BOUND_MS, TimeUnit.MILLISECONDS);
                } catch (TimeoutException e) {
                    Path saved = save(i, input);
                    fail("input " + i + " (" + seed.name() + how + ") took over " + PER_INPUT_BOUND_MS + " ms; saved "
                            + saved);
                    return;
                } catch (java.util.concurrent.ExecutionException e) {
                    Path saved = save(i, input);
                    throw new AssertionError("input " + i + " (" + seed.name() + how + ", saved " + saved + "): "
                            + e.getCause(), e.getCause());
                }
                long took = System.nanoTime() - t0;
                if (took > slowestNanos) {
                    slowestNanos = took;
                    slowest = seed.name() + how + " (" + input.length() + " chars)";
                }
                if (!o.loaded()) {
                    refused++;
                } else {
                    loaded++;
                    if (o.fieldErrors() > 0) {
                        withFieldErrors++;
                    } else {
                        clean++;
                    }
                }
            }
        } finally {
            worker.shutdownNow();
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        System.out.printf("fuzz: %d inputs from %d seeds (seed %d) in %.1f s: %d refused by the loader, "
                        + "%d loaded with validation errors, %d valid; %.1f s of it making inputs; slowest input %.1f ms: "
                        + "%s%n", INPUTS, seeds.size(), SEED, seconds, refused, withFieldErrors, clean, mutateNanos / 1e9,
                slowestNanos / 1e6, slowest);
        assertEquals(INPUTS, refused + loaded);
        // The mutations must reach every outcome, or the fuzzer is not testing what it claims.
        assertTrue(refused > INPUTS / 20, "refused " + refused);
        assertTrue(withFieldErrors > INPUTS / 20, "with errors " + withFieldErrors);
        assertTrue(clean > INPUTS / 100, "valid " + clean);
    }

    private static Path save(int i, String input) {
        try {
            Path dir = Files.createDirectories(Path.of("target", "fuzz-failures"));
            Path f = dir.resolve("input-" + i + ".yaml");
            Files.writeString(f, input, StandardCharsets.UTF_8);
            return f.toAbsolutePath();
        } catch (IOException e) {
            return Path.of("(not saved: " + e.getMessage() + ")");
        }
    }

    // ---- mutations ----

    static String mutate(Seed seed, Random r, StringBuilder how) {
        int kind = r.nextInt(10);
        if (seed.tree() != null && kind < 6) {
            JsonNode tree = seed.tree().deepCopy();
            int n = 1 + r.nextInt(3);
            for (int i = 0; i < n; i++) {
                tree = mutateTree(tree, r, how);
            }
            String text = r.nextInt(3) == 0 ? KubevirtJson.toYaml(tree) : KubevirtJson.toJson(tree);
            if (r.nextInt(5) == 0) {
                text = mutateText(text, r, how);
            }
            return text;
        }
        String text = seed.text();
        int n = 1 + r.nextInt(4);
        for (int i = 0; i < n; i++) {
            text = mutateText(text, r, how);
        }
        return text;
    }

    static String mutateText(String text, Random r, StringBuilder how) {
        if (text.isEmpty()) {
            return SPECIAL[r.nextInt(SPECIAL.length)];
        }
        String[] lines = text.split("\n", -1);
        int li = r.nextInt(lines.length);
        switch (r.nextInt(9)) {
            case 0: { // flip bits of a character
                int at = r.nextInt(text.length());
                char c = (char) (text.charAt(at) ^ (1 << r.nextInt(7)));
                how.append(" flip@").append(at);
                return text.substring(0, at) + c + text.substring(at + 1);
            }
            case 1: { // insert a YAML-significant token
                int at = r.nextInt(text.length() + 1);
                String s = SPECIAL[r.nextInt(SPECIAL.length)];
                how.append(" insert@").append(at);
                return text.substring(0, at) + s + text.substring(at);
            }
            case 2: { // delete a span
                int at = r.nextInt(text.length());
                int len = 1 + r.nextInt(Math.min(40, text.length() - at));
                how.append(" cut@").append(at);
                return text.substring(0, at) + text.substring(at + len);
            }
            case 3: // drop a line
                how.append(" dropline").append(li);
                return join(lines, li, null, false);
            case 4: // duplicate a line (duplicate keys, repeated list items)
                how.append(" dupline").append(li);
                return join(lines, li, lines[li], true);
            case 5: // re-indent a line
                how.append(" indent").append(li);
                return join(lines, li, (r.nextBoolean() ? "  " : "") + lines[li].replaceFirst("^ {1,2}", ""), false);
            case 6: { // duplicate a block of lines
                int len = 1 + r.nextInt(Math.min(8, lines.length - li));
                List<String> out = new ArrayList<>(List.of(lines));
                out.addAll(li + len, out.subList(li, li + len));
                how.append(" dupblock").append(li);
                return String.join("\n", out);
            }
            case 7: { // an anchor on one value and aliases elsewhere
                int other = r.nextInt(lines.length);
                String a = lines[li].replaceFirst(":( |$)", ": &x ");
                String b = lines[other].replaceFirst(":( .*)?$", ": *x");
                how.append(" alias").append(li).append("->").append(other);
                String[] copy = lines.clone();
                copy[li] = a;
                if (other != li) {
                    copy[other] = b;
                }
                return String.join("\n", copy);
            }
            default: { // truncate
                int at = r.nextInt(text.length());
                how.append(" truncate@").append(at);
                return text.substring(0, at);
            }
        }
    }

    private static String join(String[] lines, int at, String line, boolean insert) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < lines.length; i++) {
            if (i == at) {
                if (insert) {
                    sb.append(lines[i]).append('\n');
                }
                if (line != null) {
                    sb.append(line).append('\n');
                }
                continue;
            }
            sb.append(lines[i]).append('\n');
        }
        return sb.toString();
    }

    /** The values a manifest field might be retyped to: KubeVirt-shaped, hostile and plain wrong. */
    static JsonNode randomValue(Random r, JsonNode near) {
        switch (r.nextInt(22)) {
            case 0: return F.textNode("");
            case 1: return F.textNode("x");
            case 2: return F.numberNode(r.nextInt(5) - 1);
            case 3: return F.numberNode(Long.MAX_VALUE);
            case 4: return F.numberNode(new java.math.BigInteger("9".repeat(40)));
            case 5: return F.numberNode(1.5e300);
            case 6: return F.booleanNode(r.nextBoolean());
            case 7: return F.nullNode();
            case 8: return F.arrayNode();
            case 9: return F.objectNode();
            case 10: return F.arrayNode().add(F.objectNode().put("name", "x"));
            case 11: return F.objectNode().put("name", near == null ? "x" : near.asText());
            case 12: return F.textNode("/disk/../../../../etc/shadow");
            case 13: return F.textNode(r.nextBoolean() ? "1e999999999" : "9e999Gi");
            case 14: return F.textNode("-1Gi");
            case 15: return F.textNode("x".repeat(300));
            case 16: return F.textNode("a\u0000b");
            case 17: return F.textNode(r.nextBoolean() ? "../x" : "/");
            case 18: return F.textNode("quay.io/x/y:" + "z".repeat(200));
            case 19: return F.textNode(r.nextBoolean() ? "yes" : "0x1F");
            case 20: return F.textNode(r.nextBoolean() ? "128Mi" : "q35");
            default: return near == null ? F.textNode("y") : near.deepCopy();
        }
    }

    static JsonNode mutateTree(JsonNode root, Random r, StringBuilder how) {
        List<JsonNode> containers = new ArrayList<>();
        collect(root, containers);
        if (containers.isEmpty()) {
            return F.objectNode().set("x", root);
        }
        JsonNode c = containers.get(r.nextInt(containers.size()));
        int op = r.nextInt(6);
        if (c instanceof ObjectNode o && o.size() > 0) {
            List<String> names = new ArrayList<>();
            o.fieldNames().forEachRemaining(names::add);
            String k = names.get(r.nextInt(names.size()));
            JsonNode v = o.get(k);
            switch (op) {
                case 0:
                    how.append(" drop:").append(k);
                    o.remove(k);
                    break;
                case 1:
                case 2:
                    how.append(" retype:").append(k);
                    o.set(k, randomValue(r, v));
                    break;
                case 3:
                    how.append(" nest:").append(k);
                    JsonNode deeper = v;
                    int levels = 1 + r.nextInt(r.nextInt(10) == 0 ? 120 : 4);
                    for (int i = 0; i < levels; i++) {
                        deeper = r.nextBoolean() ? F.arrayNode().add(deeper) : F.objectNode().set(k, deeper);
                    }
                    o.set(k, deeper);
                    break;
                case 4:
                    how.append(" graft:").append(k);
                    JsonNode other = containers.get(r.nextInt(containers.size()));
                    if (other != o && !contains(other, o)) {
                        o.set(k, other.deepCopy());
                    }
                    break;
                default:
                    how.append(" dup:").append(k);
                    o.set(k + (r.nextBoolean() ? "" : "s"), v.deepCopy());
                    o.set(k.toLowerCase(), v.deepCopy());
            }
        } else if (c instanceof ArrayNode a && a.size() > 0) {
            int i = r.nextInt(a.size());
            switch (op) {
                case 0:
                    how.append(" drop:[").append(i).append(']');
                    a.remove(i);
                    break;
                case 1:
                case 2:
                    how.append(" retype:[").append(i).append(']');
                    JsonNode v = randomValue(r, a.get(i));
                    a.set(i, v.isNull() ? F.textNode("null") : v);
                    break;
                default:
                    how.append(" dup:[").append(i).append(']');
                    int times = 1 + r.nextInt(r.nextInt(20) == 0 ? 300 : 2);
                    for (int t = 0; t < times; t++) {
                        a.add(a.get(i).deepCopy());
                    }
            }
        }
        return root;
    }

    private static boolean contains(JsonNode outer, JsonNode inner) {
        if (outer == inner) {
            return true;
        }
        for (Iterator<JsonNode> it = outer.elements(); it.hasNext(); ) {
            if (contains(it.next(), inner)) {
                return true;
            }
        }
        return false;
    }

    private static void collect(JsonNode n, List<JsonNode> out) {
        if (n.isContainerNode()) {
            out.add(n);
            if (n.isObject()) {
                for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
                    collect(it.next().getValue(), out);
                }
            } else {
                n.forEach(e -> collect(e, out));
            }
        }
    }

    @Test
    void leakPatternCatchesWhatTheBinderWouldSay() {
        // The check above must be able to fail: Jackson's own words are caught.
        assertTrue(leaks("Cannot coerce empty String (\"\") to `io.qvirt.api.model.Machine` value"));
        assertTrue(leaks("Cannot construct instance of `X` (although at least one Creator exists)"));
        assertTrue(leaks("x: Document nesting depth (1001) exceeds the maximum allowed (1000, from "
                + "`StreamReadConstraints.getMaxNestingDepth()`)"));
        assertFalse(leaks("spec.domain.machine: expected a mapping, found a string \"x`Creator\""));
        // and the parsers' syntax wording
        assertTrue(leaks("YAML syntax error: expected <block end>, but found '<block mapping start>' (while parsing a "
                + "block mapping)"));
        assertTrue(leaks("JSON syntax error: Unexpected character ('}' (code 125)): was expecting double-quote to start "
                + "field name"));
        assertTrue(leaks("YAML syntax error: Unexpected end of base64-encoded String: base64 variant 'MIME' expects "
                + "padding (one or more '=' characters) at the end. This Base64Variant might have been incorrectly "
                + "configured"));
    }
}
