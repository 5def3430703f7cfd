package io.qvirt.launcher.cli;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.qvirt.testdata.TestGuest;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code launcher validate} as a user runs it (the picocli command line of {@code bin/launcher}, in process), on
 * mutations of real manifests (the corpus beside the checkout, the api fixtures, the testdata VMs): every input
 * ends with exit 0 or 2, nothing a library or the JVM would write reaches the output, and no input takes more
 * than {@link #PER_INPUT_BOUND_MS}. The api module's {@code ManifestFuzzTest} covers the loader with 100,000
 * inputs; this one covers what the CLI adds (planning, exit codes, message mapping) with fewer. Seed and count:
 * {@code -Dqvirt.fuzz.seed}, {@code -Dqvirt.validate.inputs}.
 */
class ValidateFuzzTest {
    static final long SEED = Long.getLong("qvirt.fuzz.seed", 22L);
    static final int INPUTS = Integer.getInteger("qvirt.validate.inputs", 2_000);
    /** Generous: after warm-up the slowest input here takes well under 100 ms; a hang or a blow-up takes far longer. */
    static final long PER_INPUT_BOUND_MS = 2_000;
    /** What only a library or the JVM would write (the api fuzz test's list, plus stack frames). */
    static final Pattern LEAK = io.qvirt.testdata.KubevirtCorpus.LEAK;
    private static final String[] TOKENS = {":", "- ", "[", "]", "{", "}", "&a ", "*a", "!!binary ", "!x ", "|", ">",
        "\"", "'", "#", "\n", "\t", "  ", "\u0000", "\u00e9", "---\n", "? ", "<<: ", "\\", ",", "1e999", "~", "null",
        "-1", "99999999999999999999", "../", "/dev/kvm", "0x10"};
    private static final String[] VALUES = {"[]", "{}", "null", "~", "0", "-1", "true", "\"\"", "1e999", "*a",
        "[a, b]", "{a: 1}", "99999999999Ti", "/disk/../../etc/shadow", "\"a\\u0000b\""};

    @TempDir
    Path tmp;

    record Run(int code, String out, String err) {
    }

    private Run validate(Path file) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = LauncherCommand.create(new PrintWriter(out, true), new PrintWriter(err, true))
                .execute("validate", file.toString(), "--runtime-root", tmp.resolve("run").toString());
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void everyMutatedManifestEndsInExitZeroOrTwoWithAReadableMessage() throws Exception {
        List<String> seeds = seeds();
        assertTrue(seeds.size() >= 5, "seeds: " + seeds.size());
        Random random = new Random(SEED);
        Path input = tmp.resolve("input.yaml");
        // The seeds as they are, first: they warm the JVM up (class loading is not what the bound is about), must
        // end in 0 or 2 too, and those that are valid are mutated more often, so mutations reach the planner.
        List<String> validSeeds = new ArrayList<>();
        long warm0 = System.nanoTime();
        for (String s : seeds) {
            Files.writeString(input, s, StandardCharsets.UTF_8);
            Run r = validate(input);
            assertTrue(r.code() == 0 || r.code() == 2, "a seed: exit " + r.code() + "\n" + r.err());
            if (r.code() == 0) {
                validSeeds.add(s);
            }
        }
        double warmUp = (System.nanoTime() - warm0) / 1e9;
        assertTrue(validSeeds.size() >= 3, "valid seeds: " + validSeeds.size());
        ExecutorService worker = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "validate-fuzz");
            t.setDaemon(true);
            return t;
        });
        int valid = 0;
        int refused = 0;
        long slowest = 0;
        String slowestInput = "";
        long start = System.nanoTime();
        try {
            for (int i = 0; i < INPUTS; i++) {
                String text = mutate(i % 2 == 0 ? validSeeds.get(random.nextInt(validSeeds.size()))
                        : seeds.get(random.nextInt(seeds.size())), random);
                Files.writeString(input, text, StandardCharsets.UTF_8);
                long t0 = System.nanoTime();
                Future<Run> f = worker.submit(() -> validate(input));
                Run r;
                try {
                    r = f.get(PER_INPUT_BOUND_MS, TimeUnit.MILLISECONDS);
                } catch (TimeoutException e) {
                    fail("input " + i + " took over " + PER_INPUT_BOUND_MS + " ms; saved " + save(i, text));
                    return;
                }
                long took = System.nanoTime() - t0;
                if (took > slowest) {
                    slowest = took;
                    slowestInput = "input " + i + " (" + text.length() + " chars)";
                }
                if (r.code() != 0 && r.code() != 2) {
                    fail("input " + i + ": exit " + r.code() + " (0 or 2 only); saved " + save(i, text) + "\n" + r.err());
                }
                String shown = (r.out() + r.err()).replace(input.toString(), "FILE");
                if (LEAK.matcher(shown.replaceAll("'[^'\n]*'|\"[^\"\n]*\"", "''")).find()) {
                    fail("input " + i + ": library or JVM text in the output; saved " + save(i, text) + "\n" + shown);
                }
                if (r.code() == 0) {
                    valid++;
                } else {
                    refused++;
                }
            }
        } finally {
            worker.shutdownNow();
        }
        double total = (System.nanoTime() - start) / 1e9;
        System.out.printf("validate fuzz: %d seeds (%d valid) in %.1f s (warm-up), then %d inputs (seed %d) in %.1f s: "
                + "%d valid, %d refused (exit 2); slowest %s %.1f ms%n", seeds.size(), validSeeds.size(), warmUp, INPUTS,
                SEED, total, valid, refused, slowestInput, slowest / 1e6);
        assertTrue(refused > INPUTS / 10 && valid > 0, "the mutations reach both outcomes: " + valid + " valid, "
                + refused + " refused");
    }

    /** A copy of a failing input under target/, for a bug report. */
    private static Path save(int i, String text) throws IOException {
        Path p = Path.of("target", "validate-fuzz-input-" + i + ".yaml").toAbsolutePath();
        Files.createDirectories(p.getParent());
        Files.writeString(p, text, StandardCharsets.UTF_8);
        return p;
    }

    private static List<String> seeds() throws IOException {
        Path root = TestGuest.projectRoot();
        List<Path> files = new ArrayList<>();
        for (Path dir : List.of(root.resolve("testdata"), root.resolve("testdata/fixtures"),
                root.resolveSibling("shared").resolve("kubevirt-corpus/kubevirt-examples"),
                root.resolveSibling("shared").resolve("kubevirt-corpus/others"))) {
            if (!Files.isDirectory(dir)) {
                continue;
            }
            try (Stream<Path> s = Files.list(dir)) {
                s.filter(p -> p.toString().endsWith(".yaml") || p.toString().endsWith(".yml")).sorted().forEach(files::add);
            }
        }
        List<String> out = new ArrayList<>();
        for (Path f : files) {
            out.add(Files.readString(f, StandardCharsets.UTF_8));
        }
        return out;
    }

    /** One to four line- and character-level mutations of a YAML text. */
    static String mutate(String seed, Random random) {
        List<String> lines = new ArrayList<>(List.of(seed.split("\n", -1)));
        int n = 1 + random.nextInt(4);
        for (int k = 0; k < n && !lines.isEmpty(); k++) {
            int i = random.nextInt(lines.size());
            String l = lines.get(i);
            switch (random.nextInt(8)) {
                case 0 -> lines.remove(i);
                case 1 -> lines.add(i, l);
                case 2 -> lines.set(i, "  " + l);
                case 3 -> lines.set(i, l.startsWith("  ") ? l.substring(2) : l);
                case 4 -> {
                    // retype: the value after "key:" becomes another kind
                    int colon = l.indexOf(": ");
                    if (colon > 0) {
                        lines.set(i, l.substring(0, colon + 2) + VALUES[random.nextInt(VALUES.length)]);
                    }
                }
                case 5 -> {
                    // nest deeper: the line's value moves under a new key
                    int colon = l.indexOf(": ");
                    if (colon > 0) {
                        String indent = l.substring(0, l.length() - l.stripLeading().length());
                        lines.set(i, l.substring(0, colon + 1));
                        lines.add(i + 1, indent + "  x" + l.substring(colon));
                    }
                }
                case 6 -> {
                    int at = l.isEmpty() ? 0 : random.nextInt(l.length() + 1);
                    lines.set(i, l.substring(0, at) + TOKENS[random.nextInt(TOKENS.length)] + l.substring(at));
                }
                default -> {
                    if (!l.isEmpty()) {
                        char[] c = l.toCharArray();
                        c[random.nextInt(c.length)] = (char) (random.nextInt(95) + 32);
                        lines.set(i, new String(c));
                    }
                }
            }
        }
        return String.join("\n", lines);
    }
}
