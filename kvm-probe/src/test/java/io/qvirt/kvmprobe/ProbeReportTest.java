package io.qvirt.kvmprobe;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** JSON schema and node labels. */
class ProbeReportTest {
    static ProbeReport report(Verdict v, List<String> features) {
        Map<String, Integer> caps = new LinkedHashMap<>();
        caps.put("USER_MEMORY", 1);
        caps.put("NR_VCPUS", 2);
        return new ProbeReport(v, "because", "/dev/kvm", "ok", 12, 12288, caps, "kvm_intel", "Y", true,
                List.of("fpu", "vmx"), features,
                List.of(new SmokeResult("real-mode", true, "passed", "ok", 0, "entry (real mode)", 0x10, 0x7c17, 2, 1.5),
                        new SmokeResult("long-mode", v == Verdict.FULL, v == Verdict.FULL ? "passed" : "emulation-failure",
                                "d", 7, "64-bit mode: lock cmpxchg16b", -1, 0x7d35, 8, 2.25)),
                false, new Timings(1, 2, 3, 4, 10.123456));
    }

    @Test
    void jsonHasTheDocumentedSchemaInOrder() throws Exception {
        JsonNode j = new ObjectMapper().readTree(report(Verdict.FULL, List.of("avx2", "sse4.2")).toJson());
        List<String> fields = new ArrayList<>();
        j.fieldNames().forEachRemaining(fields::add);
        assertEquals(List.of("schemaVersion", "verdict", "reason", "device", "deviceStatus", "apiVersion",
                "vcpuMmapSize", "vendorModule", "nested", "capabilities", "smoke", "guestCpuFeatures", "hostFlags",
                "labels", "timings"), fields);
        assertEquals(1, j.get("schemaVersion").asInt());
        assertEquals(ProbeReport.SCHEMA_VERSION, j.get("schemaVersion").asInt());
        assertEquals("FULL", j.get("verdict").asText());
        assertEquals(12, j.get("apiVersion").asInt());
        assertEquals("Y", j.get("nested").get("parameter").asText());
        assertTrue(j.get("nested").get("guestVisible").asBoolean());
        assertEquals(1, j.get("capabilities").get("USER_MEMORY").asInt());
        assertFalse(j.get("smoke").get("skipped").asBoolean());
        JsonNode g = j.get("smoke").get("guests").get(1);
        List<String> gf = new ArrayList<>();
        g.fieldNames().forEachRemaining(gf::add);
        assertEquals(List.of("name", "passed", "outcome", "detail", "lastStage", "stageName", "resultCode", "rip",
                "exits", "millis"), gf);
        assertEquals(7, g.get("lastStage").asInt());
        assertEquals(0x7d35, g.get("rip").asLong());
        assertEquals("true", j.get("labels").get("cpu-feature.node.kubevirt.io/avx2").asText());
        List<String> tf = new ArrayList<>();
        j.get("timings").fieldNames().forEachRemaining(tf::add);
        assertEquals(List.of("hostInfoMs", "nativeInitMs", "apiMs", "smokeMs", "totalMs"), tf);
        assertEquals(10.123, j.get("timings").get("totalMs").asDouble(), 1e-9);
    }

    @Test
    void jsonOfARealNoneProbeParsesWithNulls() throws Exception {
        ProbeReport r = KvmProbe.probe(ProbeOptions.defaults().withDevice(Path.of("/nonexistent/kvm")));
        JsonNode j = new ObjectMapper().readTree(r.toJson());
        assertEquals("NONE", j.get("verdict").asText());
        assertEquals(-1, j.get("apiVersion").asInt());
        assertEquals(0, j.get("smoke").get("guests").size());
        assertEquals("false", j.get("labels").get("kubevirt.io/schedulable").asText());
    }

