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
        assertTrue(out.toString().contains("drives the VMIs of this node"), out.toString());
        assertTrue(out.toString().contains("--node-api-listen"), out.toString());
        assertEquals(2, run("--no-such-flag"));
        assertTrue(err.toString().contains("--no-such-flag"), err.toString());
        assertEquals(2, run("--kvm-devices", "0"));
        assertEquals(2, run("--no-labels", "--no-vmis", "--device-plugin-dir", "/nonexistent/dp"));
        assertEquals(2, run("--node-name", "n1", "--kubeconfig", "/nonexistent/kubeconfig"));
        assertEquals(2, run("--node-name", "", "--no-device-plugin"));
        assertEquals(2, run("--node-name", "n1", "--no-device-plugin", "--resync", "0"));
        assertEquals(2, run("--node-name", "n1", "--no-device-plugin", "--node-api-listen", "8186"));
        assertEquals(2, run("--node-name", "n1", "--no-device-plugin", "--metrics-listen", "127.0.0.1:99999"));
        assertEquals(2, run("--node-name", "n1", "--no-device-plugin", "--node-api-listen", "0.0.0.0:8186"));
        assertEquals(2, run("--node-name", "n1", "--no-device-plugin", "--no-vmis", "--node-api-listen", "0.0.0.0:8186",
                "--tls-cert", "c", "--tls-key", "k", "--tls-ca", "a"));
        assertEquals(2, run("--node-name", "n1", "--no-device-plugin", "--migration-listen", "127.0.0.1"));
        assertEquals(2, run("--node-name", "n1", "--no-device-plugin", "--migration-listen", "127.0.0.1:0"));
        String e = err.toString();
        assertTrue(e.contains("--migration-listen '127.0.0.1': expected HOST:PORT"), e);
        assertTrue(e.contains("--migration-listen needs --tls-cert, --tls-key and --tls-ca FILE (PEM)"), e);
        assertTrue(out.toString().contains("--migration-listen"), out.toString());
        assertTrue(e.contains("--kvm-devices, --reprobe, --resync and --sync-workers must be >= 1"), e);
        assertTrue(e.contains("--node-api-listen '8186': expected HOST:PORT"), e);
        assertTrue(e.contains("--metrics-listen '127.0.0.1:99999': the port must be a number 0-65535"), e);
        assertTrue(e.contains("--node-api-listen needs --tls-cert FILE"), e);
        assertTrue(e.contains("--node-api-listen serves VMIs: it cannot go with --no-vmis"), e);
        assertTrue(e.contains("--device-plugin-dir /nonexistent/dp is not a directory"), e);
        assertTrue(e.contains("cannot read kubeconfig /nonexistent/kubeconfig"), e);
        assertTrue(e.contains("no node name: set --node-name or $NODE_NAME"), e);
        assertEquals("", out.toString().replaceAll("(?s)Usage:.*", ""), "nothing but the help on stdout");
    }
}
