package io.qvirt.api;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.ObjectCodec;
import com.fasterxml.jackson.core.io.IOContext;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactoryBuilder;
import com.fasterxml.jackson.dataformat.yaml.YAMLParser;
import java.io.IOException;
import java.io.Reader;
import java.io.StringReader;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.events.NodeEvent;

/**
 * Reads untrusted manifest text into JSON trees, one per document, within fixed bounds (see
 * {@link ManifestLoader}): nesting depth, line length, number of documents, YAML aliases (expanded as
 * kubectl does, within a budget), and a time bound. Null values in mappings are dropped (the API server
 * prunes them), null list items are refused, duplicate keys are refused. Every failure is a
 * {@link ManifestException} in qvirt's words, with a line and column where known.
 */
final class TreeReader {
    record Doc(JsonNode node, int line, int column, int ordinal) {
    }

    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    /** Jackson's own limits sit just above qvirt's, so qvirt's checks (with qvirt's messages) fire first. */
    private static final StreamReadConstraints CONSTRAINTS = StreamReadConstraints.builder()
            .maxNestingDepth(ManifestLoader.MAX_DEPTH + 2)
            .maxStringLength(ManifestLoader.MAX_BYTES + 16)
            .maxNameLength(ManifestLoader.MAX_BYTES + 16)
            .maxNumberLength(ManifestLoader.MAX_NUMBER_LENGTH + 1)
            .maxDocumentLength(ManifestLoader.MAX_BYTES + 16L)
            .build();
    private static final JsonFactory JSON = JsonFactory.builder().streamReadConstraints(CONSTRAINTS).build();
    private static final YAMLFactory YAML;

    static {
        LoaderOptions options = new LoaderOptions();
        options.setCodePointLimit(ManifestLoader.MAX_BYTES + 16);
        options.setNestingDepthLimit(ManifestLoader.MAX_DEPTH + 2);
        options.setMaxAliasesForCollections(ManifestLoader.MAX_ALIASES);
        options.setAllowRecursiveKeys(false);
        // duplicates are refused below, with the path
        options.setAllowDuplicateKeys(true);
        // An empty plain value ("disk:") is YAML's null, as in kubectl; a quoted '' stays an empty string.
        YAML = new AnchorFactory(YAMLFactory.builder().loaderOptions(options).streamReadConstraints(CONSTRAINTS)
                .enable(YAMLParser.Feature.EMPTY_STRING_AS_NULL));
    }

    private final String source;
    private final boolean yaml;
    private final long deadline;
    private JsonParser parser;
    private final List<String> path = new ArrayList<>();
    private int depth;
    private long tokens;
    /** Anchors of the current YAML document, with their node counts. */
    private final Map<String, Anchored> anchors = new HashMap<>();
    private int aliasesToCollections;
    private long aliasNodes;
    private long values;
    /** When set, the location of the node at this path is recorded (for binder errors). */
    private final String wantedPath;
    private final int wantedDocument;
    private int document;
    private int[] wantedLocation;

    private record Anchored(JsonNode node, long size) {
    }

    private TreeReader(String source, boolean yaml, String wantedPath, int wantedDocument) {
        this.source = source;
        this.yaml = yaml;
        this.deadline = System.nanoTime() + ManifestLoader.timeLimit.toNanos();
        this.wantedPath = wantedPath;
        this.wantedDocument = wantedDocument;
    }

    /** Every document of {@code text}, JSON if it starts with '{' or '[', else YAML. Empty YAML documents are left out. */
    static List<Doc> read(String text, String source) throws ManifestException {
        return new TreeReader(source, !isJson(text), null, -1).readAll(text);
    }

    /** The 1-based line and column of the node at {@code path} in document {@code docIndex}, or null. */
    static int[] locate(String text, String source, int docIndex, String path) {
        TreeReader r = new TreeReader(source, !isJson(text), path, docIndex);
        try {
            r.readAll(text);
        } catch (ManifestException e) {
            // it read before: cannot happen but for the time bound; no location then
        }
        return r.wantedLocation;
    }