    @Test
    void labelsForFull() {
        Map<String, String> l = report(Verdict.FULL, List.of("avx2", "sse4.2", "tsc-deadline", "lahf_lm", "bad name!"))
                .nodeLabels();
        assertEquals("true", l.get("kubevirt.io/schedulable"));
        assertEquals("FULL", l.get("qvirt.io/kvm-verdict"));
        assertEquals("kvm_intel", l.get("qvirt.io/kvm-vendor"));
        assertEquals("true", l.get("qvirt.io/kvm-nested"));
        assertEquals("true", l.get("cpu-feature.node.kubevirt.io/avx2"));
        assertEquals("true", l.get("cpu-feature.node.kubevirt.io/sse4.2"));
        assertEquals("true", l.get("cpu-feature.node.kubevirt.io/tsc-deadline"));
        assertEquals("true", l.get("cpu-feature.node.kubevirt.io/lahf_lm"));
        assertFalse(l.containsKey("cpu-feature.node.kubevirt.io/bad name!"), "invalid keys are dropped");
        assertEquals(8, l.size());
        l.forEach((k, v) -> {
            assertTrue(ProbeReport.isValidLabelKey(k), k);
            assertTrue(ProbeReport.isValidLabelValue(v), v);
        });
    }

    @Test
    void labelsForLimitedOfferNoKvmFeatures() {
        ProbeReport r = report(Verdict.LIMITED, List.of("avx2"));
        Map<String, String> l = r.nodeLabels();
        assertEquals(Map.of("kubevirt.io/schedulable", "false", "qvirt.io/kvm-verdict", "LIMITED",
                "qvirt.io/kvm-vendor", "kvm_intel"), l);
        assertEquals("true", r.nodeLabels(true).get("kubevirt.io/schedulable"));
    }

    @Test
    void labelSyntax() {
        assertTrue(ProbeReport.isValidLabelValue(""));
        assertTrue(ProbeReport.isValidLabelValue("kvm_pvm"));
        assertFalse(ProbeReport.isValidLabelValue("-x"));
        assertFalse(ProbeReport.isValidLabelValue("x".repeat(64)));
        assertFalse(ProbeReport.isValidLabelValue("a b"));
        assertTrue(ProbeReport.isValidLabelKey("cpu-feature.node.kubevirt.io/sse4.2"));
        assertFalse(ProbeReport.isValidLabelKey("Bad_Prefix/x"));
        assertFalse(ProbeReport.isValidLabelKey("qvirt.io/"));
    }

    @Test
    void cpuFeaturesDecode() {
        List<CpuFeatures.Entry> e = List.of(
                new CpuFeatures.Entry(1, 0, 0, 0, (1 << 5) | (1 << 20), 1),
                new CpuFeatures.Entry(7, 0, 0, 1 << 5, 0, 0),
                new CpuFeatures.Entry(7, 1, 0, -1, 0, 0), // subleaf 1 must not count as leaf 7.0
                new CpuFeatures.Entry(0x80000001, 0, 0, 0, 1 << 2, 1 << 29));
        assertEquals(List.of("fpu", "vmx", "sse4.2", "avx2", "svm", "lm"), CpuFeatures.decode(e));
    }

    @Test
    void fromJsonReadsBackWhatToJsonWrote() {
        for (Verdict v : Verdict.values()) {
            ProbeReport r = report(v, List.of("avx2"));
            ProbeReport back = ProbeReport.fromJson(r.toJson());
            assertEquals(r.verdict(), back.verdict());
            assertEquals(r.reason(), back.reason());
            assertEquals(r.capabilities(), back.capabilities());
            assertEquals(r.smoke(), back.smoke());
            assertEquals(r.hostFlags(), back.hostFlags());
            assertEquals(r.guestCpuFeatures(), back.guestCpuFeatures());
            assertEquals(r.nodeLabels(), back.nodeLabels());
            assertEquals(r.toJson(), back.toJson());
        }
    }

    @Test
    void fromJsonRefusesOtherDocuments() {
        for (String bad : new String[] {"", "[]", "{\"schemaVersion\": 2}", "{\"schemaVersion\": 1, \"verdict\": \"MAYBE\"}"}) {
            org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> ProbeReport.fromJson(bad), bad);
        }
    }
}
