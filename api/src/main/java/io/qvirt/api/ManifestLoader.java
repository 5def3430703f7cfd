package io.qvirt.api;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DatabindException;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;

/**
 * Reads KubeVirt manifests, as every qvirt CLI does: YAML (one or several documents separated by
 * {@code ---}) or JSON (an object, an array of objects, or a {@code kind: List} with {@code items}). Every
 * document must be {@code kubevirt.io/v1} (or {@code kubevirt.io/v1alpha3}, which KubeVirt still serves)
 * VirtualMachine or VirtualMachineInstance. Empty documents are skipped. A namespace left out is
 * {@value VmiDefaults#DEFAULT_NAMESPACE}. Nothing is defaulted or validated here: see {@link VmiDefaults},
 * {@link VmiValidator}, {@link VmValidator}, {@link LoadedManifest#validate()}.
 */
public final class ManifestLoader {
    /** The API versions KubeVirt serves for VMs and VMIs. */
    public static final List<String> SERVED_API_VERSIONS = List.of("kubevirt.io/v1", "kubevirt.io/v1alpha3");

    private ManifestLoader() {
    }

    /** Every document of a file. */
    public static List<LoadedManifest> load(Path file) throws ManifestException {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new ManifestException(file.toString(), 0, 0, "cannot read: " + e, e);
        }
        return loadString(text, file.toString());
    }

    /** Every document of {@code text}; {@code sourceName} names it in messages. */
    public static List<LoadedManifest> loadString(String text, String sourceName) throws ManifestException {
        List<Doc> docs = isJson(text) ? splitJson(text, sourceName) : splitYaml(text, sourceName);
        List<LoadedManifest> out = new ArrayList<>();
        for (Doc doc : docs) {
            out.add(bind(doc, out.size(), sourceName));
        }
        if (out.isEmpty()) {
            throw new ManifestException(sourceName, 0, 0, "no document: expected a VirtualMachine or a "
                    + "VirtualMachineInstance");
        }
        return out;
    }

    /** Exactly one document. */
    public static LoadedManifest loadOne(Path file) throws ManifestException {
        List<LoadedManifest> all = load(file);
        if (all.size() != 1) {
            throw new ManifestException(file.toString(), all.get(1).line(), 0,
                    "expected one document, found " + all.size());
        }
        return all.get(0);
    }

    private record Doc(JsonNode node, int line, int column) {
    }

    private static boolean isJson(String text) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (!Character.isWhitespace(c) && c != '\uFEFF') {
                return c == '{' || c == '[';
            }
        }
        return false;
    }

    private static List<Doc> splitJson(String text, String source) throws ManifestException {
        ObjectMapper json = KubevirtJson.json();
        List<Doc> docs = new ArrayList<>();
        try (JsonParser parser = json.getFactory().createParser(text)) {
            parser.enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
            JsonNode root = json.readTree(parser);
            if (parser.nextToken() != null) {
                JsonLocation l = parser.currentTokenLocation();
                throw new ManifestException(source, l.getLineNr(), l.getColumnNr(),
                        "JSON syntax error: unexpected content after the document");
            }
            if (root.isArray()) {
                root.forEach(n -> docs.add(new Doc(n, 1, 1)));
            } else if (root.isObject() && "List".equals(root.path("kind").asText()) && root.has("items")) {
                root.get("items").forEach(n -> docs.add(new Doc(n, 1, 1)));
            } else {
                docs.add(new Doc(root, 1, 1));
            }
        } catch (JsonProcessingException e) {
            JsonLocation l = e.getLocation();
            throw new ManifestException(source, l == null ? 0 : l.getLineNr(), l == null ? 0 : l.getColumnNr(),
                    "JSON syntax error: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new ManifestException(source, 0, 0, e.toString(), e);
        }
        return docs;
    }

    private static List<Doc> splitYaml(String text, String source) throws ManifestException {
        ObjectMapper yaml = KubevirtJson.yaml();
        List<Doc> docs = new ArrayList<>();
        try (JsonParser parser = yaml.getFactory().createParser(text)) {
            parser.enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
            MappingIterator<JsonNode> it = yaml.readerFor(JsonNode.class)
                    .with(StreamReadFeature.STRICT_DUPLICATE_DETECTION).readValues(parser);
            while (it.hasNextValue()) {
                JsonLocation start = parser.currentTokenLocation();
                JsonNode node = it.nextValue();
                if (node == null || node.isNull() || node.isMissingNode()
                        || (node.isTextual() && node.asText().isEmpty())) {
                    continue;
                }
                docs.add(new Doc(node, start.getLineNr(), start.getColumnNr()));
            }
        } catch (RuntimeException | IOException e) {
            throw yamlError(source, e);
        }
        return docs;
    }

    private static ManifestException yamlError(String source, Exception e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof MarkedYAMLException m) {
                Mark mark = m.getProblemMark() != null ? m.getProblemMark() : m.getContextMark();
                String what = m.getProblem() != null ? m.getProblem() : m.getMessage();
                String context = m.getContext() != null ? " (" + m.getContext() + ")" : "";
                return new ManifestException(source, mark == null ? 0 : mark.getLine() + 1,
                        mark == null ? 0 : mark.getColumn() + 1, "YAML syntax error: " + what + context, e);
            }
        }
        if (e instanceof JsonProcessingException j) {
            JsonLocation l = j.getLocation();
            return new ManifestException(source, l == null ? 0 : l.getLineNr(), l == null ? 0 : l.getColumnNr(),
                    "YAML syntax error: " + j.getOriginalMessage(), e);
        }
        return new ManifestException(source, 0, 0, "YAML syntax error: " + e.getMessage(), e);
    }

    private static LoadedManifest bind(Doc doc, int index, String source) throws ManifestException {
        String where = "document " + (index + 1);
        if (!doc.node().isObject()) {
            throw new ManifestException(source, doc.line(), doc.column(), where + " is not a mapping: expected a "
                    + "VirtualMachine or a VirtualMachineInstance");
        }
        ObjectNode node = (ObjectNode) doc.node();
        JsonNode apiVersion = node.get("apiVersion");
        JsonNode kind = node.get("kind");
        if (kind == null || !kind.isTextual() || kind.asText().isEmpty()) {
            throw new ManifestException(source, doc.line(), doc.column(), where
                    + ": kind is required: expected VirtualMachine or VirtualMachineInstance");
        }
        Class<? extends HasMetadata> type;
        switch (kind.asText()) {
            case VirtualMachine.KIND:
                type = VirtualMachine.class;
                break;
            case VirtualMachineInstance.KIND:
                type = VirtualMachineInstance.class;
                break;
            default:
                throw new ManifestException(source, doc.line(), doc.column(), where + ": unknown kind '"
                        + kind.asText() + "': expected VirtualMachine or VirtualMachineInstance");
        }
        if (apiVersion == null || !apiVersion.isTextual() || apiVersion.asText().isEmpty()) {
            throw new ManifestException(source, doc.line(), doc.column(), where + ": apiVersion is required: "
                    + "expected " + VirtualMachine.API_VERSION);
        }
        if (!SERVED_API_VERSIONS.contains(apiVersion.asText())) {
            throw new ManifestException(source, doc.line(), doc.column(), where + ": apiVersion '"
                    + apiVersion.asText() + "' is not served for " + kind.asText() + ": expected "
                    + VirtualMachine.API_VERSION);
        }
        HasMetadata resource;
        try {
            resource = KubevirtJson.json().treeToValue(node, type);
        } catch (DatabindException e) {
            String path = e instanceof JsonMappingException jm ? path(jm) : "";
            String msg = e.getOriginalMessage();
            int nl = msg.indexOf('\n');
            throw new ManifestException(source, doc.line(), doc.column(), where + ": "
                    + (path.isEmpty() ? "" : path + ": ") + (nl > 0 ? msg.substring(0, nl) : msg), e);
        } catch (JsonProcessingException | IllegalArgumentException e) {
            throw new ManifestException(source, doc.line(), doc.column(), where + ": " + e.getMessage(), e);
        }
        if (resource.getMetadata() == null) {
            resource.setMetadata(new ObjectMeta());
        }
        if (resource.getMetadata().getNamespace() == null || resource.getMetadata().getNamespace().isEmpty()) {
            resource.getMetadata().setNamespace(VmiDefaults.DEFAULT_NAMESPACE);
        }
        return new LoadedManifest(source, index, doc.line(), resource);
    }

    /** {@code spec.domain.devices.disks[1].name} from a Jackson path. */
    static String path(JsonMappingException e) {
        StringBuilder sb = new StringBuilder();
        for (JsonMappingException.Reference r : e.getPath()) {
            if (r.getIndex() >= 0) {
                sb.append('[').append(r.getIndex()).append(']');
            } else if (r.getFieldName() != null) {
                if (sb.length() > 0) {
                    sb.append('.');
                }
                sb.append(r.getFieldName());
            }
        }
        return sb.toString();
    }
}
