package io.qvirt.handler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

/** The CLI's usage errors: exit 2 naming the option and what is allowed, before anything is started. */
class HandlerMainTest {
    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int run(String... args) {
        return HandlerMain.run(new PrintWriter(out, true), new PrintWriter(err, true), args);
    }

    @Test
    void helpAndUsageErrors() {
        assertEquals(0, run("--help"));
        assertTrue(out.toString().contains("Not built yet: driving the VMIs"), out.toString());
        assertEquals(2, run("--no-such-flag"));
        assertTrue(err.toString().contains("--no-such-flag"), err.toString());
        assertEquals(2, run("--kvm-devices", "0"));
        assertEquals(2, run("--no-labels", "--device-plugin-dir", "/nonexistent/dp"));
        assertEquals(2, run("--node-name", "n1", "--kubeconfig", "/nonexistent/kubeconfig"));
        assertEquals(2, run("--node-name", "", "--no-device-plugin"));
        String e = err.toString();
        assertTrue(e.contains("--kvm-devices and --reprobe must be >= 1"), e);
        assertTrue(e.contains("--device-plugin-dir /nonexistent/dp is not a directory"), e);
        assertTrue(e.contains("cannot read kubeconfig /nonexistent/kubeconfig"), e);
        assertTrue(e.contains("no node name: set --node-name or $NODE_NAME"), e);
    }
}
