package io.qvirt.kvmprobe;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The probe's result. See {@link #toJson()} for the JSON schema and {@link #nodeLabels(boolean)} for the
 * labels the handler sets.
 *
 * @param verdict          FULL, LIMITED or NONE
 * @param reason           one line for a human; for NONE it says what to do
 * @param device           the device path probed
 * @param deviceStatus     {@code ok}, {@code missing}, {@code not-a-character-device},
 *                         {@code permission-denied}, {@code open-failed}, {@code not-kvm},
 *                         {@code api-version-mismatch}, {@code native-unavailable}
 * @param apiVersion       KVM_GET_API_VERSION, or -1 if not reached
 * @param vcpuMmapSize     KVM_GET_VCPU_MMAP_SIZE in bytes, or -1
 * @param capabilities     KVM_CHECK_EXTENSION result by capability name (0 = absent, -1 = the call failed);
 *                         empty if the API was not reached
 * @param vendorModule     kvm_intel, kvm_amd, kvm_pvm, another kvm_* module, or null
 * @param nestedParameter  the vendor module's {@code nested} parameter as written (Y/N/1/0), or null
 * @param nestedPossible   vmx or svm is visible to guests in KVM_GET_SUPPORTED_CPUID
 * @param hostFlags        /proc/cpuinfo flags of the first CPU
 * @param guestCpuFeatures libvirt-style names of the features KVM exposes to guests
 * @param smoke            the smoke guests' results, in run order (empty when skipped or not reached)
 * @param smokeSkipped     smoke guests were not requested
 * @param timings          where the time went
 */
