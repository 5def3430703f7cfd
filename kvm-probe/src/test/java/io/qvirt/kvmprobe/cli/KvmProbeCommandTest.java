package io.qvirt.kvmprobe.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class KvmProbeCommandTest {
    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int run(String... args) {
        return KvmProbeCommand.run(new PrintWriter(out), new PrintWriter(err), args);
    }

    @Test
    void unknownOptionIsUsageError() {
        assertEquals(2, run("--bogus"));
        assertTrue(err.toString().contains("kvm-probe: Unknown option: '--bogus'"), err.toString());
        assertFalse(err.toString().contains("at io.qvirt"), "no stack trace");
    }

    @Test
    void nonPositiveSmokeTimeoutIsUsageError() {
        assertEquals(2, run("--smoke-timeout", "0"));
        assertTrue(err.toString().contains("--smoke-timeout must be a positive"), err.toString());
        assertEquals(2, run("--smoke-timeout", "abc"));
    }

    @Test
    void missingDeviceIsNoneAndExitsOneOnlyWithRequireFull() {
        assertEquals(0, run("--device", "/nonexistent/kvm"));
        assertTrue(out.toString().contains("verdict          NONE"), out.toString());
        assertTrue(out.toString().contains("does not exist"), out.toString());
        assertEquals(1, run("--device", "/nonexistent/kvm", "--require-full"));
    }

    @Test
    void jsonIsParseableAndTimingsGoToStderr() throws Exception {
        assertEquals(0, run("--json", "--timings", "--device", "/dev/null"));
        JsonNode j = new ObjectMapper().readTree(out.toString());
        assertEquals("NONE", j.get("verdict").asText());
        assertEquals("not-kvm", j.get("deviceStatus").asText());
        assertTrue(err.toString().startsWith("timings: probe "), err.toString());
    }

    @Test
    void labelsAreKeyValueLines() {
        assertEquals(0, run("--labels", "--device", "/nonexistent/kvm"));
        assertEquals("kubevirt.io/schedulable=false\nqvirt.io/kvm-verdict=NONE\n",
                out.toString().replaceAll("qvirt.io/kvm-vendor=\\S+\n", ""));
        out.getBuffer().setLength(0);
        assertEquals(0, run("--labels", "--use-emulation", "--device", "/nonexistent/kvm"));
        assertTrue(out.toString().startsWith("kubevirt.io/schedulable=true\n"), out.toString());
    }

    @Test
    void helpExitsZero() {
        assertEquals(0, run("--help"));
        assertTrue(out.toString().contains("--require-full"), out.toString());
    }
}
