package io.qvirt.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.qvirt.api.instancetype.InstancetypeResource;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Reads KubeVirt manifests, as every qvirt CLI does: YAML (one or several documents separated by
 * {@code ---}) or JSON (an object, an array of objects, or a {@code kind: List} with {@code items}). Every
 * document must be {@code kubevirt.io/v1} (or {@code kubevirt.io/v1alpha3}, which KubeVirt still serves)
 * VirtualMachine or VirtualMachineInstance, or an {@code instancetype.kubevirt.io/v1beta1} instancetype or preference
 * (for a VirtualMachine of the same input to name; see {@link io.qvirt.api.instancetype.InstancetypeExpander}). Empty documents are skipped. A namespace left out is
 * {@value VmiDefaults#DEFAULT_NAMESPACE}; an object with {@code generateName} and no name is named as the API
 * server's create names it. Nothing else is defaulted or validated here: see {@link VmiDefaults},
 * {@link VmiValidator}, {@link VmValidator}, {@link LoadedManifest#validate()}.
 *
 * <p>Input is untrusted (see the api README, "Untrusted input"): it is refused before parsing above
 * {@link #MAX_BYTES}, and while parsing past {@link #MAX_DEPTH} levels of nesting, a line longer than
 * {@link #MAX_LINE_LENGTH}, more than {@link #MAX_DOCUMENTS} documents, YAML aliases beyond
 * {@link #MAX_ALIASES}/{@link #MAX_ALIAS_NODES}, more than {@link #MAX_VALUES} values, a number longer than {@link #MAX_NUMBER_LENGTH} digits, or
 * after {@link #TIME_LIMIT}. Every refusal is a {@link ManifestException} naming the document, the field
 * path where there is one, and what is allowed.
 */
public final class ManifestLoader {
    /** The kinds a manifest may hold, as refusals name them. */
    static final String EXPECTED_KINDS = "VirtualMachine or VirtualMachineInstance (or, beside a VirtualMachine, "
            + "VirtualMachineInstancetype, VirtualMachineClusterInstancetype, VirtualMachinePreference or "
            + "VirtualMachineClusterPreference)";
    /** The API versions KubeVirt serves for VMs and VMIs. */
    public static final List<String> SERVED_API_VERSIONS = List.of("kubevirt.io/v1", "kubevirt.io/v1alpha3");
    /** Largest input read, in bytes: 3 MiB, the API server's own request limit. Checked before parsing. */
    public static final int MAX_BYTES = 3 * 1024 * 1024;
    /** Deepest nesting of mappings and lists (KubeVirt's objects need about 12). */
    public static final int MAX_DEPTH = 100;
    /** Longest YAML line, in characters (the API server caps all annotations together at 256 KiB). */
    public static final int MAX_LINE_LENGTH = 256 * 1024;
    /** Most documents in one input, empty ones included. */
    public static final int MAX_DOCUMENTS = 10_000;
    /** Most YAML aliases to mappings or lists in one document (SnakeYAML's default). */
    public static final int MAX_ALIASES = 50;
    /** Most values YAML aliases may stand for in one input, counted as if copied out. */
    public static final int MAX_ALIAS_NODES = 10_000;
    /** Most digits in one number. */
    public static final int MAX_NUMBER_LENGTH = 100;
    /** Most values (scalars, mappings, lists, what aliases stand for) in one input; a VM has about 100. */
    public static final int MAX_VALUES = 50_000;
    /** Time bound for reading one input into trees; the limits above keep real inputs far below it. */
    public static final Duration TIME_LIMIT = Duration.ofSeconds(1);
    /**
     * The read bound in force: {@link #TIME_LIMIT}. Tests of the other bounds raise it, so that a loaded machine
     * cannot turn the refusal they check (say, too many values) into this one.
     */
    static volatile Duration timeLimit = TIME_LIMIT;

    private static final String NAME_CHARS = "bcdfghjklmnpqrstvwxz2456789";
    /** KubevirtJson's mapper, stricter where the API server's schema is: 1.5 is not an integer. */
    private static final ObjectMapper BINDER = KubevirtJson.json().copy()
            .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT);

    private ManifestLoader() {
    }

    /** Every document of a file. */
    public static List<LoadedManifest> load(Path file) throws ManifestException {
        byte[] bytes;
        try (InputStream in = Files.newInputStream(file)) {
            bytes = in.readNBytes(MAX_BYTES + 1);
        } catch (NoSuchFileException e) {
            throw new ManifestException(file.toString(), 0, 0, "cannot read: no such file", e);
        } catch (AccessDeniedException e) {
            throw new ManifestException(file.toString(), 0, 0, "cannot read: permission denied", e);
        } catch (IOException e) {
            throw new ManifestException(file.toString(), 0, 0, "cannot read: " + e.getMessage(), e);
        }
        if (bytes.length > MAX_BYTES) {
            throw tooLarge(file.toString());
        }
        return loadString(utf8(bytes, file.toString()), file.toString());
    }

    /** Every document of {@code text}; {@code sourceName} names it in messages. */
    public static List<LoadedManifest> loadString(String text, String sourceName) throws ManifestException {
        if (utf8Length(text) > MAX_BYTES) {
            throw tooLarge(sourceName);
        }
        if (text.startsWith("\uFEFF")) {
            text = text.substring(1);
        }
        List<TreeReader.Doc> docs = TreeReader.read(text, sourceName);
        List<LoadedManifest> out = new ArrayList<>();
        for (TreeReader.Doc doc : docs) {
            out.add(bind(doc, out.size(), sourceName, text));
        }
        if (out.isEmpty()) {
            throw new ManifestException(sourceName, 0, 0, "no document: expected a VirtualMachine or a "
                    + "VirtualMachineInstance");
        }
        return out;
    }

    /**
     * One object already parsed (an admission request's object, an API server's answer), bound as
     * {@link #loadString} binds each document: the same checks of kind and apiVersion, the same refusals in
     * qvirt's words with the field path (no line: there is no text). The size and parse bounds are the
     * caller's, who parsed it.
     */
    public static LoadedManifest fromTree(JsonNode object, String sourceName) throws ManifestException {
        return bind(new TreeReader.Doc(object, 0, 0, -1), 0, sourceName, null);
    }

    private static ManifestException tooLarge(String source) {
        return new ManifestException(source, 0, 0, "larger than " + MAX_BYTES + " bytes (3 MiB, the API server's "
                + "request limit); refused before reading");
    }

    private static long utf8Length(String text) {
        if (text.length() > MAX_BYTES) {
            return text.length();
        }
        long n = 0;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            n += c < 0x80 ? 1 : c < 0x800 ? 2 : Character.isSurrogate(c) ? 2 : 3;
        }
        return n;
    }

    /** Strict UTF-8, as Kubernetes requires; a bad byte is refused with its line. */
    private static String utf8(byte[] bytes, String source) throws ManifestException {
        CharsetDecoder d = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer out = CharBuffer.allocate(bytes.length);
        CoderResult r = d.decode(in, out, true);
        if (!r.isError()) {
            r = d.flush(out);
        }
        if (r.isError()) {
            int line = 1;
            for (int i = 0; i < in.position(); i++) {
                if (bytes[i] == '\n') {
                    line++;
                }
            }
            throw new ManifestException(source, line, 0, "not UTF-8 text: the byte at offset " + in.position()
                    + " is not valid UTF-8");
        }
        out.flip();
        return out.toString();
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

    private static LoadedManifest bind(TreeReader.Doc doc, int index, String source, String text)
            throws ManifestException {
        String where = "document " + (index + 1);
        if (!doc.node().isObject()) {
            throw new ManifestException(source, doc.line(), doc.column(), where + " is not a mapping: expected a "
                    + EXPECTED_KINDS);
        }
        ObjectNode node = (ObjectNode) doc.node();
        JsonNode apiVersion = node.get("apiVersion");
        JsonNode kind = node.get("kind");
        if (kind == null || !kind.isTextual() || kind.asText().isEmpty()) {
            throw new ManifestException(source, doc.line(), doc.column(), where
                    + ": kind is required: expected " + EXPECTED_KINDS);
        }
        Class<? extends HasMetadata> type;
        Optional<InstancetypeResource> instancetype = InstancetypeResource.forKind(kind.asText());
        switch (kind.asText()) {
            case VirtualMachine.KIND:
                type = VirtualMachine.class;
                break;
            case VirtualMachineInstance.KIND:
                type = VirtualMachineInstance.class;
                break;
            default:
                if (instancetype.isEmpty()) {
                    throw new ManifestException(source, doc.line(), doc.column(), where + ": unknown kind '"
                            + Messages.clean(kind.asText()) + "': expected " + EXPECTED_KINDS);
                }
                type = instancetype.get().type();
        }
        String wanted = instancetype.isPresent() ? InstancetypeResource.API_VERSION : VirtualMachine.API_VERSION;
        if (apiVersion == null || !apiVersion.isTextual() || apiVersion.asText().isEmpty()) {
            throw new ManifestException(source, doc.line(), doc.column(), where + ": apiVersion is required: "
                    + "expected " + wanted);
        }
        if (instancetype.isPresent() ? !wanted.equals(apiVersion.asText())
                : !SERVED_API_VERSIONS.contains(apiVersion.asText())) {
            throw new ManifestException(source, doc.line(), doc.column(), where + ": apiVersion '"
                    + Messages.clean(apiVersion.asText()) + "' is not served for " + kind.asText() + ": expected "
                    + wanted);
        }
        HasMetadata resource;
        try {
            resource = BINDER.treeToValue(node, type);
        } catch (JsonProcessingException e) {
            String message = Messages.binding(e, node, BINDER, type);
            int[] at = locate(doc, source, text, message);
            throw new ManifestException(source, at[0], at[1], where + ": " + message, e);
        } catch (RuntimeException e) {
            // A value the model's own setters refuse; the message stays in qvirt's words.
            String path = e.getCause() instanceof JsonMappingException jm ? path(jm) : "";
            throw new ManifestException(source, doc.line(), doc.column(), where + ": "
                    + (path.isEmpty() ? "" : path + ": ") + "invalid value", e);
        }
        if (resource.getMetadata() == null) {
            resource.setMetadata(new ObjectMeta());
        }
        ObjectMeta meta = resource.getMetadata();
        boolean clusterScoped = instancetype.isPresent() && !instancetype.get().namespaced();
        if (!clusterScoped && (meta.getNamespace() == null || meta.getNamespace().isEmpty())) {
            meta.setNamespace(VmiDefaults.DEFAULT_NAMESPACE);
        }
        if ((meta.getName() == null || meta.getName().isEmpty()) && meta.getGenerateName() != null
                && !meta.getGenerateName().isEmpty()) {
            meta.setName(generateName(meta.getGenerateName()));
        }
        return new LoadedManifest(source, index, doc.line(), resource);
    }

    /**
     * A name from {@code generateName} as the API server's create makes it ({@code names.SimpleNameGenerator}):
     * the prefix, cut to 58 characters, and 5 random characters.
     */
    static String generateName(String prefix) {
        String base = prefix.length() > 58 ? prefix.substring(0, 58) : prefix;
        StringBuilder sb = new StringBuilder(base);
        ThreadLocalRandom r = ThreadLocalRandom.current();
        for (int i = 0; i < 5; i++) {
            sb.append(NAME_CHARS.charAt(r.nextInt(NAME_CHARS.length())));
        }
        return sb.toString();
    }

    /** Line and column of the field a binder message names, else of the document. */
    private static int[] locate(TreeReader.Doc doc, String source, String text, String message) {
        int colon = message.indexOf(": ");
        if (text != null && doc.ordinal() >= 0 && colon > 0) {
            int[] at = TreeReader.locate(text, source, doc.ordinal(), message.substring(0, colon));
            if (at != null) {
                return at;
            }
        }
        return new int[] {doc.line(), doc.column()};
    }

    /** {@code spec.domain.devices.disks[1].name} from path segments ({@code [1]} for list indexes). */
    static String render(List<String> parts) {
        StringBuilder sb = new StringBuilder();
        for (String s : parts) {
            if (!s.startsWith("[") && sb.length() > 0) {
                sb.append('.');
            }
            sb.append(s);
        }
        return sb.toString();
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
