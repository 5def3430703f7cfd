package io.qvirt.apiserver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.qvirt.api.FeatureGates;
import io.qvirt.api.KubevirtJson;
import io.qvirt.api.LoadedManifest;
import io.qvirt.api.ManifestLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Fixed-seed fuzzing of the webhooks' decoding and handling, as {@code QmpCodecFuzzTest} does for QMP: valid
 * reviews (the seed VM and VMI, each path), mutated ones (byte flips, insertions of JSON-ish noise, deletions,
 * truncation, duplication) and random bytes. Holds: {@link Admission#handle} either answers a review or throws a
 * 4xx {@link ApiError}; nothing else escapes, and every answer carries the request's uid.
 */
class AdmissionFuzzTest {
    private static final long SEED = 0x41_44_4D_2026L;
    private static final int CASES = 10_000;
    private static final byte[] ALPHABET = "{}[]\"\\:, \n0123456789abcdefnulltrue-.eE+uspecdomainAdmissionReview\u00e9"
            .getBytes(StandardCharsets.UTF_8);

    /** Held strongly: every denial is logged at INFO, too many here. */
    private static final java.util.logging.Logger ADMISSION_LOG = java.util.logging.Logger.getLogger(Admission.class.getName());

    @Test
    void mutatedReviewsOnlyGiveAnswersOr4xx() throws Exception {
        ADMISSION_LOG.setLevel(java.util.logging.Level.WARNING);
        Admission a = new Admission(FeatureGates::kubevirtDefaults);
        Path root = Path.of(System.getProperty("qvirt.root", ".."), "testdata");
        var vm = ManifestLoader.loadOne(root.resolve("vm.yaml")).vm();
        var vmi = LoadedManifest.fromVm(vm);
        List<String[]> seeds = new ArrayList<>();
        for (String path : Admission.PATHS) {
            boolean isVm = path.startsWith("/virtualmachines-");
            ObjectNode r = AdmissionTest.review(isVm ? "VirtualMachine" : "VirtualMachineInstance",
                    path.endsWith("update") ? "UPDATE" : "CREATE", KubevirtJson.toTree(isVm ? vm : vmi),
                    path.endsWith("update") ? KubevirtJson.toTree(vmi) : null, "fuzz");
            seeds.add(new String[] {path, r.toString()});
        }
        Random rnd = new Random(SEED);
        int answered = 0;
        int refused = 0;
        for (int c = 0; c < CASES; c++) {
            String[] seed = seeds.get(rnd.nextInt(seeds.size()));
            byte[] input = mutate(rnd, seed[1].getBytes(StandardCharsets.UTF_8));
            try {
                ObjectNode out = a.handle(seed[0], input);
                assertEquals("AdmissionReview", out.path("kind").asText());
                assertTrue(out.path("response").path("uid").isTextual(), "case " + c + ": an answer names its uid");
                assertTrue(out.path("response").path("allowed").isBoolean());
                answered++;
            } catch (ApiError e) {
                assertTrue(e.code() >= 400 && e.code() < 500, "case " + c + ": " + e.code() + " " + e.getMessage());
                refused++;
            } catch (Throwable t) {
                fail("case " + c + " threw " + t + " for " + new String(input, StandardCharsets.UTF_8), t);
            }
        }
        assertTrue(answered > CASES / 20 && refused > CASES / 20, "both paths exercised: answered " + answered + ", refused " + refused);
    }

    private static byte[] mutate(Random rnd, byte[] seed) {
        if (rnd.nextInt(20) == 0) {
            byte[] b = new byte[rnd.nextInt(200)];
            rnd.nextBytes(b);
            return b;
        }
        byte[] b = seed.clone();
        int edits = rnd.nextInt(4);
        for (int i = 0; i < edits && b.length > 0; i++) {
            int pos = rnd.nextInt(Math.max(1, b.length));
            switch (rnd.nextInt(5)) {
                case 0 -> b[pos] = ALPHABET[rnd.nextInt(ALPHABET.length)];
                case 1 -> b[pos] ^= (byte) (1 << rnd.nextInt(8));
                case 2 -> {
                    byte[] n = new byte[b.length + 1];
                    System.arraycopy(b, 0, n, 0, pos);
                    n[pos] = ALPHABET[rnd.nextInt(ALPHABET.length)];
                    System.arraycopy(b, pos, n, pos + 1, b.length - pos);
                    b = n;
                }
                case 3 -> {
                    int len = Math.min(b.length - pos, 1 + rnd.nextInt(20));
                    byte[] n = new byte[b.length - len];
                    System.arraycopy(b, 0, n, 0, pos);
                    System.arraycopy(b, pos + len, n, pos, b.length - pos - len);
                    b = n;
                }
                default -> {
                    if (rnd.nextBoolean()) {
                        b = java.util.Arrays.copyOf(b, pos);
                    } else {
                        byte[] n = new byte[b.length + pos];
                        System.arraycopy(b, 0, n, 0, b.length);
                        System.arraycopy(b, 0, n, b.length, pos);
                        b = n;
                    }
                }
            }
        }
        return b;
    }
}