public record ProbeReport(Verdict verdict, String reason, String device, String deviceStatus, int apiVersion,
                          int vcpuMmapSize, Map<String, Integer> capabilities, String vendorModule,
                          String nestedParameter, boolean nestedPossible, List<String> hostFlags,
                          List<String> guestCpuFeatures, List<SmokeResult> smoke, boolean smokeSkipped,
                          Timings timings) {

    /** Version of the JSON document {@link #toJson()} writes; bumped on any incompatible change. */
    public static final int SCHEMA_VERSION = 1;

    public static final String LABEL_SCHEDULABLE = "kubevirt.io/schedulable";
    public static final String LABEL_CPU_FEATURE_PREFIX = "cpu-feature.node.kubevirt.io/";
    public static final String LABEL_VERDICT = "qvirt.io/kvm-verdict";
    public static final String LABEL_VENDOR = "qvirt.io/kvm-vendor";
    public static final String LABEL_NESTED = "qvirt.io/kvm-nested";

    private static final Pattern LABEL_VALUE = Pattern.compile("(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?");
    private static final Pattern DNS_SUBDOMAIN =
            Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");

    public ProbeReport {
        capabilities = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(capabilities));
        hostFlags = List.copyOf(hostFlags);
        guestCpuFeatures = List.copyOf(guestCpuFeatures);
        smoke = List.copyOf(smoke);
    }

    /** Whether {@code v} is a valid Kubernetes label value (at most 63 characters). */
    public static boolean isValidLabelValue(String v) {
        return v != null && v.length() <= 63 && LABEL_VALUE.matcher(v).matches();
    }

    /** Whether {@code k} is a valid Kubernetes label key ({@code [prefix/]name}). */
    public static boolean isValidLabelKey(String k) {
        if (k == null || k.isEmpty()) {
            return false;
        }
        int slash = k.indexOf('/');
        String name = slash < 0 ? k : k.substring(slash + 1);
        if (slash >= 0) {
            String prefix = k.substring(0, slash);
            if (prefix.isEmpty() || prefix.length() > 253 || !DNS_SUBDOMAIN.matcher(prefix).matches()) {
                return false;
            }
        }
        return !name.isEmpty() && isValidLabelValue(name);
    }

    /** {@link #nodeLabels(boolean)} without emulation: a node is schedulable only with FULL KVM. */
    public Map<String, String> nodeLabels() {
        return nodeLabels(false);
    }

    /**
     * The node labels the handler sets, in a stable order, all valid Kubernetes keys and values:
     * <ul>
     *   <li>{@code kubevirt.io/schedulable}: {@code true} if the verdict is FULL, or if
     *       {@code useEmulation} (VMs then run on TCG); else {@code false}</li>
     *   <li>{@code qvirt.io/kvm-verdict}: FULL, LIMITED or NONE</li>
     *   <li>{@code qvirt.io/kvm-vendor}: the vendor module, when known</li>
     *   <li>{@code qvirt.io/kvm-nested}: {@code true}/{@code false}, whether guests see vmx/svm (FULL only)</li>
     *   <li>{@code cpu-feature.node.kubevirt.io/<feature>=true} for every guest-visible feature, only when
     *       FULL: with LIMITED or NONE no KVM guest runs here, so KVM's features are not offered</li>
     * </ul>
     */
    public Map<String, String> nodeLabels(boolean useEmulation) {
        Map<String, String> labels = new LinkedHashMap<>();
        labels.put(LABEL_SCHEDULABLE, Boolean.toString(verdict == Verdict.FULL || useEmulation));
        labels.put(LABEL_VERDICT, verdict.name());
        if (vendorModule != null && isValidLabelValue(vendorModule)) {
            labels.put(LABEL_VENDOR, vendorModule);
        }
        if (verdict == Verdict.FULL) {
            labels.put(LABEL_NESTED, Boolean.toString(nestedPossible));
            for (String f : guestCpuFeatures) {
                String key = LABEL_CPU_FEATURE_PREFIX + f;
                if (isValidLabelKey(key)) {
                    labels.put(key, "true");
                }
            }
        }
        return labels;
    }

    /**
     * The report as JSON (schema version {@value #SCHEMA_VERSION}, field order fixed):
     * {@code schemaVersion, verdict, reason, device, deviceStatus, apiVersion, vcpuMmapSize, vendorModule,
     * nested {parameter, guestVisible}, capabilities {NAME: int}, smoke {skipped, guests [{name, passed,
     * outcome, detail, lastStage, stageName, resultCode, rip, exits, millis}]}, guestCpuFeatures [],
     * hostFlags [], labels {}, timings {hostInfoMs, nativeInitMs, apiMs, smokeMs, totalMs}}.
     * Unknown numbers are -1; unknown strings are null. kvm-probe/README.md documents each field.
     */
    public String toJson() {
        try {
            return Json.MAPPER.writeValueAsString(toMap());
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot render the probe report as JSON", e);
        }
    }

    /** The JSON document as ordered maps and lists. */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("schemaVersion", SCHEMA_VERSION);
        m.put("verdict", verdict.name());
        m.put("reason", reason);
        m.put("device", device);
        m.put("deviceStatus", deviceStatus);
        m.put("apiVersion", apiVersion);
        m.put("vcpuMmapSize", vcpuMmapSize);
        m.put("vendorModule", vendorModule);
        Map<String, Object> nested = new LinkedHashMap<>();
        nested.put("parameter", nestedParameter);
        nested.put("guestVisible", nestedPossible);
        m.put("nested", nested);
        m.put("capabilities", new LinkedHashMap<>(capabilities));
        Map<String, Object> sm = new LinkedHashMap<>();
        sm.put("skipped", smokeSkipped);
        List<Object> guests = new ArrayList<>();
        for (SmokeResult r : smoke) {
            Map<String, Object> g = new LinkedHashMap<>();
            g.put("name", r.name());
            g.put("passed", r.passed());
            g.put("outcome", r.outcome());
            g.put("detail", r.detail());
            g.put("lastStage", r.lastStage());
            g.put("stageName", r.stageName());
            g.put("resultCode", r.resultCode());
            g.put("rip", r.rip());
            g.put("exits", r.exits());
            g.put("millis", round(r.millis()));
            guests.add(g);
        }
        sm.put("guests", guests);
        m.put("smoke", sm);
        m.put("guestCpuFeatures", guestCpuFeatures);
        m.put("hostFlags", hostFlags);
        m.put("labels", nodeLabels());
        Map<String, Object> t = new LinkedHashMap<>();
        t.put("hostInfoMs", round(timings.hostInfo()));
        t.put("nativeInitMs", round(timings.nativeInit()));
        t.put("apiMs", round(timings.api()));
        t.put("smokeMs", round(timings.smoke()));
        t.put("totalMs", round(timings.total()));
        m.put("timings", t);
        return m;
    }

    /**
     * A report from the JSON {@link #toJson()} wrote (timings as rounded there; labels are derived, not read).
     *
     * @throws IllegalArgumentException if {@code json} is not such a document of schema {@value #SCHEMA_VERSION}
     */
    public static ProbeReport fromJson(String json) {
        JsonNode j;
        try {
            j = Json.MAPPER.readTree(json);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("not JSON: " + e.getOriginalMessage(), e);
        }
        if (j == null || !j.isObject() || j.path("schemaVersion").asInt(-1) != SCHEMA_VERSION) {
            throw new IllegalArgumentException("not a kvm-probe report of schema version " + SCHEMA_VERSION);
        }
        try {
            Map<String, Integer> caps = new LinkedHashMap<>();
            j.path("capabilities").fields().forEachRemaining(e -> caps.put(e.getKey(), e.getValue().intValue()));
            List<SmokeResult> smoke = new ArrayList<>();
            for (JsonNode g : j.path("smoke").path("guests")) {
                smoke.add(new SmokeResult(text(g, "name"), g.path("passed").asBoolean(), text(g, "outcome"),
                        text(g, "detail"), g.path("lastStage").asInt(), text(g, "stageName"),
                        g.path("resultCode").asInt(), g.path("rip").asLong(), g.path("exits").asInt(),
                        g.path("millis").asDouble()));
            }
            JsonNode t = j.path("timings");
            return new ProbeReport(Verdict.valueOf(j.path("verdict").asText()), text(j, "reason"), text(j, "device"),
                    text(j, "deviceStatus"), j.path("apiVersion").asInt(-1), j.path("vcpuMmapSize").asInt(-1), caps,
                    text(j, "vendorModule"), text(j.path("nested"), "parameter"),
                    j.path("nested").path("guestVisible").asBoolean(), strings(j.path("hostFlags")),
                    strings(j.path("guestCpuFeatures")), smoke, j.path("smoke").path("skipped").asBoolean(),
                    new Timings(t.path("hostInfoMs").asDouble(), t.path("nativeInitMs").asDouble(),
                            t.path("apiMs").asDouble(), t.path("smokeMs").asDouble(), t.path("totalMs").asDouble()));
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("not a kvm-probe report: " + e.getMessage(), e);
        }
    }

    private static String text(JsonNode n, String field) {
        JsonNode v = n.get(field);
        return v == null || v.isNull() ? null : v.asText();
    }

    private static List<String> strings(JsonNode a) {
        List<String> out = new ArrayList<>();
        a.forEach(v -> out.add(v.asText()));
        return out;
    }

    private static double round(double ms) {
        return Math.round(ms * 1000.0) / 1000.0;
    }

    /** Jackson is loaded only when JSON is asked for. */
    private static final class Json {
        static final ObjectMapper MAPPER = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    }
}