    static boolean isJson(String text) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (!Character.isWhitespace(c) && c != '\uFEFF') {
                return c == '{' || c == '[';
            }
        }
        return false;
    }

    private List<Doc> readAll(String text) throws ManifestException {
        if (yaml) {
            checkLines(text);
        }
        List<Doc> docs = new ArrayList<>();
        Reader reader = new DeadlineReader(new StringReader(text));
        try (JsonParser p = yaml ? YAML.createParser(reader) : JSON.createParser(reader)) {
            parser = p;
            JsonToken t;
            while ((t = next()) != null) {
                if (document >= ManifestLoader.MAX_DOCUMENTS) {
                    throw error("more than " + ManifestLoader.MAX_DOCUMENTS + " documents; split the file");
                }
                JsonLocation start = p.currentTokenLocation();
                anchors.clear();
                JsonNode node = value(t);
                document++;
                if (!yaml) {
                    if (next() != null) {
                        throw error("JSON syntax error: unexpected content after the document");
                    }
                    addJson(docs, node);
                    break;
                }
                if (node == null || node.isNull() || (node.isTextual() && node.asText().isEmpty())) {
                    continue;
                }
                docs.add(new Doc(node, start.getLineNr(), start.getColumnNr(), document - 1));
            }
        } catch (ManifestException e) {
            throw e;
        } catch (StreamConstraintsException e) {
            throw limit(e);
        } catch (JsonProcessingException | RuntimeException e) {
            throw syntax(e);
        } catch (TimeBoundException e) {
            throw new ManifestException(source, 0, 0, e.getMessage(), e);
        } catch (IOException e) {
            throw syntax(e);
        }
        return docs;
    }

    private static void addJson(List<Doc> docs, JsonNode root) {
        if (root.isArray()) {
            root.forEach(n -> docs.add(new Doc(n, 1, 1, -1)));
        } else if (root.isObject() && "List".equals(root.path("kind").asText()) && root.has("items")) {
            root.get("items").forEach(n -> docs.add(new Doc(n, 1, 1, -1)));
        } else {
            docs.add(new Doc(root, 1, 1, 0));
        }
    }

    /** SnakeYAML's scanner slows down with the square of a line's length: long lines are refused up front. */
    private void checkLines(String text) throws ManifestException {
        int line = 1;
        int start = 0;
        for (int i = 0; i <= text.length(); i++) {
            if (i == text.length() || text.charAt(i) == '\n') {
                if (i - start > ManifestLoader.MAX_LINE_LENGTH) {
                    throw new ManifestException(source, line, 0, "line " + line + " is " + (i - start)
                            + " characters long; the limit is " + ManifestLoader.MAX_LINE_LENGTH
                            + " (use a block scalar, '|', for long text)");
                }
                line++;
                start = i + 1;
            }
        }
    }

    private JsonToken next() throws IOException, ManifestException {
        if ((++tokens & 0x3ff) == 0) {
            checkTime();
        }
        return parser.nextToken();
    }

    private void checkTime() throws ManifestException {
        if (System.nanoTime() - deadline > 0) {
            throw error("reading took longer than " + ManifestLoader.timeLimit.toMillis()
                    + " ms; refused (the input is too large or too complex)");
        }
    }

    private JsonNode value(JsonToken t) throws IOException, ManifestException {
        String anchor = yaml ? ((AnchorParser) parser).anchor() : null;
        if (wantedPath != null && document == wantedDocument && wantedLocation == null
                && wantedPath.equals(ManifestLoader.render(path))) {
            JsonLocation l = parser.currentTokenLocation();
            wantedLocation = new int[] {l.getLineNr(), l.getColumnNr()};
        }
        if (++values > ManifestLoader.MAX_VALUES) {
            throw error(where() + "more than " + ManifestLoader.MAX_VALUES + " values in this input");
        }
        JsonNode node;
        long[] size = {1};
        switch (t) {
            case START_OBJECT:
                node = object(size);
                break;
            case START_ARRAY:
                node = array(size);
                break;
            case VALUE_STRING:
                if (yaml && ((YAMLParser) parser).isCurrentAlias()) {
                    return alias(parser.getText());
                }
                node = NODES.textNode(parser.getText());
                break;
            case VALUE_NUMBER_INT:
                switch (parser.getNumberType()) {
                    case INT:
                        node = NODES.numberNode(parser.getIntValue());
                        break;
                    case LONG:
                        node = NODES.numberNode(parser.getLongValue());
                        break;
                    default:
                        node = NODES.numberNode(parser.getBigIntegerValue());
                }
                break;
            case VALUE_NUMBER_FLOAT:
                node = NODES.numberNode(parser.getDoubleValue());
                break;
            case VALUE_TRUE:
                node = NODES.booleanNode(true);
                break;
            case VALUE_FALSE:
                node = NODES.booleanNode(false);
                break;
            case VALUE_NULL:
                node = NODES.nullNode();
                break;
            case VALUE_EMBEDDED_OBJECT:
                Object o = parser.getEmbeddedObject();
                node = o instanceof byte[] b ? NODES.binaryNode(b) : NODES.textNode(String.valueOf(o));
                break;
            default:
                throw error("unexpected " + t);
        }
        if (anchor != null) {
            anchors.put(anchor, new Anchored(node, size[0]));
        }
        return node;
    }

    private JsonNode alias(String name) throws ManifestException {
        Anchored a = anchors.get(name);
        if (a == null) {
            throw error(where() + "alias *" + name + " has no anchor &" + name + " before it in this document");
        }
        if (a.node().isContainerNode() && ++aliasesToCollections > ManifestLoader.MAX_ALIASES) {
            throw error(where() + "more than " + ManifestLoader.MAX_ALIASES + " aliases to mappings or lists");
        }
        aliasNodes += a.size();
        values += a.size();
        if (values > ManifestLoader.MAX_VALUES) {
            throw error(where() + "more than " + ManifestLoader.MAX_VALUES + " values in this input");
        }
        if (aliasNodes > ManifestLoader.MAX_ALIAS_NODES) {
            throw error(where() + "aliases expand to more than " + ManifestLoader.MAX_ALIAS_NODES + " values");
        }
        // Shared, not copied: trees are only read after this. The budget counts it as if copied.
        return a.node();
    }

    private void enter() throws ManifestException {
        if (++depth > ManifestLoader.MAX_DEPTH) {
            throw error(where() + "nested deeper than " + ManifestLoader.MAX_DEPTH + " levels");
        }
    }

    private ObjectNode object(long[] size) throws IOException, ManifestException {
        enter();
        ObjectNode obj = NODES.objectNode();
        Set<String> seen = new HashSet<>();
        List<JsonNode> merges = null;
        JsonToken t;
        while ((t = next()) != JsonToken.END_OBJECT) {
            if (t != JsonToken.FIELD_NAME) {
                throw error("unexpected " + t);
            }
            String name = parser.currentName();
            path.add(name);
            if (!seen.add(name)) {
                throw error(where() + "duplicate key '" + Messages.clean(name) + "'");
            }
            JsonToken vt = next();
            JsonNode v = value(vt);
            if (yaml && "<<".equals(name) && (v.isObject() || v.isArray())) {
                if (merges == null) {
                    merges = new ArrayList<>();
                }
                merges.add(v);
            } else if (!v.isNull()) {
                obj.set(name, v);
                size[0] += 1;
            }
            path.remove(path.size() - 1);
        }
        if (merges != null) {
            for (JsonNode m : merges) {
                for (JsonNode part : m.isArray() ? m : List.of(m)) {
                    if (!part.isObject()) {
                        throw error(where() + "a merge key '<<' takes a mapping or a list of mappings");
                    }
                    part.fields().forEachRemaining(e -> {
                        if (!obj.has(e.getKey()) && !e.getValue().isNull()) {
                            obj.set(e.getKey(), e.getValue());
                        }
                    });
                }
            }
            size[0] += obj.size();
        }
        depth--;
        return obj;
    }

    private ArrayNode array(long[] size) throws IOException, ManifestException {
        enter();
        ArrayNode arr = NODES.arrayNode();
        JsonToken t;
        while ((t = next()) != JsonToken.END_ARRAY) {
            path.add("[" + arr.size() + "]");
            JsonNode v = value(t);
            if (v.isNull()) {
                throw error(where() + "null is not allowed as a list item");
            }
            arr.add(v);
            size[0] += 1;
            path.remove(path.size() - 1);
        }
        depth--;
        return arr;
    }

    private String where() {
        return where(ManifestLoader.render(path));
    }

    /**
     * Where a syntax error stands: the document and the field the parser was in (its own context, which knows the
     * key whose value it could not read); nothing between JSON documents.
     */
    private String syntaxWhere() {
        String p = "";
        boolean open = false;
        if (parser != null && parser.getParsingContext() != null) {
            open = !parser.getParsingContext().inRoot();
            p = Messages.pointerPath(parser.getParsingContext().pathAsPointer().toString());
        }
        if (p.isEmpty()) {
            p = ManifestLoader.render(path);
        }
        if (!yaml && !open && p.isEmpty()) {
            return "";
        }
        return where(p);
    }

    private String where(String p) {
        if (p.length() > 120) {
            p = p.substring(0, 60) + "..." + p.substring(p.length() - 40);
        }
        return "document " + (document + 1) + ": " + (p.isEmpty() ? "" : p + ": ");
    }

    private ManifestException error(String message) {
        JsonLocation l = parser == null ? null : parser.currentTokenLocation();
        return new ManifestException(source, l == null ? 0 : Math.max(0, l.getLineNr()),
                l == null ? 0 : Math.max(0, l.getColumnNr()), message);
    }

    private ManifestException limit(StreamConstraintsException e) {
        String m = String.valueOf(e.getOriginalMessage());
        String what;
        if (m.contains("nesting depth")) {
            what = "nested deeper than " + ManifestLoader.MAX_DEPTH + " levels";
        } else if (m.contains("Number value length")) {
            what = "a number longer than " + ManifestLoader.MAX_NUMBER_LENGTH + " digits";
        } else {
            what = "larger than " + ManifestLoader.MAX_BYTES + " bytes";
        }
        JsonLocation l = e.getLocation();
        return new ManifestException(source, l == null ? 0 : Math.max(0, l.getLineNr()),
                l == null ? 0 : Math.max(0, l.getColumnNr()), where() + what, e);
    }

    private ManifestException syntax(Exception e) {
        String kind = yaml ? "YAML syntax error: " : "JSON syntax error: ";
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof TimeBoundException) {
                return new ManifestException(source, 0, 0, t.getMessage(), e);
            }
            if (t instanceof StreamConstraintsException sce) {
                return limit(sce);
            }
            if (t instanceof ManifestException me) {
                return me;
            }
            if (t instanceof MarkedYAMLException m) {
                Mark mark = m.getProblemMark() != null ? m.getProblemMark() : m.getContextMark();
                return new ManifestException(source, mark == null ? 0 : mark.getLine() + 1,
                        mark == null ? 0 : mark.getColumn() + 1,
                        kind + syntaxWhere() + SyntaxMessages.yaml(m.getProblem(), m.getContext()), e);
            }
        }
        if (e instanceof JsonProcessingException j) {
            JsonLocation l = j.getLocation();
            return new ManifestException(source, l == null ? 0 : Math.max(0, l.getLineNr()),
                    l == null ? 0 : Math.max(0, l.getColumnNr()), kind + syntaxWhere() + words(j.getOriginalMessage()), e);
        }
        JsonLocation l = parser == null ? null : parser.currentLocation();
        return new ManifestException(source, l == null ? 0 : Math.max(0, l.getLineNr()),
                l == null ? 0 : Math.max(0, l.getColumnNr()), kind + syntaxWhere() + words(e.getMessage()), e);
    }

    /** A parser's problem text in qvirt's words (the parsers' own name their tokens, events and classes). */
    private String words(String problem) {
        if (!yaml) {
            return SyntaxMessages.json(problem);
        }
        String p = problem == null ? "" : problem;
        return p.startsWith("Expected a field name") || p.contains("ase64") || p.contains("baseN")
                ? SyntaxMessages.yamlLayer(p) : SyntaxMessages.yaml(p.split("\n", 2)[0], null);
    }

    /** Jackson's YAML parser reports anchors of mappings and lists only; this one reports scalars' too. */
    private static final class AnchorFactory extends YAMLFactory {
        private static final long serialVersionUID = 1L;

        AnchorFactory(YAMLFactoryBuilder b) {
            super(b);
        }

        @Override
        protected YAMLParser _createParser(Reader r, IOContext ctxt) throws IOException {
            return new AnchorParser(ctxt, _parserFeatures, _yamlParserFeatures, _loaderOptions, _objectCodec, r);
        }
    }

    private static final class AnchorParser extends YAMLParser {
        AnchorParser(IOContext ctxt, int parserFeatures, int yamlFeatures, LoaderOptions options, ObjectCodec codec,
                Reader r) {
            super(ctxt, parserFeatures, yamlFeatures, options, codec, r);
        }

        /** The anchor of the value just read ({@code &name}), or null. */
        String anchor() {
            return _lastEvent instanceof NodeEvent n ? n.getAnchor() : null;
        }
    }

    /** Stops the parser, wherever it is, once the time bound has passed. */
    private final class DeadlineReader extends Reader {
        private final Reader in;

        DeadlineReader(Reader in) {
            this.in = in;
        }

        @Override
        public int read(char[] buf, int off, int len) throws IOException {
            if (System.nanoTime() - deadline > 0) {
                throw new TimeBoundException();
            }
            return in.read(buf, off, len);
        }

        @Override
        public void close() throws IOException {
            in.close();
        }
    }

    /** The time bound passed while the parser was reading. */
    static final class TimeBoundException extends IOException {
        private static final long serialVersionUID = 1L;

        TimeBoundException() {
            super("reading took longer than " + ManifestLoader.timeLimit.toMillis()
                    + " ms; refused (the input is too large or too complex)");
        }
    }
}
