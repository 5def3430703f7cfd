package io.qvirt.operator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The CLI's exit codes and {@code virt-operator render}. */
class OperatorMainTest {
    private static String[] run(String... args) {
        PrintStream out = System.out;
        PrintStream err = System.err;
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        ByteArrayOutputStream e = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(o, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(e, true, StandardCharsets.UTF_8));
            int code = OperatorMain.run(args);
            return new String[] {Integer.toString(code), o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8)};
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
    }

    @Test
    void usageErrorsExitTwo() {
        assertEquals("2", run()[0]);
        assertTrue(run()[2].contains("--image-registry and --image-tag are required"));
        assertEquals("2", run("--image-registry", "r", "--image-tag", "t", "--lease-duration", "1")[0]);
        assertEquals("2", run("--no-such-flag")[0]);
        assertEquals("0", run("--help")[0]);
    }

    @Test
    void renderPrintsWhatItInstalls() throws Exception {
        String[] r = run("render", "--image-registry", "registry.internal:5000/virt", "--image-tag", "v1.2.3");
        assertEquals("0", r[0], r[2]);
        java.util.List<com.fasterxml.jackson.databind.JsonNode> docs = io.qvirt.api.KubevirtJson.yaml()
                .readerFor(com.fasterxml.jackson.databind.JsonNode.class)
                .<com.fasterxml.jackson.databind.JsonNode>readValues(r[1]).readAll();
        long objects = docs.stream().filter(d -> d != null && d.has("kind")).count();
        assertEquals(InstallStrategy.desired(Templates.fromClassPath(), InstallStrategy.Target.of(null, "r", "t"), "CA").size(),
                objects);
        assertTrue(r[1].contains("image: registry.internal:5000/virt/virt-handler:v1.2.3"));
        assertFalse(r[1].contains("--use-emulation"), "virt-handler reads useEmulation from the CR, not a flag");
    }
}
