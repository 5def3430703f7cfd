package io.qvirt.handler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The CLI's usage errors: exit 2 with the field and what is allowed, before anything is started. */
class HandlerMainTest {
    @Test
    void helpAndUsageErrors() {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        assertEquals(0, HandlerMain.run(new PrintWriter(out), new PrintWriter(err), "--help"));
        assertTrue(out.toString().contains("Not built yet: driving the VMIs"), out.toString());
        assertEquals(2, HandlerMain.run(new PrintWriter(out), new PrintWriter(err), "--no-such-flag"));

        PrintStream saved = System.err;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        try {
            System.setErr(new PrintStream(buf, true, StandardCharsets.UTF_8));
            assertEquals(2, HandlerMain.run(new PrintWriter(out), new PrintWriter(err), "--kvm-devices", "0"));
            assertEquals(2, HandlerMain.run(new PrintWriter(out), new PrintWriter(err), "--node-name", "n1",
                    "--device-plugin-dir", "/nonexistent/dp"));
            assertEquals(2, HandlerMain.run(new PrintWriter(out), new PrintWriter(err), "--node-name", "n1",
                    "--kubeconfig", "/nonexistent/kubeconfig"));
        } finally {
            System.setErr(saved);
        }
        String e = buf.toString(StandardCharsets.UTF_8);
        assertTrue(e.contains("--kvm-devices and --reprobe must be >= 1"), e);
        assertTrue(e.contains("--device-plugin-dir /nonexistent/dp is not a directory"), e);
        assertTrue(e.contains("cannot read kubeconfig /nonexistent/kubeconfig"), e);
    }
}
