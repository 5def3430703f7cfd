package io.qvirt.sandbox;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The {@code Table} answers kube-apiserver gives a client that asks for them ({@code Accept:
 * application/json;as=Table;v=v1;g=meta.k8s.io}, as {@code kubectl get} does): NAME first, then a CRD version's
 * {@code additionalPrinterColumns} (a simple JSONPath each, the first result; {@code date} columns as kubectl's
 * human age), or for a built-in kind the rig stores NAME, the pod columns kube-apiserver prints for pods, and AGE.
 * Each row carries the object's metadata (PartialObjectMetadata), as kube-apiserver's default {@code includeObject}.
 */
final class PrinterTable {
    private static final JsonNodeFactory F = JsonNodeFactory.instance;

    /** One column: its header, its type (string, integer, number, boolean, date), priority, and where its value is. */
    record Column(String name, String type, String format, String description, int priority, String jsonPath) {
    }

    private static final Column NAME = new Column("Name", "string", "name",
            "Name must be unique within a namespace. Is required when creating resources.", 0, ".metadata.name");
    private static final Column AGE = new Column("Age", "date", "",
            "CreationTimestamp is a timestamp representing the server time when this object was created.", 0,
            ".metadata.creationTimestamp");

    private PrinterTable() {
    }

    /**
     * The columns for a kind: the CRD version's printer columns (KubeVirt's CRDs: Age, Status, Ready for VMs; Age,
     * Phase, IP, NodeName, Ready for VMIs), else a CRD's default (NAME, AGE), else the built-in kind's.
     *
     * @param crd the CRD of the kind, or null for a built-in kind
     */
    static List<Column> columns(JsonNode crd, String version, String plural) {
        List<Column> out = new ArrayList<>();
        out.add(NAME);
        if (crd != null) {
            for (JsonNode v : crd.path("spec").path("versions")) {
                if (!v.path("name").asText().equals(version) || !v.has("additionalPrinterColumns")) {
                    continue;
                }
                for (JsonNode c : v.path("additionalPrinterColumns")) {
                    out.add(new Column(c.path("name").asText(), c.path("type").asText("string"), c.path("format").asText(""),
                            c.path("description").asText(""), c.path("priority").asInt(0), c.path("jsonPath").asText()));
                }
                return out;
            }
            out.add(AGE);
            return out;
        }
        if (plural.equals("pods")) {
            // kube-apiserver computes these in Go; the jsonPaths here are markers read by cellOf.
            out.add(new Column("Ready", "string", "", "The aggregate readiness state of this pod for accepting traffic.", 0, "#ready"));
            out.add(new Column("Status", "string", "", "The aggregate status of the containers in this pod.", 0, "#status"));
            out.add(new Column("Restarts", "string", "", "The number of times the containers in this pod have been restarted.", 0,
                    "#restarts"));
            out.add(AGE);
            out.add(new Column("IP", "string", "", "IP address allocated to the pod.", 1, ".status.podIP"));
            out.add(new Column("Node", "string", "", "Name of the Node this pod is assigned to.", 1, ".spec.nodeName"));
            return out;
        }
        out.add(AGE);
        return out;
    }

    /** A Table of {@code items} (a list's items, or one object) with {@code columns}, ages counted from {@code now}. */
    static ObjectNode table(List<Column> columns, List<JsonNode> items, String resourceVersion, Instant now) {
        ObjectNode t = F.objectNode();
        t.put("kind", "Table");
        t.put("apiVersion", "meta.k8s.io/v1");
        ObjectNode meta = t.putObject("metadata");
        if (resourceVersion != null) {
            meta.put("resourceVersion", resourceVersion);
        }
        ArrayNode defs = t.putArray("columnDefinitions");
        for (Column c : columns) {
            defs.addObject().put("name", c.name()).put("type", c.type()).put("format", c.format())
                    .put("description", c.description()).put("priority", c.priority());
        }
        ArrayNode rows = t.putArray("rows");
        for (JsonNode item : items) {
            rows.add(row(columns, item, now));
        }
        return t;
    }

    static ObjectNode row(List<Column> columns, JsonNode item, Instant now) {
        ObjectNode row = F.objectNode();
        ArrayNode cells = row.putArray("cells");
        for (Column c : columns) {
            cells.add(cellOf(c, item, now));
        }
        ObjectNode partial = row.putObject("object");
        partial.put("kind", "PartialObjectMetadata");
        partial.put("apiVersion", "meta.k8s.io/v1");
        partial.set("metadata", item.path("metadata").deepCopy());
        return row;
    }

    private static JsonNode cellOf(Column c, JsonNode item, Instant now) {
        switch (c.jsonPath()) {
            case "#ready":
                return F.textNode(podReady(item));
            case "#status":
                return F.textNode(podStatus(item));
            case "#restarts":
                int n = 0;
                for (JsonNode s : item.path("status").path("containerStatuses")) {
                    n += s.path("restartCount").asInt();
                }
                return F.textNode(Integer.toString(n));
            default:
                break;
        }
        List<JsonNode> found = JsonPath.find(item, c.jsonPath());
        if (found.isEmpty() || found.get(0).isNull()) {
            return F.nullNode();
        }
        JsonNode v = found.get(0);
        switch (c.type()) {
            case "date":
                try {
                    return F.textNode(humanAge(Duration.between(Instant.parse(v.asText()), now)));
                } catch (DateTimeParseException e) {
                    return F.nullNode();
                }
            case "integer":
                return v.canConvertToLong() ? F.numberNode(v.asLong()) : F.nullNode();
            case "number":
                return v.isNumber() ? v : F.nullNode();
            case "boolean":
                return v.isBoolean() ? v : F.nullNode();
            default:
                return F.textNode(v.isValueNode() ? v.asText() : v.toString());
        }
    }

    private static String podReady(JsonNode pod) {
        int total = pod.path("spec").path("containers").size();
        int ready = 0;
        for (JsonNode s : pod.path("status").path("containerStatuses")) {
            if (s.path("ready").asBoolean()) {
                ready++;
            }
        }
        return ready + "/" + total;
    }

    /** kubectl's pod STATUS: Terminating, a container's waiting/terminated reason, else the phase. */
    private static String podStatus(JsonNode pod) {
        if (pod.path("metadata").hasNonNull("deletionTimestamp")) {
            return "Terminating";
        }
        String status = pod.path("status").path("phase").asText("Pending");
        for (JsonNode s : pod.path("status").path("containerStatuses")) {
            JsonNode st = s.path("state");
            if (st.path("waiting").hasNonNull("reason")) {
                status = st.path("waiting").path("reason").asText();
            } else if (st.path("terminated").hasNonNull("reason")) {
                status = st.path("terminated").path("reason").asText();
            }
        }
        return status;
    }

    /** An age as kubectl prints it (apimachinery's HumanDuration): 45s, 3m20s, 15m, 5h3m, 2d4h, 40d, 3y2d. */
    static String humanAge(Duration d) {
        long seconds = d.getSeconds();
        if (seconds < -1) {
            return "<invalid>";
        }
        if (seconds < 0) {
            return "0s";
        }
        if (seconds < 120) {
            return seconds + "s";
        }
        long minutes = seconds / 60;
        if (minutes < 10) {
            long s = seconds % 60;
            return s == 0 ? minutes + "m" : minutes + "m" + s + "s";
        }
        if (minutes < 180) {
            return minutes + "m";
        }
        long hours = minutes / 60;
        if (hours < 8) {
            long m = minutes % 60;
            return m == 0 ? hours + "h" : hours + "h" + m + "m";
        }
        if (hours < 48) {
            return hours + "h";
        }
        if (hours < 24 * 8) {
            long h = hours % 24;
            return h == 0 ? hours / 24 + "d" : hours / 24 + "d" + h + "h";
        }
        if (hours < 24 * 365 * 2) {
            return hours / 24 + "d";
        }
        if (hours < 24 * 365 * 8) {
            long dy = (hours / 24) % 365;
            return dy == 0 ? hours / 24 / 365 + "y" : hours / 24 / 365 + "y" + dy + "d";
        }
        return hours / 24 / 365 + "y";
    }

    /**
     * The JSONPath subset printer columns use: {@code .a.b}, {@code [N]}, {@code [*]} and {@code [?(@.k=='v')]}
     * (also {@code @.k.j}, double quotes, {@code !=}). Anything else is refused with what is allowed.
     */
    static final class JsonPath {
        private static final Pattern STEP = Pattern.compile(
                "\\.([A-Za-z0-9_-]+)|\\[(\\d+)]|\\[\\*]|\\[\\?\\(@((?:\\.[A-Za-z0-9_-]+)+)\\s*(==|!=)\\s*(?:'([^']*)'|\"([^\"]*)\")\\)]");

        private JsonPath() {
        }

        /** Every node {@code path} selects in {@code root}, in order; an absent field selects nothing. */
        static List<JsonNode> find(JsonNode root, String path) {
            String p = path.trim();
            if (p.startsWith("{") && p.endsWith("}")) {
                p = p.substring(1, p.length() - 1);
            }
            if (p.startsWith("$")) {
                p = p.substring(1);
            }
            List<JsonNode> cur = new ArrayList<>(List.of(root));
            Matcher m = STEP.matcher(p);
            int at = 0;
            while (at < p.length()) {
                if (!m.find(at) || m.start() != at) {
                    throw new IllegalArgumentException("jsonPath " + path + ": unsupported at offset " + at
                            + " (allowed: .field, [N], [*], [?(@.field=='value')])");
                }
                List<JsonNode> next = new ArrayList<>();
                for (JsonNode n : cur) {
                    if (m.group(1) != null) {
                        if (n.has(m.group(1))) {
                            next.add(n.get(m.group(1)));
                        }
                    } else if (m.group(2) != null) {
                        int i = Integer.parseInt(m.group(2));
                        if (n.isArray() && i < n.size()) {
                            next.add(n.get(i));
                        }
                    } else if (m.group(3) == null) {
                        n.forEach(next::add);
                    } else {
                        String want = m.group(5) != null ? m.group(5) : m.group(6);
                        boolean eq = m.group(4).equals("==");
                        for (JsonNode e : n) {
                            JsonNode v = e;
                            for (String f : m.group(3).substring(1).split("\\.")) {
                                v = v.path(f);
                            }
                            boolean same = v.isValueNode() && v.asText().equals(want);
                            if (same == eq && (!eq || !v.isMissingNode())) {
                                next.add(e);
                            }
                        }
                    }
                }
                cur = next;
                at = m.end();
            }
            return cur;
        }
    }
}
